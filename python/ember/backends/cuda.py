"""ember.backends.cuda: absent (ember has no CUDA); its matmul flags are settable attributes,
so `ember.backends.cuda.matmul.allow_tf32 = True` runs and changes nothing."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False

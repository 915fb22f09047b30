"""ember.onnx: ONNX export and import (issue 13). `import ember.onnx` works today so scripts that
import it at the top run; `export` is not written yet."""


def export(*args, **kwargs):
    raise NotImplementedError("ember.onnx.export is not available yet (issue 13)")

"""Summary protocol buffers that tensorboardX's helpers do not make as PyTorch does:
new-style (tensor) scalars and hparams with discrete domains."""
from __future__ import annotations

import numbers

import numpy as np

from ...tensor import Tensor


def to_numpy(value):
    """Ember tensors (detached) and array-likes as NumPy arrays; None stays None."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    return None if value is None else np.asarray(value)


def tensor_scalar(tag: str, value: float, double_precision: bool):
    """A scalar stored as a tensor of the 'scalars' plugin (PyTorch's new_style=True)."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto

    if double_precision:
        proto = TensorProto(double_val=[value], dtype="DT_DOUBLE")
    else:
        proto = TensorProto(float_val=[value], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=metadata)])


def check_hparams(hparam_dict: dict, domains) -> dict:
    """PyTorch's rules: values are numbers, strings, booleans or None; each discrete domain is
    a list of values of its hyper-parameter's type. Returns the domains ({} for None)."""
    for k, v in hparam_dict.items():
        if v is not None and not isinstance(v, (numbers.Number, str)):
            raise ValueError(f"value should be one of int, float, str, bool, or torch.Tensor "
                             f"(hparam_dict[{k!r}] is a {type(v).__name__})")
    domains = domains or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing "
                        "logged.")
    for k, values in domains.items():
        if (k not in hparam_dict or not isinstance(values, list)
                or not all(isinstance(v, type(hparam_dict[k])) for v in values)):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                            f"type as hparam_dict[{k}].")
    return domains


def hparams(hparam_dict: dict, metric_dict: dict, domains: dict):
    """The experiment, session-start and session-end summaries of the hparams plugin, the
    experiment listing each discrete domain."""
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    from tensorboardX.summary import hparams as tbx_hparams

    # PyTorch records booleans as the numbers 1.0 and 0.0 (bool is an int to it).
    hparam_dict = {k: float(v) if isinstance(v, bool) else v for k, v in hparam_dict.items()}
    experiment, start, end = tbx_hparams(hparam_dict, metric_dict)
    if domains:
        value = experiment.value[0]
        data = HParamsPluginData.FromString(value.metadata.plugin_data.content)
        for info in data.experiment.hparam_infos:
            for v in domains.get(info.name, ()):
                entry = info.domain_discrete.values.add()
                if isinstance(v, numbers.Number):
                    entry.number_value = v
                else:
                    entry.string_value = v
        value.metadata.plugin_data.content = data.SerializeToString()
    return experiment, start, end


def audio(tag: str, samples: np.ndarray, sample_rate: int):
    """One mono clip (values in [-1, 1], clipped beyond) as 16-bit PCM WAV, as PyTorch writes it."""
    import io
    import wave

    from tensorboardX.proto.summary_pb2 import Summary

    samples = np.asarray(samples).squeeze()
    if samples.ndim != 1:
        raise ValueError(f"add_audio: the clip should be 1-D (mono) after squeezing, got shape "
                         f"{samples.shape}")
    samples = (samples.clip(-1, 1) * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as buf:
        with wave.open(buf, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.tobytes())
        encoded = buf.getvalue()
    clip = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=samples.shape[-1],
                         encoded_audio_string=encoded, content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=clip)])

"""nn.TransformerEncoderLayer/Encoder, TransformerDecoderLayer/Decoder and Transformer: PyTorch
state_dicts load and give the same outputs and gradients (post-LN and pre-LN, relu/gelu/a
callable, batch_first, bias=False, masks); a float64 gradient check; the causal mask helper."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck
from torch_parity import load_torch_state, run_both

# PyTorch warns that its nested-tensor inference fast path is off for these configurations.
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
rng = np.random.default_rng(31)
D, H, FF, S, T, N = 8, 2, 12, 5, 4, 3


def randn(*shape):
    return rng.standard_normal(shape)


def causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def pad_mask(batch, length):
    m = np.zeros((batch, length), dtype=bool)
    m[1, -2:] = True
    return m


def float_pad_mask(batch, length):
    return np.where(pad_mask(batch, length), -np.inf, 0.0)


def torch_activation(torch, name):
    return {"relu": "relu", "gelu": "gelu", "silu": torch.nn.functional.silu}[name]


def ember_activation(name):
    return {"relu": "relu", "gelu": "gelu", "silu": F.silu}[name]


def build(torch, kind, ctor, activation="relu"):
    """The same layer in both libraries (dropout 0 so training-mode gradients compare)."""
    torch.manual_seed(7)
    tkw = dict(ctor, dropout=0.0, activation=torch_activation(torch, activation))
    ekw = dict(ctor, dropout=0.0, activation=ember_activation(activation), dtype=ember.float64)
    theirs = getattr(torch.nn, kind)(D, H, FF, **tkw).double()
    ours = getattr(nn, kind)(D, H, FF, **ekw)
    with torch.no_grad():
        for p in theirs.parameters():  # LayerNorm's ones/zeros become something to test
            p.add_(0.1 * torch.randn_like(p))
    load_torch_state(ours, theirs)
    return ours, theirs


LAYER_CASES = [
    ("post_ln", {}, "relu", {}),
    ("pre_ln_gelu", {"norm_first": True}, "gelu", {}),
    ("callable_activation", {}, "silu", {}),
    ("batch_first", {"batch_first": True}, "relu", {}),
    ("no_bias", {"bias": False, "layer_norm_eps": 1e-3}, "relu", {}),
    ("masks", {}, "relu", {"mask": causal(S), "padding": float_pad_mask(N, S)}),
    ("pre_ln_masks_batch_first", {"norm_first": True, "batch_first": True}, "gelu",
     {"mask": rng.random((S, S)) > 0.8, "padding": pad_mask(N, S)}),
]


def seq(length, batch_first):
    return randn(N, length, D) if batch_first else randn(length, N, D)


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_encoder_layer_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, ctor, act, masks = case
    ours, theirs = build(torch, "TransformerEncoderLayer", ctor, act)
    consts = {}
    if "mask" in masks:
        consts["src_mask"] = masks["mask"]
    if "padding" in masks:
        consts["src_key_padding_mask"] = masks["padding"]
    run_both(torch, ours, theirs, [seq(S, ctor.get("batch_first", False))], consts)


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_decoder_layer_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, ctor, act, masks = case
    ours, theirs = build(torch, "TransformerDecoderLayer", ctor, act)
    bf = ctor.get("batch_first", False)
    consts = {}
    if "mask" in masks:
        consts["tgt_mask"] = causal(T)
        consts["memory_mask"] = np.zeros((T, S))
    if "padding" in masks:
        consts["tgt_key_padding_mask"] = float_pad_mask(N, T)
        consts["memory_key_padding_mask"] = float_pad_mask(N, S)
    run_both(torch, ours, theirs, [seq(T, bf), seq(S, bf)], consts)


@pytest.mark.parametrize("ctor", [{}, {"norm_first": True, "batch_first": True}])
def test_transformer_matches_torch(ctor):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    kw = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=FF, dropout=0.0, **ctor)
    theirs = torch.nn.Transformer(**kw).double()
    ours = nn.Transformer(dtype=ember.float64, **kw)
    load_torch_state(ours, theirs)
    bf = ctor.get("batch_first", False)
    consts = {"tgt_mask": causal(T), "src_key_padding_mask": pad_mask(N, S),
              "memory_key_padding_mask": float_pad_mask(N, S)}
    run_both(torch, ours, theirs, [seq(S, bf), seq(T, bf)], consts, tol=1e-9)


def test_stacks_with_final_norm_match_torch():
    torch = pytest.importorskip("torch")
    enc_e, enc_t = build(torch, "TransformerEncoderLayer", {})
    theirs = torch.nn.TransformerEncoder(enc_t, 2, norm=torch.nn.LayerNorm(D).double(),
                                         enable_nested_tensor=False)
    ours = nn.TransformerEncoder(enc_e, 2, norm=nn.LayerNorm(D, dtype=ember.float64))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch_state(ours, theirs)
    run_both(torch, ours, theirs, [seq(S, False)], {"mask": causal(S)})
    dec_e, dec_t = build(torch, "TransformerDecoderLayer", {"norm_first": True})
    theirs = torch.nn.TransformerDecoder(dec_t, 2)
    ours = nn.TransformerDecoder(dec_e, 2)
    load_torch_state(ours, theirs)
    run_both(torch, ours, theirs, [seq(T, False), seq(S, False)], {"tgt_mask": causal(T),
                                                                   "tgt_is_causal": True})


def test_encoder_layer_eval_mode_matches_torch_without_padding():
    torch = pytest.importorskip("torch")
    ours, theirs = build(torch, "TransformerEncoderLayer", {"batch_first": True})
    ours.eval()
    theirs.eval()
    x = randn(N, S, D)
    with torch.no_grad():  # PyTorch's inference fast path
        want = theirs(torch.tensor(x)).numpy()
    with ember.no_grad():
        assert_close(ours(ember.tensor(x)), want, rtol=1e-9, atol=1e-9)


def with_parameters(module, tensors):
    """Calls module with each parameter replaced by the matching tensor (gradcheck perturbs its
    own copies of the inputs, so the parameters must enter as inputs)."""
    slots = []
    for name, _ in module.named_parameters():
        owner_name, _, leaf = name.rpartition(".")
        slots.append((module.get_submodule(owner_name) if owner_name else module, leaf))

    def call(*args, **kwargs):
        n = len(slots)
        inputs, params = args[:-n], args[-n:]
        saved = [owner._parameters[leaf] for owner, leaf in slots]
        try:
            for (owner, leaf), p in zip(slots, params):
                owner._parameters[leaf] = p
            return module(*inputs, **kwargs)
        finally:
            for (owner, leaf), p in zip(slots, saved):
                owner._parameters[leaf] = p
    return call


@pytest.mark.parametrize("kind", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_gradcheck_inputs_and_parameters(kind):
    layer = getattr(nn, kind)(4, 2, 6, dropout=0.0, norm_first=kind.startswith("TransformerE"),
                              activation="gelu", dtype=ember.float64)
    params = [ember.tensor(p.detach().numpy() + 0.3 * randn(*p.shape), requires_grad=True)
              for p in layer.parameters()]
    call = with_parameters(layer, params)
    x = ember.tensor(randn(3, 2, 4), requires_grad=True)
    # the swapped-in tensors are what the layer computes with (else gradcheck would pass on
    # zero gradients)
    bumped = [p + 1.0 if i == len(params) - 3 else p for i, p in enumerate(params)]
    if kind == "TransformerEncoderLayer":
        assert not np.allclose(call(x, *params).detach().numpy(),
                               call(x, *bumped).detach().numpy())
        mask = ember.tensor(causal(3))
        assert gradcheck(lambda *a: call(*a, src_mask=mask), (x, *params))
    else:
        memory = ember.tensor(randn(2, 2, 4), requires_grad=True)
        mask = ember.tensor(causal(3))
        assert gradcheck(lambda *a: call(*a, tgt_mask=mask), (x, memory, *params))


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    assert m.dtype == ember.float32 and tuple(m.shape) == (4, 4)
    assert_close(m, causal(4).astype(np.float32))
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype \
        == ember.float64


def test_state_dict_names_match_torch():
    torch = pytest.importorskip("torch")
    kw = dict(d_model=D, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
              dim_feedforward=FF)
    ours = {k: tuple(v.shape) for k, v in nn.Transformer(**kw).state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in torch.nn.Transformer(**kw).state_dict().items()}
    assert ours == theirs


def test_dropout_trains_and_eval_is_deterministic():
    layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.5)
    x = ember.randn(S, N, D)
    layer.eval()
    a, b = layer(x), layer(x)
    assert_close(a, b.detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), a.detach().numpy())


@pytest.mark.parametrize("make, error, text", [
    (lambda: nn.TransformerEncoderLayer(8, 3), ValueError, "divisible"),
    (lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"), RuntimeError,
     "activation should be relu/gelu, not tanh"),
    (lambda: nn.TransformerDecoderLayer(8, 2, dim_feedforward=0), ValueError,
     "dim_feedforward must be a positive integer"),
    (lambda: nn.TransformerEncoderLayer(8, 2, dropout=-0.1), ValueError, "between 0 and 1"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), -1), ValueError,
     "num_layers"),
])
def test_bad_constructor_arguments(make, error, text):
    with pytest.raises(error, match=text):
        make()


def test_transformer_checks_batch_and_feature_sizes():
    model = nn.Transformer(d_model=D, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=FF)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        model(ember.randn(S, 2, D), ember.randn(T, 3, D))
    with pytest.raises(RuntimeError, match="feature number of src and tgt"):
        model(ember.randn(S, 2, D), ember.randn(T, 2, D + 1))


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("with_norm", [False, True])
@pytest.mark.parametrize("grad", [False, True])
def test_encoder_inference_with_padding_gives_what_torch_gives(with_norm, grad):
    """PyTorch's nested-tensor path (eval, no gradients, right padding): zeros at the padded
    positions (then the final norm); with gradients enabled every position is computed."""
    torch = pytest.importorskip("torch")
    layer_e, layer_t = build(torch, "TransformerEncoderLayer", {"batch_first": True})
    norm_t = torch.nn.LayerNorm(D).double() if with_norm else None
    if with_norm:
        torch.nn.init.normal_(norm_t.bias)  # (the norm of the zeros is then its bias)
    theirs = torch.nn.TransformerEncoder(layer_t, 2, norm=norm_t).eval()
    ours = nn.TransformerEncoder(layer_e, 2, norm=nn.LayerNorm(D, dtype=ember.float64)
                                 if with_norm else None).eval()
    load_torch_state(ours, theirs)
    x, pad = randn(N, S, D), pad_mask(N, S)
    with torch.set_grad_enabled(grad):
        want = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).detach().numpy()
    with ember.set_grad_enabled(grad):
        got = ours(ember.tensor(x), src_key_padding_mask=ember.tensor(pad))
    assert_close(got.detach().numpy(), want, rtol=1e-9, atol=1e-9)
    assert (np.abs(want[1, -2:]).max() == 0) == (not grad and not with_norm)

"""The last internal exceptions tools/error_campaign.py found (issue 11): each family of bad
calls now raises one of ember's error kinds naming the op, the argument and the value, never an
OverflowError, AttributeError, KeyError, NumPy error or a pybind11 signature dump."""
import re

import numpy as np
import pytest

import ember
from ember import keras as ek

INTERNAL_TEXT = ("incompatible function arguments", "_core")


def _refused(call, kinds=(ValueError, TypeError, IndexError, RuntimeError)):
    """The exception ``call`` raises, after checking it is a public kind with a clean message."""
    with pytest.raises(kinds) as info:
        call()
    assert not type(info.value).__module__.startswith("numpy"), type(info.value)
    assert not any(text in str(info.value) for text in INTERNAL_TEXT), str(info.value)
    return info.value


def test_asgd_whose_step_size_overflows_names_alpha_and_changes_nothing():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.ones(3)
    opt = ember.optim.ASGD([p], alpha=2**62)
    err = _refused(opt.step, ValueError)
    assert re.search(r"ASGD: .*alpha=4611686018427387904", str(err)), str(err)
    np.testing.assert_array_equal(p.detach().numpy(), np.ones(3))
    assert opt.state[p]["step"].item() == 0


def test_asgd_with_ordinary_values_still_matches_torch():
    torch = pytest.importorskip("torch")
    start = np.random.RandomState(0).rand(4).astype(np.float32)
    ours = ember.nn.Parameter(ember.from_numpy(start.copy()))
    theirs = torch.nn.Parameter(torch.from_numpy(start.copy()))
    opt_ours = ember.optim.ASGD([ours], lr=0.1, lambd=0.5, alpha=3.0, t0=1)
    opt_theirs = torch.optim.ASGD([theirs], lr=0.1, lambd=0.5, alpha=3.0, t0=1)
    for _ in range(4):
        ours.grad = ember.from_numpy(start * 2)
        theirs.grad = torch.from_numpy(start * 2)
        opt_ours.step()
        opt_theirs.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("argument", ["mask_token", "oov_token"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 2**64, "abc", [1]])
def test_integer_lookup_tokens_that_are_no_int64_are_refused_naming_them(argument, value):
    err = _refused(lambda: ek.layers.IntegerLookup(**{argument: value}), ValueError)
    assert f"IntegerLookup: `{argument}` must be an int64 integer" in str(err)


def test_integer_lookup_accepts_integer_valued_tokens():
    layer = ek.layers.IntegerLookup(vocabulary=[5, 7], mask_token=0.0, oov_token=-1)
    assert layer.get_config()["mask_token"] == 0
    np.testing.assert_array_equal(layer(np.array([[7, 0, 5, 9]])).numpy(), [[3, 0, 2, 1]])


@pytest.mark.parametrize("make", [
    lambda layer: ember.nn.TransformerEncoder(layer, 2**62),
    lambda layer: ember.nn.TransformerEncoder(layer, 2**17),
    lambda layer: ember.nn.Transformer(d_model=4, nhead=2, dim_feedforward=8,
                                       num_encoder_layers=2**62),
    lambda layer: ember.nn.Transformer(d_model=4, nhead=2, dim_feedforward=8,
                                       num_decoder_layers=2**40),
], ids=["encoder-2**62", "encoder-2**17", "transformer-encoder", "transformer-decoder"])
def test_absurd_transformer_depths_are_refused_before_copying(make):
    """(Each deep copy took ~1 ms: these constructors looped for hours.)"""
    layer = ember.nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8)
    err = _refused(lambda: make(layer), (ValueError, MemoryError))
    assert "num_layers=" in str(err) and "Transformer" in str(err), str(err)


def test_a_modest_transformer_depth_still_builds_independent_copies():
    layer = ember.nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8)
    encoder = ember.nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    assert len(encoder.layers) == 3
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight


@pytest.mark.parametrize("cls, argument", [("TransformerEncoder", "encoder_layer"),
                                           ("TransformerDecoder", "decoder_layer")])
@pytest.mark.parametrize("value", [None, "abc", 3])
def test_a_transformer_stack_of_no_module_is_a_type_error_naming_it(cls, argument, value):
    err = _refused(lambda: getattr(ember.nn, cls)(value, 2), TypeError)
    assert f"{cls}: {argument} must be an nn.Module" in str(err)
    assert type(value).__name__ in str(err)


@pytest.mark.parametrize("seed", [float("inf"), float("nan"), 1.5, "abc"])
def test_keras_attention_seed_is_checked_as_keras_checks_seeds(seed):
    err = _refused(lambda: ek.layers.Attention(dropout=0.5, seed=seed), ValueError)
    assert "Argument `seed` must be an integer" in str(err)


def test_text_vectorization_with_huge_ngrams_costs_only_the_document():
    """(ngrams=2**62 built a tuple of 2**62 sizes: MemoryError, or hours.)"""
    huge = ek.layers.TextVectorization(ngrams=2**62, output_mode="multi_hot", max_tokens=50)
    small = ek.layers.TextVectorization(ngrams=3, output_mode="multi_hot", max_tokens=50)
    data = np.array(["the cat sat", "a dog"])
    for layer in (huge, small):
        layer.adapt(data)
    assert huge.get_vocabulary() == small.get_vocabulary()
    np.testing.assert_array_equal(huge(data).numpy(), small(data).numpy())
    assert huge.get_config()["ngrams"] == 2**62


@pytest.mark.parametrize("module, names", [
    ("ember", ["wrap_public_functions"]),
    ("ember.nn.functional", ["check_alloc", "wrap_public_functions"]),
    ("ember.linalg", ["wrap_public_functions", "wrap_dim", "numpy_names", "reduction_axes",
                      "SingularValues", "VectorNorm"]),
])
def test_internal_helpers_are_not_public_names(module, names):
    """(The campaign called F.check_alloc as if it were an op: helpers imported under public
    names become part of the namespace PyTorch's users see.)"""
    import importlib
    namespace = importlib.import_module(module)
    assert [n for n in names if hasattr(namespace, n)] == []


def _weight():
    return ember.nn.Parameter(ember.randn(3, 4))


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
                                  "zeros_", "eye_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "orthogonal_"])
def test_nn_init_of_no_tensor_names_the_function_and_argument(name):
    args = (0.5,) if name == "constant_" else ()
    err = _refused(lambda: getattr(ember.nn.init, name)(None, *args), TypeError)
    assert f"{name}(): argument 'tensor' (position 1) must be Tensor, not NoneType" in str(err)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("mode", [None, 3, "fan_sideways"])
def test_nn_init_mode_must_be_fan_in_or_fan_out(name, mode):
    err = _refused(lambda: getattr(ember.nn.init, name)(_weight(), mode=mode), ValueError)
    assert f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']" in str(err)
    w = getattr(ember.nn.init, name)(_weight(), mode="FAN_OUT")  # (any case, as PyTorch)
    assert np.isfinite(w.detach().numpy()).all()


@pytest.mark.parametrize("call, message", [
    (lambda: ember.nn.init.xavier_uniform_(_weight(), gain=float("nan")),
     "uniform_ expects finite from and to, but found from=nan, to=nan"),
    (lambda: ember.nn.init.uniform_(_weight(), a=0.0, b=float("inf")),
     "uniform_ expects finite from and to"),
    (lambda: ember.nn.init.normal_(_weight(), std=float("nan")),
     "normal_ expects std >= 0.0, but found std nan"),
    (lambda: ember.ones(3).uniform_(float("-inf"), 0.0), "uniform_ expects finite from and to"),
], ids=["xavier-gain-nan", "uniform-inf", "normal-std-nan", "Tensor.uniform_-inf"])
def test_random_fills_refuse_non_finite_bounds(call, message):
    """(NumPy's uniform raised an OverflowError on NaN bounds; normal filled NaNs silently.)"""
    err = _refused(call, RuntimeError)
    assert message in str(err)


def test_nn_init_gain_of_the_wrong_type_is_a_type_error():
    err = _refused(lambda: ember.nn.init.orthogonal_(_weight(), gain="abc"), TypeError)
    assert str(err).startswith("orthogonal_(): invalid arguments")


@pytest.mark.parametrize("call, name", [
    (lambda: ember.nn.utils.weight_norm(None), "weight_norm"),
    (lambda: ember.nn.utils.remove_weight_norm(None), "remove_weight_norm"),
    (lambda: ember.nn.utils.clip_grad_norm_("abc", 1.0), "clip_grad_norm_"),
    (lambda: ember.nn.utils.clip_grad_value_("abc", 1.0), "clip_grad_value_"),
    (lambda: ember.nn.utils.get_total_norm("abc"), "get_total_norm"),
    (lambda: ember.nn.utils.parameters_to_vector("abc"), "parameters_to_vector"),
    (lambda: ember.nn.utils.vector_to_parameters(ember.ones(3), "abc"), "vector_to_parameters"),
    (lambda: ember.nn.utils.rnn.pack_sequence("abc"), "pack_sequence"),
], ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")
def test_nn_utils_name_themselves_instead_of_an_attribute_error(call, name):
    err = _refused(call, TypeError)
    assert str(err).startswith(f"{name}(): "), str(err)


def _sgd():
    return ember.optim.SGD([_weight()], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda opt: ember.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9),
    lambda opt: ember.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9),
    lambda opt: ember.optim.lr_scheduler.StepLR(opt, 2),
], ids=["LambdaLR", "MultiplicativeLR", "StepLR"])
def test_a_scheduler_of_no_optimizer_is_pytorchs_type_error(make):
    err = _refused(lambda: make(None), TypeError)
    assert str(err) == "NoneType is not an Optimizer"


@pytest.mark.parametrize("make, message", [
    (lambda opt: ember.optim.lr_scheduler.StepLR(opt, step_size=0),
     "StepLR: step_size must be a positive number, got step_size=0"),
    (lambda opt: ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=0),
     "CosineAnnealingLR: T_max must be a positive number, got T_max=0"),
    (lambda opt: ember.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=-3),
     "CyclicLR: step_size_up must be a positive number, got step_size_up=-3"),
    (lambda opt: ember.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_down=float("inf")),
     "CyclicLR: step_size_down must be a positive number, got step_size_down=inf"),
], ids=["StepLR", "CosineAnnealingLR", "CyclicLR-up", "CyclicLR-down"])
def test_scheduler_periods_are_checked_when_given_not_at_the_first_step(make, message):
    """(They broke step() later with a ZeroDivisionError.)"""
    opt = _sgd()
    err = _refused(lambda: make(opt), ValueError)
    assert str(err) == message
    assert "initial_lr" not in opt.param_groups[0] or make is None  # (nothing half-set)


@pytest.mark.parametrize("last_epoch", [float("inf"), 1.5, None, "abc"])
def test_scheduler_last_epoch_must_be_an_int(last_epoch):
    for make in (lambda o: ember.optim.lr_scheduler.StepLR(o, 2, last_epoch=last_epoch),
                 lambda o: ember.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1,
                                                             last_epoch=last_epoch)):
        err = _refused(lambda: make(_sgd()), TypeError)
        assert "last_epoch must be an int" in str(err)


def test_resuming_without_initial_lr_is_pytorchs_key_error_and_a_value_error():
    opt = _sgd()
    with pytest.raises(KeyError, match="initial_lr"):
        ember.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3)
    with pytest.raises(ValueError, match="initial_lr"):
        ember.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3)


@pytest.mark.parametrize("call, name", [
    (lambda: ek.ops.eye(float("inf")), "eye"),
    (lambda: ek.ops.one_hot(ember.tensor([0, 1]), float("inf")), "one_hot"),
    (lambda: ek.ops.top_k(ember.ones(2, 3), float("inf")), "top_k"),
    (lambda: ek.ops.round(ember.ones(3), decimals=2**62), "round"),
    (lambda: ek.ops.in_top_k((), ember.ones(2, 3), 1), "in_top_k"),
], ids=["eye", "one_hot", "top_k", "round", "in_top_k"])
def test_keras_ops_name_the_op_instead_of_overflow_or_axis_errors(call, name):
    err = _refused(call)
    assert str(err).startswith(f"{name}(): "), str(err)


@pytest.mark.parametrize("method, argument", [("cauchy_", "median"), ("normal_", "mean"),
                                              ("log_normal_", "mean")])
def test_random_fills_name_a_location_that_is_no_number(method, argument):
    err = _refused(lambda: getattr(ember.ones(3), method)(**{argument: "abc"}), TypeError)
    assert str(err) == f"{method}(): argument '{argument}' must be a number, not str"


def _hot_functions():
    """(namespace, name) of the public functions _public_errors leaves unwrapped for speed."""
    import ember.nn.functional as F
    from ember._public_errors import HOT
    return [(ns, name) for ns in (ember, F) for name in sorted(HOT)
            if callable(getattr(ns, name, None))
            and not getattr(getattr(ns, name), "_public_errors", False)]


@pytest.mark.parametrize("namespace, name", _hot_functions(),
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_the_unwrapped_hot_functions_validate_every_argument_themselves(namespace, name):
    """The exemption list is safe only while these ops check their own arguments: each
    argument in turn gets None, a string, an object, a nested list with a string and 2**70."""
    import inspect
    if name in ("save", "load", "set_num_threads"):
        pytest.skip("files and global state: their own tests (test_serialization, ...)")
    fn = getattr(namespace, name)
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    base = {p.name: (ember.randn(2, 3) if p.default is p.empty else p.default) for p in params}
    calls = 0
    for p in params:
        for bad in (None, "abc", object(), [1, "a"], 2**70):
            args = dict(base, **{p.name: bad})
            positional = [args.pop(q.name) for q in params if q.kind == q.POSITIONAL_ONLY]
            try:
                fn(*positional, **args)
            except (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError) as e:
                assert not any(t in str(e) for t in INTERNAL_TEXT), (p.name, bad, str(e))
            calls += 1
    assert calls == 5 * len(params)

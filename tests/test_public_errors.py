"""Bad arguments to public functions raise PyTorch's error kinds naming the function and the
argument, never an internal exception (AttributeError, NumPy's AxisError/UFuncTypeError,
OverflowError) or pybind11's signature dump of private `_core` functions (issue 11)."""
import pickle
import re

import numpy as np
import pytest

import ember
import ember.nn.functional as F

INDEX = ember.zeros(1, dtype=ember.int64)
NONE_INPUT = {  # name -> the call with None as its tensor argument
    "cumsum": lambda m: m.cumsum(None, 0), "argsort": lambda m: m.argsort(None),
    "flatten": lambda m: m.flatten(None), "gather": lambda m: m.gather(None, 0, INDEX_OF[m]),
    "index_select": lambda m: m.index_select(None, 0, INDEX_OF[m]),
    "count_nonzero": lambda m: m.count_nonzero(None), "nansum": lambda m: m.nansum(None),
    "kthvalue": lambda m: m.kthvalue(None, 1), "median": lambda m: m.median(None),
    "ones_like": lambda m: m.ones_like(None), "prod": lambda m: m.prod(None),
    "cummax": lambda m: m.cummax(None, 0), "msort": lambda m: m.msort(None),
    "addmv": lambda m: m.addmv(m.ones(2), None, m.ones(2)),
    "outer": lambda m: m.outer(None, m.ones(2)),
    "cat": lambda m: m.cat([None, m.ones(2)]),
}
INDEX_OF = {ember: INDEX}


@pytest.mark.parametrize("name", sorted(NONE_INPUT))
def test_a_none_tensor_argument_raises_a_type_error_naming_it(name):
    named = "element 0 in argument 0" if name == "cat" else f"{name}()"
    with pytest.raises(TypeError, match=re.escape(named)) as info:
        NONE_INPUT[name](ember)
    assert "NoneType" in str(info.value) and "object has no attribute" not in str(info.value)


@pytest.mark.parametrize("name", ["cumsum", "argsort", "flatten", "gather", "index_select",
                                  "count_nonzero", "nansum", "kthvalue", "median", "ones_like",
                                  "prod", "cummax", "msort"])
def test_the_message_is_pytorchs(name):
    expected = f"{name}(): argument 'input' (position 1) must be Tensor, not NoneType"
    with pytest.raises(TypeError, match=re.escape(expected)):
        NONE_INPUT[name](ember)
    torch = pytest.importorskip("torch")
    INDEX_OF[torch] = torch.zeros(1, dtype=torch.int64)
    with pytest.raises(TypeError, match=re.escape(expected)):
        NONE_INPUT[name](torch)


@pytest.mark.parametrize("call", [
    lambda: ember.acos(None), lambda: ember.sin("abc"), lambda: ember.abs("abc"),
    lambda: ember.add(ember.ones(2), [1, "a"]), lambda: ember.add(ember.ones(2), None),
    lambda: ember.log_softmax(ember.ones(2), None), lambda: F.softmax(ember.ones(2), "x"),
    lambda: ember.addbmm(None, ember.ones(1, 2, 2), ember.ones(1, 2, 2)),
    lambda: ember.searchsorted(ember.ones(3), ember.ones(2), sorter="abc"),
], ids=["acos-None", "sin-str", "abs-str", "add-str-list", "add-None", "log_softmax-dim-None",
        "F.softmax-dim-str", "addbmm-None", "searchsorted-sorter-str"])
def test_no_internal_exception_or_pybind_signature_escapes(call):
    with pytest.raises((TypeError, ValueError, IndexError, RuntimeError)) as info:
        call()
    assert not type(info.value).__module__.startswith("numpy"), type(info.value)
    assert type(info.value).__name__ != "AttributeError"
    assert "incompatible function arguments" not in str(info.value)
    assert "_core" not in str(info.value)


def test_a_huge_tile_is_refused_instead_of_crashing():
    """np.tile's size arithmetic overflowed and the interpreter died (SIGSEGV)."""
    with pytest.raises(RuntimeError, match=r"repeat: the result of shape \(9223372036854775808,\) "
                                           r"from shape \(2,\) is larger than any tensor"):
        ember.tile(ember.ones(2), 2**62)
    with pytest.raises(RuntimeError, match="larger than any tensor"):
        ember.ones(2).repeat(2**62, 2)


def test_numpys_axis_error_becomes_pytorchs_dimension_message():
    with pytest.raises(IndexError, match=re.escape(
            "Dimension out of range (expected to be in range of [-1, 0], but got 3)")):
        ember.argmax(ember.ones(2), 3)


def test_wrapped_functions_keep_their_name_signature_and_pickle_identity():
    import inspect
    assert ember.cumsum.__name__ == "cumsum"
    assert list(inspect.signature(ember.cumsum).parameters)[:2] == ["input", "dim"]
    assert pickle.loads(pickle.dumps(ember.cumsum)) is ember.cumsum
    assert pickle.loads(pickle.dumps(F.one_hot)) is F.one_hot
    np.testing.assert_array_equal(ember.cumsum(ember.ones(3), 0).numpy(), [1, 2, 3])


def test_ember_errors_pass_through_unchanged():
    with pytest.raises(IndexError, match=re.escape("Dimension out of range (expected to be in "
                                                   "range of [-1, 0], but got 5)")):
        ember.cumsum(ember.ones(2), 5)


@pytest.mark.parametrize("method", ["view_as", "reshape_as", "expand_as", "type_as",
                                    "is_same_size"])
@pytest.mark.parametrize("other", [None, 3, "abc"])
def test_tensor_methods_taking_another_tensor_name_it(method, other):
    expected = (f"{method}(): argument 'other' (position 1) must be Tensor, not "
                f"{type(other).__name__}")
    with pytest.raises(TypeError, match=re.escape(expected)):
        getattr(ember.ones(2), method)(other)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=re.escape(expected)):
        getattr(torch.ones(2), method)(other)


def test_a_setting_the_kernel_binding_refuses_is_named_not_dumped():
    # (An output size past int64 is now refused in Python before the binding, naming it.)
    layer = ember.nn.ConvTranspose2d(1, 1, 2, stride=2**62)
    with pytest.raises(ValueError) as info:
        layer(ember.ones(1, 1, 3, 3))
    assert str(info.value).startswith("conv_transpose2d: the output size is out of range")
    assert "incompatible function arguments" not in str(info.value)

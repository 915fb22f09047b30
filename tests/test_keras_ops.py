"""keras.ops on ember: the same results and dtypes as real Keras 3's ops (torch backend) on the
same inputs, NumPy references, float64 gradient checks of the differentiable ops, Keras'
signatures, clear errors, and a custom layer and loss written with keras.ops that train."""
import inspect
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import ops
from ember.testing import gradcheck
from keras_reference import real_keras, to_numpy

R = np.random.default_rng(0)
A = R.standard_normal((3, 4)).astype(np.float32)
B = R.standard_normal((4, 5)).astype(np.float32)
C = R.standard_normal((2, 3, 4)).astype(np.float32)
POS = (R.random((3, 4)) + 0.5).astype(np.float32)
PROB = (R.random((3, 4)) + 0.1).astype(np.float32)
INT = R.integers(-3, 6, (3, 4)).astype(np.int32)
LABELS = np.array([0, 3, 1], dtype=np.int32)
ONEHOT = np.eye(4, dtype=np.float32)[LABELS]
BIN = (R.random((3, 4)) > 0.5).astype(np.float32)
MASK = A > 0
Q = R.standard_normal((2, 5, 4, 3)).astype(np.float32)  # (batch, steps, heads, depth)
KV = R.standard_normal((2, 6, 4, 3)).astype(np.float32)
KV2 = R.standard_normal((2, 6, 2, 3)).astype(np.float32)  # two key/value heads
ATT_MASK = R.random((2, 4, 5, 6)) > 0.3
ATT_MASK[..., 0] = True  # no fully masked row (its gradient is lost to the large negative)

# (id, op name, positional args, keyword args): each run through ember's and Keras' ops.
CASES = [
    ("add", "add", (A, POS), {}), ("add_scalar", "add", (A, 2.5), {}),
    ("add_int_float", "add", (INT, 0.5), {}), ("subtract", "subtract", (A, POS), {}),
    ("multiply", "multiply", (A, POS), {}), ("divide", "divide", (A, POS), {}),
    ("divide_ints", "divide", (INT, 2), {}), ("true_divide", "true_divide", (A, 3.0), {}),
    ("divide_no_nan", "divide_no_nan", (A, A * (A > 0)), {}),
    ("floor_divide", "floor_divide", (INT, 2), {}), ("mod", "mod", (INT, 4), {}),
    ("power", "power", (POS, 1.7), {}), ("negative", "negative", (A,), {}),
    ("abs", "abs", (A,), {}), ("absolute", "absolute", (INT,), {}),
    ("square", "square", (A,), {}), ("sqrt", "sqrt", (POS,), {}),
    ("sqrt_int", "sqrt", (np.abs(INT),), {}), ("exp", "exp", (A,), {}),
    ("expm1", "expm1", (A,), {}), ("log", "log", (POS,), {}), ("log1p", "log1p", (POS,), {}),
    ("log2", "log2", (POS,), {}), ("log10", "log10", (POS,), {}),
    ("logaddexp", "logaddexp", (A, POS), {}), ("reciprocal", "reciprocal", (POS,), {}),
    ("sign", "sign", (A,), {}), ("floor", "floor", (A * 3,), {}), ("ceil", "ceil", (A * 3,), {}),
    ("round", "round", (A * 3,), {}), ("round_2", "round", (A * 3,), {"decimals": 2}),
    ("trunc", "trunc", (A * 3,), {}),
    ("clip", "clip", (A, -0.5, 0.5), {}), ("maximum", "maximum", (A, POS), {}),
    ("maximum_scalar", "maximum", (A, 0.0), {}), ("minimum", "minimum", (A, POS), {}),
    ("nan_to_num", "nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0], np.float32),), {}),
    ("sin", "sin", (A,), {}), ("cos", "cos", (A,), {}), ("tan", "tan", (A,), {}),
    ("arctan", "arctan", (A,), {}), ("arcsin", "arcsin", (A / 3,), {}),
    ("arccos", "arccos", (A / 3,), {}), ("sinh", "sinh", (A,), {}), ("cosh", "cosh", (A,), {}),
    ("tanh", "tanh", (A,), {}), ("arctan2", "arctan2", (A, POS), {}),
    ("equal", "equal", (INT, 2), {}), ("not_equal", "not_equal", (INT, INT * 0 + 2), {}),
    ("greater", "greater", (A, 0.0), {}), ("greater_equal", "greater_equal", (A, POS), {}),
    ("less", "less", (A, POS), {}), ("less_equal", "less_equal", (INT, 1), {}),
    ("logical_and", "logical_and", (MASK, A > -0.5), {}),
    ("logical_or", "logical_or", (MASK, A > 0.5), {}),
    ("logical_xor", "logical_xor", (MASK, A > 0.5), {}),
    ("logical_not", "logical_not", (MASK,), {}),
    ("isnan", "isnan", (np.array([np.nan, 1.0, np.inf], np.float32),), {}),
    ("isinf", "isinf", (np.array([np.nan, 1.0, np.inf], np.float32),), {}),
    ("isfinite", "isfinite", (np.array([np.nan, 1.0, np.inf], np.float32),), {}),
    ("isclose", "isclose", (A, A + 1e-9), {}), ("allclose", "allclose", (A, A + 1e-3), {}),
    ("where", "where", (MASK, A, POS), {}), ("where_scalars", "where", (MASK, A, 0.0), {}),
    ("where_int_float", "where", (MASK, INT, 0.5), {}),
    ("select", "select", ([A > 0.5, A < -0.5], [A, -A]), {"default": 0.0}),
    ("sum", "sum", (A,), {}), ("sum_axis", "sum", (C,), {"axis": (0, 2), "keepdims": True}),
    ("sum_int", "sum", (INT,), {"axis": 1}), ("mean", "mean", (C,), {"axis": -1}),
    ("mean_int", "mean", (INT,), {}), ("max", "max", (C,), {"axis": 1}),
    ("max_initial", "max", (A,), {"axis": 0, "initial": 0.5}),
    ("min", "min", (C,), {"axis": (1, 2)}), ("amax", "amax", (A,), {"axis": 0}),
    ("amin", "amin", (A,), {}), ("prod", "prod", (POS,), {"axis": 1}),
    ("prod_all", "prod", (POS,), {}), ("std", "std", (C,), {"axis": 1}),
    ("var", "var", (A,), {}), ("var_keep", "var", (C,), {"axis": (0, 1), "keepdims": True}),
    ("all", "all", (MASK,), {"axis": 0}), ("any", "any", (MASK,), {"axis": 1}),
    ("average", "average", (C,), {"axis": -1, "weights": POS[0]}),
    ("argmax", "argmax", (C,), {"axis": -1}), ("argmax_all", "argmax", (A,), {}),
    ("argmin", "argmin", (C,), {"axis": 1, "keepdims": True}),
    ("argsort", "argsort", (A,), {}), ("argsort_axis0", "argsort", (A,), {"axis": 0}),
    ("sort", "sort", (A,), {"axis": 0}), ("cumsum", "cumsum", (A,), {"axis": 1}),
    ("cumsum_flat", "cumsum", (A,), {}), ("cumprod", "cumprod", (POS,), {"axis": 0}),
    ("trace", "trace", (A,), {}), ("matmul", "matmul", (A, B), {}),
    ("matmul_batched", "matmul", (C, B), {}), ("matmul_vec", "matmul", (A, B[:, 0]), {}),
    ("dot", "dot", (A, B), {}), ("dot_nd", "dot", (C, B), {}), ("dot_vec", "dot", (A, B[:, 0]),
                                                                 {}),
    ("tensordot", "tensordot", (C, B), {"axes": 1}),
    ("tensordot_pairs", "tensordot", (C, A), {"axes": ([1, 2], [0, 1])}),
    ("einsum", "einsum", ("bij,jk->bik", C, B), {}), ("outer", "outer", (A[0], B[0]), {}),
    ("inner", "inner", (A, A), {}), ("vdot", "vdot", (A[0], POS[0]), {}),
    ("reshape", "reshape", (C,), {"newshape": (4, -1)}), ("ravel", "ravel", (A,), {}),
    ("expand_dims", "expand_dims", (A,), {"axis": -1}),
    ("expand_dims_2", "expand_dims", (A,), {"axis": (0, 2)}),
    ("squeeze", "squeeze", (A[:, None, :1],), {}),
    ("squeeze_axis", "squeeze", (A[:, None],), {"axis": 1}),
    ("transpose", "transpose", (C,), {}), ("transpose_axes", "transpose", (C, (1, 0, 2)), {}),
    ("swapaxes", "swapaxes", (C, 0, 2), {}), ("moveaxis", "moveaxis", (C, 0, -1), {}),
    ("broadcast_to", "broadcast_to", (A[0], (2, 3, 4)), {}), ("flip", "flip", (C,), {"axis": 1}),
    ("flip_all", "flip", (A,), {}), ("roll", "roll", (A, 2), {"axis": 1}),
    ("roll_flat", "roll", (A, -3), {}), ("tril", "tril", (A,), {"k": 1}),
    ("triu", "triu", (A,), {}), ("diag", "diag", (A[0],), {}), ("diag_of", "diag", (A,),
                                                                {"k": 1}),
    ("concatenate", "concatenate", ([A, POS],), {"axis": 1}),
    ("stack", "stack", ([A, POS],), {"axis": -1}), ("hstack", "hstack", ([A, POS],), {}),
    ("vstack", "vstack", ([A, POS],), {}), ("split", "split", (C, 2), {"axis": 2}),
    ("split_indices", "split", (A, [1, 3]), {"axis": 1}), ("tile", "tile", (A, (2, 1)), {}),
    ("tile_more", "tile", (A[0], (2, 2)), {}), ("repeat", "repeat", (A, 2), {"axis": 0}),
    ("repeat_flat", "repeat", (A, 2), {}),
    ("pad", "pad", (A, ((1, 0), (2, 1))), {}),
    ("pad_value", "pad", (C, ((0, 0), (1, 1), (0, 2))), {"constant_values": 1.5}),
    ("pad_reflect", "pad", (C, ((0, 0), (1, 1), (2, 1))), {"mode": "reflect"}),
    ("take", "take", (A, np.array([[0, 2], [-1, 1]])), {"axis": 1}),
    ("take_flat", "take", (A, np.array([0, 5, 11])), {}),
    ("take_along_axis", "take_along_axis", (A, np.argsort(A, axis=1)[:, :2]), {"axis": 1}),
    ("take_along_axis_0", "take_along_axis", (A, np.array([[2, 0, 1, 1]])), {"axis": 0}),
    ("slice", "slice", (C, (0, 1, 1), (2, 2, 2)), {}),
    ("slice_update", "slice_update", (A, (1, 1), np.ones((2, 2), np.float32)), {}),
    ("zeros", "zeros", ((2, 3),), {}), ("ones_int", "ones", ((2,),), {"dtype": "int32"}),
    ("full", "full", ((2, 2), 3.5), {}), ("full_int", "full", ((2, 2), 3), {}),
    ("zeros_like", "zeros_like", (INT,), {}), ("ones_like", "ones_like", (A,),
                                               {"dtype": "float64"}),
    ("full_like", "full_like", (A, 2), {}),
    ("arange", "arange", (5,), {}), ("arange_float", "arange", (0.5, 3.0, 0.5), {}),
    ("linspace", "linspace", (0.0, 1.0, 7), {}),
    ("linspace_open", "linspace", (-1.0, 1.0), {"num": 4, "endpoint": False}),
    ("eye", "eye", (3, 4), {"k": 1}), ("identity", "identity", (3,), {}),
    ("meshgrid", "meshgrid", (A[0], B[0]), {"indexing": "ij"}),
    ("cast", "cast", (A * 3, "int32"), {}), ("convert_to_tensor", "convert_to_tensor",
                                             ([1, 2, 3],), {}),
    ("convert_float_list", "convert_to_tensor", ([1.5, 2.0],), {}),
    ("convert_int64_array", "convert_to_tensor", (np.arange(3),), {}),
    ("unstack", "unstack", (C,), {"axis": 1}), ("copy", "copy", (A,), {}),
    ("stop_gradient", "stop_gradient", (A,), {}),
    # nn
    ("relu", "relu", (A,), {}), ("relu6", "relu6", (A * 5,), {}),
    ("sigmoid", "sigmoid", (A,), {}), ("softplus", "softplus", (A,), {}),
    ("softsign", "softsign", (A,), {}), ("silu", "silu", (A,), {}), ("swish", "swish", (A,), {}),
    ("log_sigmoid", "log_sigmoid", (A,), {}), ("leaky_relu", "leaky_relu", (A,), {}),
    ("leaky_relu_slope", "leaky_relu", (A,), {"negative_slope": 0.1}),
    ("hard_sigmoid", "hard_sigmoid", (A * 4,), {}), ("hard_silu", "hard_silu", (A * 4,), {}),
    ("hard_swish", "hard_swish", (A * 4,), {}), ("elu", "elu", (A,), {"alpha": 0.5}),
    ("selu", "selu", (A,), {}), ("celu", "celu", (A,), {"alpha": 2.0}),
    ("glu", "glu", (A,), {}), ("hard_tanh", "hard_tanh", (A * 2,), {}),
    ("tanh_shrink", "tanh_shrink", (A,), {}), ("soft_shrink", "soft_shrink", (A,), {}),
    ("hard_shrink", "hard_shrink", (A,), {"threshold": 0.3}),
    ("threshold", "threshold", (A, 0.1, -1.0), {}), ("squareplus", "squareplus", (A,), {}),
    ("sparse_plus", "sparse_plus", (A * 2,), {}), ("gelu", "gelu", (A,), {}),
    ("gelu_exact", "gelu", (A,), {"approximate": False}), ("softmax", "softmax", (C,), {}),
    ("softmax_axis", "softmax", (C,), {"axis": 1}),
    ("softmax_axes", "softmax", (C,), {"axis": (1, 2)}),
    ("log_softmax", "log_softmax", (C,), {"axis": 0}),
    ("one_hot", "one_hot", (np.array([0, 2, -1, 1]), 3), {}),
    ("one_hot_axis", "one_hot", (np.array([[0, 2], [1, 1]]), 3), {"axis": 1}),
    ("multi_hot", "multi_hot", (np.array([[0, 2], [1, 1]]), 4), {}),
    ("categorical_crossentropy", "categorical_crossentropy", (ONEHOT, PROB), {}),
    ("categorical_crossentropy_logits", "categorical_crossentropy", (ONEHOT, A),
     {"from_logits": True}),
    ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", (LABELS, PROB), {}),
    ("sparse_categorical_crossentropy_logits", "sparse_categorical_crossentropy",
     (LABELS, A), {"from_logits": True}),
    ("binary_crossentropy", "binary_crossentropy", (BIN, PROB / 2), {}),
    ("binary_crossentropy_logits", "binary_crossentropy", (BIN, A), {"from_logits": True}),
    ("moments", "moments", (C,), {"axes": (0, 1)}),
    ("moments_keep", "moments", (C,), {"axes": [2], "keepdims": True}),
    ("normalize", "normalize", (A,), {}), ("normalize_l1", "normalize", (A,),
                                           {"axis": 0, "order": 1}),
    ("batch_normalization", "batch_normalization", (C, POS[0], PROB[0], -1),
     {"offset": A[0], "scale": POS[1]}),
    ("batch_normalization_axis1", "batch_normalization", (C, A[0, :3], POS[0, :3], 1), {}),
    ("layer_normalization", "layer_normalization", (C,), {"gamma": POS[0], "beta": A[0]}),
    ("layer_normalization_axes", "layer_normalization", (C,), {"axis": (1, 2),
                                                               "epsilon": 1e-3}),
    ("rms_normalization", "rms_normalization", (C,), {"scale": POS[0]}),
    ("dot_product_attention", "dot_product_attention", (Q, KV, KV), {}),
    ("dot_product_attention_mask", "dot_product_attention", (Q, KV, KV), {"mask": ATT_MASK}),
    ("dot_product_attention_causal", "dot_product_attention", (Q, Q, Q), {"is_causal": True}),
    ("dot_product_attention_bias", "dot_product_attention", (Q, KV, KV),
     {"bias": (ATT_MASK * 0.5).astype(np.float32), "scale": 0.3}),
    ("dot_product_attention_grouped", "dot_product_attention", (Q, KV2, KV2), {}),
    ("cbrt", "cbrt", (A,), {}), ("deg2rad", "deg2rad", (A,), {}),
    ("rad2deg", "rad2deg", (A,), {}), ("exp2", "exp2", (A,), {}), ("hypot", "hypot", (A, POS), {}),
    ("logaddexp2", "logaddexp2", (A, POS), {}), ("fmod", "fmod", (INT, 3), {}),
    ("signbit", "signbit", (A,), {}), ("fliplr", "fliplr", (A,), {}),
    ("flipud", "flipud", (A,), {}), ("diff", "diff", (C,), {"n": 2, "axis": 1}),
    ("get_item", "get_item", (A, 1), {}), ("append", "append", (A, POS), {"axis": 0}),
    ("tri", "tri", (3, 4), {"k": -1}), ("empty_like_shape", "zeros_like", (A,), {}),
    ("quantile", "quantile", (C, np.array([0.1, 0.5, 0.9])), {"axis": 1}),
    ("quantile_methods", "quantile", (A, 0.3), {"method": "midpoint"}),
    ("quantile_keep", "quantile", (C, 0.25), {"axis": (0, 2), "keepdims": True,
                                              "method": "nearest"}),
    ("median", "median", (C,), {"axis": -1}), ("median_all", "median", (INT,), {}),
    ("ptp", "ptp", (C,), {"axis": 1}), ("bincount", "bincount", (np.array([0, 3, 3, 1]),), {}),
    ("bincount_weights", "bincount", (np.array([0, 3, 3, 1]),),
     {"weights": np.array([0.5, 1.0, 2.0, 1.5], np.float32), "minlength": 6}),
    ("digitize", "digitize", (A, np.array([-1.0, 0.0, 1.0], np.float32)), {}),
    ("searchsorted", "searchsorted", (np.array([0.0, 1.0, 2.0, 3.0], np.float32),
                                      np.array([0.5, 2.0, -1.0], np.float32)), {"side": "right"}),
    # math and linalg
    ("logsumexp", "logsumexp", (C,), {"axis": -1}), ("logsumexp_all", "logsumexp", (A,), {}),
    ("top_k", "top_k", (A, 2), {}), ("in_top_k", "in_top_k", (LABELS, A, 2), {}),
    ("segment_sum", "segment_sum", (A, np.array([0, 2, 0])), {"num_segments": 3}),
    ("segment_sum_infer", "segment_sum", (A[:, 0], np.array([1, 1, 0])), {}),
    ("segment_max", "segment_max", (A, np.array([0, 2, 0])), {"num_segments": 3}),
    ("erf", "erf", (A,), {}), ("rsqrt", "rsqrt", (POS,), {}),
    ("norm", "norm", (A,), {}), ("norm_axis", "norm", (C,), {"axis": -1, "keepdims": True}),
    ("norm_ord1", "norm", (A,), {"ord": 1, "axis": 1}),
    ("norm_inf", "norm", (A,), {"ord": np.inf, "axis": 0}),
    ("norm_fro", "norm", (C,), {"axis": (1, 2)}),
    ("norm_matrix_1", "norm", (A,), {"ord": 1}),
]
IDS = [c[0] for c in CASES]


def as_arrays(result):
    if isinstance(result, (list, tuple)):
        return [a for r in result for a in as_arrays(r)]
    return [ops.convert_to_numpy(result)] if ops.is_tensor(result) else [np.asarray(result)]


def keras_arrays(keras, result):
    if isinstance(result, (list, tuple)):
        return [a for r in result for a in keras_arrays(keras, r)]
    return [to_numpy(result)]


def keras_dtype(keras, result):
    if isinstance(result, (list, tuple)):
        return [d for r in result for d in keras_dtype(keras, r)]
    return [keras.backend.standardize_dtype(result.dtype)] if hasattr(result, "dtype") else []


def ember_dtype(result):
    if isinstance(result, (list, tuple)):
        return [d for r in result for d in ember_dtype(r)]
    return [ops.dtype(result)] if ops.is_tensor(result) else []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_values_and_dtypes_as_real_keras(case):
    keras = real_keras()
    _, name, args, kwargs = case
    ours = getattr(ops, name)(*args, **kwargs)
    with warnings.catch_warnings():  # (Keras' own transpose warns through torch's x.T)
        warnings.simplefilter("ignore")
        theirs = getattr(keras.ops, name)(*keras_tensors(keras, args), **kwargs)
    got, want = as_arrays(ours), keras_arrays(keras, theirs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-5,
                                   atol=1e-6)
    if name != "top_k":  # (Keras' top_k indices are int64 on torch, int32 elsewhere; ember's int32)
        assert ember_dtype(ours) == keras_dtype(keras, theirs)
    else:
        assert ember_dtype(ours) == ["float32", "int32"]


def keras_tensors(keras, args):
    """NumPy arrays as Keras tensors (some torch-backend ops take tensors only)."""
    if isinstance(args, (list, tuple)):
        return type(args)(keras_tensors(keras, a) for a in args)
    return keras.ops.convert_to_tensor(args) if isinstance(args, np.ndarray) else args


# ---- NumPy references (without Keras) ------------------------------------------------------------
NUMPY_SAME = [("sum", (C,), {"axis": 1}), ("mean", (A,), {}), ("std", (C,), {"axis": (0, 2)}),
              ("var", (A,), {"axis": 0}), ("max", (C,), {"axis": 2}), ("prod", (POS,), {}),
              ("cumsum", (A,), {"axis": 0}), ("matmul", (C, B), {}), ("dot", (C, B), {}),
              ("tensordot", (C, A), {"axes": ([1, 2], [0, 1])}), ("clip", (A, -0.3, 0.2), {}),
              ("transpose", (C, (2, 0, 1)), {}), ("split", (A, [1, 3]), {"axis": 1}),
              ("tile", (A[0], (2, 3)), {}), ("repeat", (A, [2, 0, 1, 1]), {"axis": 1}),
              ("take", (C, np.array([2, -1, 0])), {"axis": 1}),
              ("take_along_axis", (A, np.argsort(A, 0)), {"axis": 0}),
              ("pad", (A, ((2, 1), (0, 3))), {"mode": "edge"}), ("pad", (A, 1), {}),
              ("pad", (A, ((1, 2), (2, 1))), {"mode": "wrap"}),
              ("linspace", (2.0, 3.0, 5), {}), ("eye", (3,), {"k": -1}),
              ("trace", (A,), {"offset": 1}), ("moveaxis", (C, [0, 1], [2, 0]), {}),
              ("average", (A,), {"axis": 0, "weights": np.arange(1.0, 4.0)}),
              ("diag", (A,), {"k": -1}), ("expand_dims", (C,), {"axis": 1}),
              ("max", (A,), {"keepdims": True}), ("count_nonzero", (INT,), {"axis": 0}),
              ("concatenate", ([A, POS],), {"axis": None}), ("nonzero", (MASK,), {}),
              ("where", (MASK,), {}), ("repeat", (A, [1, 0, 2]), {"axis": 0}),
              ("argsort", (A,), {"axis": None}), ("isclose", (A, A + 1e-6), {})]


@pytest.mark.parametrize("name, args, kwargs", NUMPY_SAME,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NUMPY_SAME)])
def test_numpy_named_ops_match_numpy(name, args, kwargs):
    want = getattr(np, name)(*args, **kwargs)
    got = as_arrays(getattr(ops, name)(*args, **kwargs))
    want = [np.asarray(w) for w in (want if isinstance(want, (list, tuple)) else [want])]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_nn_ops_match_numpy_formulas():
    x = A.astype(np.float64)
    np.testing.assert_allclose(as_arrays(ops.softmax(x))[0],
                               np.exp(x) / np.exp(x).sum(-1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(as_arrays(ops.logsumexp(x, axis=0))[0],
                               np.log(np.exp(x).sum(0)), rtol=1e-12)
    np.testing.assert_allclose(as_arrays(ops.one_hot(np.array([2, 0]), 3, dtype="int32"))[0],
                               [[0, 0, 1], [1, 0, 0]])
    values, indices = ops.top_k(x, 3)
    np.testing.assert_array_equal(as_arrays(indices)[0], np.argsort(-x, axis=1)[:, :3])
    np.testing.assert_allclose(as_arrays(values)[0], -np.sort(-x, axis=1)[:, :3])
    mean, variance = ops.moments(x, axes=[0])
    np.testing.assert_allclose(as_arrays(variance)[0], x.var(0), rtol=1e-12)
    np.testing.assert_allclose(as_arrays(ops.segment_sum(x, np.array([1, 0, 1])))[0],
                               [x[1], x[0] + x[2]], rtol=1e-12)
    np.testing.assert_allclose(as_arrays(ops.categorical_crossentropy(ONEHOT, A,
                                                                      from_logits=True))[0],
                               -(ONEHOT * (A - np.log(np.exp(A).sum(-1, keepdims=True)))).sum(
                                   -1), rtol=1e-5)


# ---- gradients -----------------------------------------------------------------------------------
def _f64(*arrays):
    return tuple(ember.from_numpy(np.asarray(a, np.float64)).requires_grad_() for a in arrays)


GRAD_CASES = [
    ("add", lambda a, b: ops.add(a, b), (A, POS)), ("divide", ops.divide, (A, POS)),
    ("power", lambda a: ops.power(a, 1.7), (POS,)), ("sqrt", ops.sqrt, (POS,)),
    ("log1p", ops.log1p, (POS,)), ("logaddexp", ops.logaddexp, (A, POS)),
    ("maximum", ops.maximum, (A, POS - 1)), ("clip", lambda a: ops.clip(a, -0.5, 0.5), (A,)),
    ("where", lambda a, b: ops.where(MASK, a, b), (A, POS)),
    ("divide_no_nan", ops.divide_no_nan, (A, POS)),
    ("sum", lambda a: ops.sum(a, axis=(0, 2), keepdims=True), (C,)),
    ("mean", lambda a: ops.mean(a, axis=1), (C,)), ("max", lambda a: ops.max(a, axis=0), (A,)),
    ("prod", lambda a: ops.prod(a, axis=1), (POS,)), ("std", lambda a: ops.std(a, axis=1), (A,)),
    ("var", ops.var, (A,)), ("cumsum", lambda a: ops.cumsum(a, axis=1), (A,)),
    ("average", lambda a, w: ops.average(a, axis=1, weights=w), (A, POS[0])),
    ("matmul", ops.matmul, (C, B)), ("dot", ops.dot, (C, B)),
    ("tensordot", lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])), (C, A)),
    ("einsum", lambda a, b: ops.einsum("bij,jk->bik", a, b), (C, B)),
    ("outer", ops.outer, (A[0], B[0])), ("trace", ops.trace, (A,)),
    ("reshape", lambda a: ops.reshape(a, (4, -1)), (C,)),
    ("transpose", lambda a: ops.transpose(a, (2, 0, 1)), (C,)),
    ("moveaxis", lambda a: ops.moveaxis(a, 0, -1), (C,)),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), (A, POS)),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), (A, POS)),
    ("split", lambda a: ops.split(a, [1, 3], axis=1), (A,)),
    ("tile", lambda a: ops.tile(a, (2, 1)), (A,)), ("repeat", lambda a: ops.repeat(a, 2, 1), (A,)),
    ("pad", lambda a: ops.pad(a, ((1, 0), (2, 1)), constant_values=0.5), (A,)),
    ("pad_reflect", lambda a: ops.pad(a, ((0, 0), (1, 1), (2, 1)), mode="reflect"), (C,)),
    ("take", lambda a: ops.take(a, np.array([[0, 2], [-1, 1]]), axis=1), (A,)),
    ("take_along_axis", lambda a: ops.take_along_axis(a, np.argsort(A, 1)[:, :2], axis=1), (A,)),
    ("slice", lambda a: ops.slice(a, (0, 1, 1), (2, 2, 2)), (C,)),
    ("slice_update", lambda a, u: ops.slice_update(a, (1, 1), u), (A, POS[:2, :2])),
    ("flip", lambda a: ops.flip(a, axis=1), (C,)), ("roll", lambda a: ops.roll(a, 2, 1), (A,)),
    ("tril", ops.tril, (A,)), ("sort", lambda a: ops.sort(a, axis=0), (A,)),
    ("full", lambda v: ops.full((2, 3), v, dtype="float64"), (np.float64(1.5),)),
    ("softmax", lambda a: ops.softmax(a, axis=(1, 2)), (C,)),
    ("log_softmax", ops.log_softmax, (C,)), ("gelu", ops.gelu, (A,)),
    ("silu", ops.silu, (A,)), ("softsign", ops.softsign, (A,)), ("selu", ops.selu, (A,)),
    ("celu", ops.celu, (A,)), ("glu", ops.glu, (A,)), ("log_sigmoid", ops.log_sigmoid, (A,)),
    ("hard_silu", ops.hard_silu, (A * 2,)), ("squareplus", ops.squareplus, (A,)),
    ("leaky_relu", ops.leaky_relu, (A,)), ("sparse_plus", ops.sparse_plus, (A * 0.7,)),
    ("categorical_crossentropy", ops.categorical_crossentropy, (ONEHOT, PROB)),
    ("sparse_categorical_crossentropy",
     lambda p: ops.sparse_categorical_crossentropy(LABELS, p, from_logits=True), (A,)),
    ("binary_crossentropy", ops.binary_crossentropy, (BIN, PROB / 2)),
    ("binary_crossentropy_logits", lambda t, x: ops.binary_crossentropy(t, x, True), (BIN, A)),
    ("moments", lambda a: ops.moments(a, axes=(0, 2)), (C,)),
    ("normalize", ops.normalize, (A,)), ("logsumexp", lambda a: ops.logsumexp(a, 1), (C,)),
    ("top_k", lambda a: ops.top_k(a, 2)[0], (A,)),
    ("segment_sum", lambda a: ops.segment_sum(a, np.array([0, 2, 0]), 3), (A,)),
    ("segment_max", lambda a: ops.segment_max(a, np.array([0, 1, 0]), 2), (A,)),
    ("layer_normalization", lambda x, g, b: ops.layer_normalization(x, g, b), (C, POS[0], A[0])),
    ("rms_normalization", lambda x, g: ops.rms_normalization(x, g, axis=(1, 2)), (C, POS[:3])),
    ("batch_normalization", lambda x, m, v: ops.batch_normalization(x, m, v, 1), (C, A[0, :3],
                                                                                   POS[0, :3])),
    ("dot_product_attention", lambda q, k, v: ops.dot_product_attention(
        q, k, v, mask=ATT_MASK[:1, :, :2, :3], is_causal=True),
     (Q[:1, :2, :, :2], KV[:1, :3, :, :2], KV[:1, :3, :, :2])),
    ("quantile", lambda a: ops.quantile(a, [0.3, 0.5], axis=1), (A,)),
    ("median", ops.median, (C,)), ("diff", lambda a: ops.diff(a, 2, 0), (C,)),
    ("hypot", ops.hypot, (A, POS)), ("cbrt", ops.cbrt, (POS,)),
    ("bincount", lambda w: ops.bincount(np.array([0, 3, 3, 1]), weights=w), (POS[0],)),
    ("norm", ops.norm, (A,)), ("norm_axis", lambda a: ops.norm(a, ord=1, axis=0), (A,)),
    ("norm_fro", lambda a: ops.norm(a, axis=(1, 2)), (C,)), ("erf", ops.erf, (A,)),
    ("rsqrt", ops.rsqrt, (POS,)), ("image_resize", lambda a: ops.image.resize(a, (3, 5)),
                                   (C[..., None],)),
]


@pytest.mark.parametrize("name, fn, inputs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients(name, fn, inputs):
    def wrapped(*tensors):
        out = fn(*tensors)
        return tuple(out) if isinstance(out, (list, tuple)) else out
    assert gradcheck(wrapped, _f64(*inputs))


def test_stop_gradient_blocks_the_gradient():
    x = _f64(A)[0]
    (ops.sum(ops.stop_gradient(x) * x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), A, rtol=1e-6)


# ---- image.resize --------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_image_resize_matches_real_keras(interpolation, data_format):
    keras = real_keras()
    images = R.random((2, 5, 7, 3)).astype(np.float32)
    for size in ((3, 4), (8, 11)):
        ours = ops.image.resize(images, size, interpolation=interpolation,
                                data_format=data_format)
        theirs = keras.ops.image.resize(images, size, interpolation=interpolation,
                                        data_format=data_format)
        np.testing.assert_allclose(as_arrays(ours)[0], to_numpy(theirs), rtol=1e-5, atol=1e-6)
    one = ops.image.resize(images[0], (3, 4))
    assert tuple(one.shape) == (3, 4, 3)


# ---- control flow --------------------------------------------------------------------------------
def test_control_flow_runs_eagerly():
    assert as_arrays(ops.cond(ops.greater(1.0, 0.0), lambda: ops.ones(2), lambda: ops.zeros(2)
                              ))[0].tolist() == [1.0, 1.0]
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 10) == 16
    i, total = ops.while_loop(lambda i, t: i < 5, lambda i, t: (i + 1, t + i), (0, 0))
    assert (i, total) == (5, 10)
    assert ops.while_loop(lambda v: v < 100, lambda v: v * 2, 1, maximum_iterations=3) == 8
    assert ops.switch(5, [lambda x: x + 1, lambda x: x * 10], 2) == 20  # clamped index
    squares = ops.map(lambda row: ops.sum(row * row), A)
    np.testing.assert_allclose(as_arrays(squares)[0], (A * A).sum(1), rtol=1e-6)
    assert ops.shape(C) == (2, 3, 4) and ops.ndim(C) == 3 and ops.size(C) == 24


# ---- signatures and errors -----------------------------------------------------------------------
def _implemented():
    names = set(ops.numpy.__all__) | set(ops.nn.__all__) | set(ops.math.__all__) | {"norm"}
    names |= set(ops.statistics.__all__)
    names |= {"cast", "cond", "convert_to_numpy", "convert_to_tensor", "copy", "dtype",
              "fori_loop", "is_tensor", "map", "ndim", "shape", "size", "slice",
              "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map",
              "while_loop"}
    return sorted(names)


def test_signatures_match_keras():
    keras = real_keras()
    checked = 0
    for name in _implemented():
        theirs = getattr(keras.ops, name, None)
        if theirs is None:
            continue
        ours = getattr(ops, name)
        want = [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()]
        got = [(p.name, p.default) for p in inspect.signature(ours).parameters.values()]
        assert got == want, name
        checked += 1
    assert checked > 150
    want = [(p.name, p.default) for p in
            inspect.signature(keras.ops.image.resize).parameters.values()]
    assert [(p.name, p.default) for p in
            inspect.signature(ops.image.resize).parameters.values()] == want


def test_namespaces_like_keras():
    assert ops.nn.softmax is ops.softmax and ops.numpy.matmul is ops.matmul
    assert ops.linalg.norm is ops.norm and callable(ops.image.resize)
    assert ek.ops is ops


def test_keras_ops_ember_lacks_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="keras.ops.svd is not supported by ember"):
        ops.svd(A)
    with pytest.raises(AttributeError, match="no_such_op"):
        ops.no_such_op  # noqa: B018
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'"):
        ops.image.resize(C[..., None], (2, 2), interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="mode='symmetric'"):
        ops.pad(A, 1, mode="symmetric")


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(IndexError, match=r"keras.ops.sum: axis 3 is out of bounds .* rank 2"):
        ops.sum(A, axis=3)
    with pytest.raises(ValueError, match="split: axis 1 of size 4 cannot be split into 3"):
        ops.split(A, 3, axis=1)
    with pytest.raises(ValueError, match="cannot squeeze axis 0 of size 3"):
        ops.squeeze(A, axis=0)
    with pytest.raises(ValueError, match="not a permutation"):
        ops.transpose(C, (0, 0, 1))
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(ONEHOT, A[:, :3])
    with pytest.raises(ValueError, match="x1 and x2 must both be given"):
        ops.where(MASK, A)
    with pytest.raises(ValueError, match="k=9 is out of range"):
        ops.top_k(A, 9)
    with pytest.raises(ValueError, match="pad_width must be non-negative"):
        ops.pad(A, ((-1, 0), (0, 0)))
    with pytest.raises(ValueError, match="slice: start_indices and shape need 3"):
        ops.slice(C, (0, 0), (1, 1))
    with pytest.raises(ValueError, match="matmul: the operands"):
        ops.matmul(A, 2.0)
    with pytest.raises(ember.ShapeError):
        ops.matmul(A, A)
    with pytest.raises(ValueError, match="segment_ids of length 2"):
        ops.segment_sum(A, [0, 1])
    with pytest.raises(NotImplementedError, match="sparse=True"):
        ops.convert_to_tensor(A, sparse=True)
    with pytest.raises(ValueError, match="Invalid dtype"):
        ops.cast(A, "floaty")
    with pytest.raises(NotImplementedError, match="symbolic tensor"):
        ops.add(ek.Input((3,)), 1.0)


# ---- a custom layer and loss written with keras.ops ---------------------------------------------
class Scaler(ek.layers.Layer):
    """A Keras-3-style custom layer: weights by add_weight, math by keras.ops."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="shift")

    def call(self, inputs):
        centered = inputs - ops.mean(inputs, axis=-1, keepdims=True)
        return ops.tanh(centered * self.scale + self.shift)


def ops_loss(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1) + 0.01 * ops.mean(ops.abs(y_pred),
                                                                           axis=-1)


def test_custom_layer_and_loss_with_keras_ops_train():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((128, 6)).astype(np.float32)
    y = (x[:, :1] - x[:, 1:2] > 0).astype(np.float32)
    model = ek.Sequential([ek.Input((6,)), Scaler(), ek.layers.Dense(1, "sigmoid")])
    model.compile(optimizer=ek.optimizers.Adam(0.05), loss=ops_loss)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.5 * first

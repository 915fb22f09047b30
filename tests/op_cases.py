"""op_tests: the checks of index_op_checks.py as parametrized tests over a table of ops,
CASES = {name: (fn(module, *tensors), numpy_reference(*arrays), [(array, requires_grad)...])}:
forward against NumPy, float64 gradcheck, forward and gradients against PyTorch, and float32
against float64."""
import pytest

from index_op_checks import check_float32, check_forward, check_gradcheck, check_pytorch


def op_tests(cases, forward_only_in_pytorch=(), forward_tol=1e-12, numpy_refs=None,
             float64_only=()):
    """The four checks as parametrized tests, for a test module to bind:
    test_forward_matches_numpy, test_gradcheck, test_matches_pytorch, test_float32 = ...
    numpy_refs may replace a case's NumPy reference for the forward check; float64_only names
    cases whose fn builds float64 constants (so float32 input is not a float32 op)."""
    numpy_refs = numpy_refs or {}

    @pytest.mark.parametrize("name", cases)
    def test_forward_matches_numpy(name):
        fn, ref, spec = cases[name]
        check_forward((fn, numpy_refs.get(name, ref), spec), name, forward_tol)

    @pytest.mark.parametrize("name", cases)
    def test_gradcheck(name):
        check_gradcheck(cases[name])

    @pytest.mark.parametrize("name", cases)
    def test_matches_pytorch(name):
        check_pytorch(cases[name], name, 1e-12, 1e-10,
                      with_gradients=name not in forward_only_in_pytorch)

    @pytest.mark.parametrize("name", [n for n in cases if n not in float64_only])
    def test_float32_agrees_with_float64(name):
        check_float32(cases[name], name)

    return (test_forward_matches_numpy, test_gradcheck, test_matches_pytorch,
            test_float32_agrees_with_float64)

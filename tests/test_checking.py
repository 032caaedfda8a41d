"""The checking kit's tolerance: rounding in the input's dtype plus the problem's conditioning, no more."""
import numpy as np
import pytest

from autograder.checking import CheckFailure, assert_close, tolerance
from autograder.checks.activations import references as ref

LARGE = np.array([[1e4, 0.0, -1e4], [0.0, 1000.0, 999.0], [-710.0, 710.0, 0.0]], dtype=np.float32)


def backward_stable_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return np.exp(x - (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True))))


def test_a_backward_stable_softmax_needs_the_conditioning_term_and_passes_with_it():
    y = backward_stable_softmax(LARGE)
    with pytest.raises(CheckFailure, match="values are wrong"):
        assert_close(y, ref.softmax(LARGE), "softmax", **tolerance(np.float32))
    assert_close(y, ref.softmax(LARGE), "softmax", **tolerance(np.float32, ref.softmax_sensitivity(LARGE)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_conditioning_term_still_fails_a_wrong_formula(dtype):
    x = np.linspace(-6, 6, 121).astype(dtype)
    tanh_form = 0.5 * x * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))  # GELU's approximation
    with pytest.raises(CheckFailure, match="values are wrong"):
        assert_close(tanh_form, ref.elementwise("gelu", x), "gelu",
                     **tolerance(dtype, ref.elementwise_sensitivity("gelu", x)))


def test_the_sensitivity_of_an_elementwise_function_is_x_times_its_slope():
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    sigmoid = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ref.elementwise_sensitivity("sigmoid", x), np.abs(x * sigmoid * (1 - sigmoid)))
    np.testing.assert_allclose(ref.elementwise_sensitivity("softplus", x, beta=2.0), np.abs(x) / (1 + np.exp(-2 * x)))

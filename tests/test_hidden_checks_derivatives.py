"""The hidden checks of `derivatives` pass every correct implementation and fail realistic wrong ones."""

import pytest

from autograder import notebook
from autograder.proxy import StudentCode
from autograder.runner import run_checks
from helpers import (assert_every_misconception_is_shown, assert_wrong_answer_loses_points_where_due, failed_checks,
                     hidden_results, solution, with_answer)

ASSIGNMENT = "derivatives"


VALUES = "test_values_match_autograd_in_float64"
LARGE = "test_large_inputs_are_finite_and_warning_free"
KEYWORDS = "test_keyword_arguments_are_honoured"
KINK = "test_kink_value_is_between_the_one_sided_derivatives"

# (answer cell, wrong source, checks that must fail, the entry of misconceptions.toml that explains it). Each
# is a mistake students really make.
WRONG = [
    ("identity_grad", "def identity_grad(x):\n    return np.ones(np.shape(x))",
     {"test_float32_input_gives_float32_output"}, "dtype-promoted"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    return expit(expit(x))", {VALUES}, "sigmoid-of-sigmoid"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    s = 1 / (1 + np.exp(-x))\n    return s * (1 - s)", {LARGE},
     "sigmoid-by-exp-overflows"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    s = expit(np.asarray(x, dtype=np.float64))\n    return s * (1 - s)",
     {"test_float32_input_gives_float32_output"}, "dtype-promoted"),
    # a * (1 - a) holds for the output a = sigmoid(x), not for the input x
    ("sigmoid_grad", "def sigmoid_grad(x):\n    return x * (1 - x)", {VALUES},
     "derivative-from-output-applied-to-input"),
    ("tanh_grad", "def tanh_grad(x):\n    return 1 - x**2", {VALUES, LARGE}, "derivative-from-output-applied-to-input"),
    ("tanh_grad", "def tanh_grad(x):\n    return 1 / np.cosh(x) ** 2", {LARGE}, "cosh-overflow"),
    ("relu_grad", "def relu_grad(x):\n    x = np.asarray(x)\n    return np.where(x > 0, 1.0, 0.0) + (x == 0) * 2.0",
     {VALUES, KINK}, "kink-value-outside"),
    ("relu_grad", "def relu_grad(x):\n    return np.asarray(x) > 0",
     {VALUES, "test_float32_input_gives_float32_output"}, "bool-or-int-returned"),
    ("relu_grad", "def relu_grad(x):\n    x[...] = x > 0\n    return x", {"test_input_is_not_modified"},
     "input-changed"),
    # ReLU(x) / x: nan (0 / 0) at the kink, with the warning silenced
    ("relu_grad", "def relu_grad(x):\n    with np.errstate(invalid='ignore'):\n        return np.maximum(x, 0) / x",
     {VALUES, KINK}, "relu-by-division"),
    ("leaky_relu_grad", "def leaky_relu_grad(x, alpha=0.01):\n    x = np.asarray(x)\n"
                        "    return np.where(x > 0, 1.0, 0.01).astype(x.dtype)", {KEYWORDS, KINK},
     "leaky-relu-alpha-ignored"),
    ("prelu_grad", "def prelu_grad(x, alpha):\n    x = np.asarray(x)\n"
                   "    return np.where(x > 0, 1.0, np.mean(alpha)).astype(x.dtype)",
     {"test_prelu_grad_values_with_one_slope_per_channel"}, "prelu-slopes-per-channel"),
    ("prelu_grad", "def prelu_grad(x, alpha):\n    x = np.asarray(x)\n"
                   "    return np.where(x > 0, x, alpha * x)",
     {"test_prelu_grad_values_with_one_slope_per_channel", "test_prelu_grad_scalar_slope_and_shapes"},
     "function-not-derivative"),
    ("elu_grad", "def elu_grad(x, alpha=1.0):\n    x = np.asarray(x)\n"
                 "    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))).astype(x.dtype)", {KEYWORDS, KINK},
     "elu-alpha-ignored"),
    ("elu_grad", "def elu_grad(x, alpha=1.0):\n    x = np.asarray(x)\n"
                 "    return np.where(x > 0, 1.0, alpha * np.exp(x)).astype(x.dtype)", {LARGE},
     "where-computes-both-branches"),
    ("selu_grad", "def selu_grad(x):\n    x = np.asarray(x)\n"
                  "    return 1.05 * np.where(x > 0, 1.0, 1.67 * np.exp(np.minimum(x, 0))).astype(x.dtype)",
     {VALUES, KINK}, "selu-rounded-constants"),
    ("gelu_grad", "def gelu_grad(x, approximate='none'):\n    x = np.asarray(x)\n"
                  "    c, k = (2 / np.pi) ** 0.5, 0.044715\n    t = np.tanh(c * (x + k * x**3))\n"
                  "    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)",
     {VALUES, "test_gelu_grad_rejects_an_unknown_approximation"}, "gelu-tanh-by-default"),
    ("gelu_grad", "def gelu_grad(x, approximate='none'):\n    x = np.asarray(x)\n"
                  "    if approximate not in ('none', 'tanh'):\n        raise ValueError(approximate)\n"
                  "    return 0.5 * (1 + erf(x / 2**0.5))",
     {VALUES, KEYWORDS, "test_gelu_grad_tanh_form_is_float32_and_stable"}, "gelu-second-term-missing"),
    ("gelu_grad", "def gelu_grad(x, approximate='none'):\n    x = np.asarray(x)\n"
                  "    if approximate == 'tanh':\n        c, k = (2 / np.pi) ** 0.5, 0.044715\n"
                  "        t = np.tanh(c * (x + k * x**3))\n"
                  "        return 0.5 * (1 + t) + 0.5 * x * (1 / np.cosh(c * (x + k * x**3)))**2 * c * (1 + 3 * k * x * x)\n"
                  "    if approximate != 'none':\n        raise ValueError(approximate)\n"
                  "    return 0.5 * (1 + erf(x / 2**0.5)) + x * np.exp(-0.5 * x * x) / (2 * np.pi) ** 0.5",
     {"test_gelu_grad_tanh_form_is_float32_and_stable"}, "cosh-overflow"),
    ("gelu_grad", "def gelu_grad(x, approximate='none'):\n    x = np.asarray(x)\n"
                  "    if approximate != 'none':\n        raise ValueError(approximate)\n"
                  "    return 0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)",
     {"test_float32_input_gives_float32_output", KEYWORDS}, "dtype-promoted"),
    ("silu_grad", "def silu_grad(x):\n    return expit(x)", {VALUES}, "silu-second-term-missing"),
    ("silu_grad", "def silu_grad(x):\n    s = 1 / (1 + np.exp(-x))\n    return s * (1 + x * (1 - s))", {LARGE},
     "sigmoid-by-exp-overflows"),
    ("swish_grad", "def swish_grad(x, beta=1.0):\n    s = expit(x)\n    return s * (1 + x * (1 - s))", {KEYWORDS},
     "swish-beta-ignored"),
    ("swish_grad", "def swish_grad(x, beta=1.0):\n    s = expit(beta * x)\n    return s * (1 + x * (1 - s))",
     {KEYWORDS}, "swish-chain-rule-beta"),
    ("softplus_grad", "def softplus_grad(x, beta=1.0):\n    return expit(x)", {KEYWORDS}, "softplus-beta-ignored"),
    ("softplus_grad", "def softplus_grad(x, beta=1.0):\n    e = np.exp(beta * x)\n    return e / (1 + e)", {LARGE},
     "sigmoid-by-exp-overflows"),
    ("softmax_backward", "def softmax_backward(dout, s, axis=-1):\n    return s * (1 - s) * dout",
     {"test_matches_the_full_jacobian_along_the_last_axis", "test_result_sums_to_zero_along_the_axis"},
     "softmax-diagonal-only"),
    ("softmax_backward", "def softmax_backward(dout, s, axis=-1):\n"
                         "    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))",
     {"test_honours_axis_0", "test_honours_a_middle_axis", "test_result_sums_to_zero_along_the_axis"},
     "softmax-backward-axis"),
    ("softmax_backward", "def softmax_backward(dout, s, axis=-1):\n    return s * (dout - np.sum(dout * s))",
     {"test_matches_the_full_jacobian_along_the_last_axis", "test_honours_axis_0", "test_honours_a_middle_axis"},
     "softmax-backward-axis"),
    ("softmax_backward", "def softmax_backward(dout, s, axis=-1):\n"
                         "    return s * (dout - np.sum(dout * s, axis=0, keepdims=True))",
     {"test_matches_the_full_jacobian_along_the_last_axis", "test_honours_a_middle_axis"}, "softmax-backward-axis"),
    ("softmax_backward", "def softmax_backward(dout, s, axis=-1):\n"
                         "    dout -= np.sum(dout * s, axis=axis, keepdims=True)\n    return s * dout",
     {"test_inputs_are_not_modified"}, "input-changed"),
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    x = np.array(x, dtype=np.float64)\n"
                       "    g = np.zeros_like(x)\n    fx = f(x)\n    for i in np.ndindex(x.shape):\n"
                       "        old = x[i]\n        x[i] = old + h\n        g[i] = (f(x) - fx) / h\n"
                       "        x[i] = old\n    return g",
     {"test_numerical_grad_is_a_centred_difference", "test_numerical_grad_default_step_is_small_and_centred",
      "test_numerical_grad_uses_the_step_it_is_given"}, "numerical-grad-forward-difference"),
    # the two points are 2h apart, yet the difference is divided by h
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    x = np.array(x, dtype=np.float64)\n"
                       "    g = np.zeros_like(x)\n    for i in np.ndindex(x.shape):\n        old = x[i]\n"
                       "        x[i] = old + h\n        fp = f(x)\n        x[i] = old - h\n        fm = f(x)\n"
                       "        x[i] = old\n        g[i] = (fp - fm) / h\n    return g",
     {"test_numerical_grad_is_a_centred_difference", "test_numerical_grad_default_step_is_small_and_centred",
      "test_numerical_grad_uses_the_step_it_is_given"}, "numerical-grad-divides-by-h"),
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    g = np.zeros(x.shape)\n"
                       "    for i in np.ndindex(x.shape):\n        x[i] += h\n        fp = f(x)\n"
                       "        x[i] -= 2 * h\n        fm = f(x)\n        g[i] = (fp - fm) / (2 * h)\n    return g",
     {"test_numerical_grad_leaves_x_unchanged_and_returns_float64"}, "input-changed"),
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    x = np.array(x, dtype=np.float64)\n"
                       "    g = np.zeros_like(x)\n    for i in np.ndindex(x.shape):\n        e = np.zeros_like(x)\n"
                       "        e[i] = 1e-5\n        g[i] = (f(x + e) - f(x - e)) / 2e-5\n    return g",
     {"test_numerical_grad_uses_the_step_it_is_given"}, "numerical-grad-ignores-h"),
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    g = np.zeros(x.shape)\n"
                       "    for i in np.ndindex(x.shape):\n        old = x[i]\n        x[i] = old + h\n        fp = f(x)\n"
                       "        x[i] = old - h\n        fm = f(x)\n        x[i] = old\n"
                       "        g[i] = (fp - fm) / (2 * h)\n    return g",
     {"test_numerical_grad_works_in_float64_for_float32_x"}, "numerical-grad-in-float32"),
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    x = np.array(x, dtype=np.float64).ravel()\n"
                       "    g = np.zeros_like(x)\n    for i in range(x.size):\n        e = np.zeros_like(x)\n"
                       "        e[i] = h\n        g[i] = (f(x + e) - f(x - e)) / (2 * h)\n    return g",
     {"test_numerical_grad_is_a_centred_difference", "test_numerical_grad_leaves_x_unchanged_and_returns_float64"},
     "numerical-grad-flattened"),
    ("relative_error", "def relative_error(a, b):\n    return float(np.max(np.abs(a - b) / np.abs(a)))",
     {"test_relative_error_known_values", "test_relative_error_is_symmetric",
      "test_relative_error_is_zero_for_equal_arrays_even_zeros"}, "relative-error-asymmetric"),
    # no floor under the denominator: 0 / 0 = nan for equal zeros, with the warning silenced
    ("relative_error", "def relative_error(a, b):\n    with np.errstate(invalid='ignore'):\n"
                       "        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))))",
     {"test_relative_error_is_zero_for_equal_arrays_even_zeros"}, "relative-error-zero-division"),
    ("relative_error", "def relative_error(a, b):\n"
                       "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))",
     {"test_relative_error_known_values", "test_relative_error_is_symmetric"}, "relative-error-sum-denominator"),
    ("relative_error", "def relative_error(a, b):\n"
                       "    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b))))",
     {"test_relative_error_known_values", "test_relative_error_is_zero_for_equal_arrays_even_zeros"},
     "relative-error-not-elementwise"),
    ("relative_error", "def relative_error(a, b):\n"
                       "    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)",
     {"test_relative_error_known_values", "test_relative_error_on_nd_arrays"}, "relative-error-not-reduced"),
]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source, must_fail, explained_by", WRONG,
                         ids=[f"{g}-{i}" for i, (g, *_) in enumerate(WRONG)])
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(grade_id, source, must_fail, explained_by):
    assert_wrong_answer_loses_points_where_due(ASSIGNMENT, grade_id, source, must_fail, explained_by)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


# Correct implementations that differ from the reference, some more accurate than PyTorch.
RIGHT = [
    ("sigmoid_grad", "def sigmoid_grad(x):\n    s = expit(x)\n    return s * (1 - s)"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    e = np.exp(-np.abs(x))\n    return e / (1 + e) ** 2"),
    ("tanh_grad", "def tanh_grad(x):\n    x = np.asarray(x)\n    return 4 * expit(2 * x) * expit(-2 * x)"),
    ("relu_grad", "def relu_grad(x):\n    x = np.asarray(x)\n    return (x >= 0).astype(x.dtype)"),
    ("relu_grad", "def relu_grad(x):\n    x = np.asarray(x)\n    return np.where(x == 0, 0.5, x > 0).astype(x.dtype)"),
    ("leaky_relu_grad", "def leaky_relu_grad(x, alpha=0.01):\n    x = np.asarray(x)\n"
                        "    return np.where(x >= 0, 1.0, alpha).astype(x.dtype)"),
    ("prelu_grad", "def prelu_grad(x, alpha):\n    x = np.asarray(x)\n"
                   "    return np.where(x < 0, np.asarray(alpha, dtype=x.dtype), np.ones_like(x))"),
    ("elu_grad", "def elu_grad(x, alpha=1.0):\n    x = np.asarray(x)\n"
                 "    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)"),
    ("selu_grad", "def selu_grad(x):\n    x = np.asarray(x)\n    a, l = 1.6732632423543772, 1.0507009873554805\n"
                  "    return np.where(x >= 0, l, l * a * np.exp(np.minimum(x, 0))).astype(x.dtype)"),
    ("gelu_grad", "from scipy.special import ndtr\ndef gelu_grad(x, approximate='none'):\n    x = np.asarray(x)\n"
                  "    if approximate == 'tanh':\n        c, k = (2 / np.pi) ** 0.5, 0.044715\n"
                  "        u = c * (x + k * x**3)\n        sech2 = 4 * expit(2 * u) * expit(-2 * u)\n"
                  "        return expit(2 * u) + 0.5 * x * sech2 * c * (1 + 3 * k * x * x)\n"
                  "    if approximate != 'none':\n        raise ValueError(approximate)\n"
                  "    return ndtr(x) + x * np.exp(-0.5 * x * x) / (2 * np.pi) ** 0.5"),
    ("silu_grad", "def silu_grad(x):\n    s = expit(x)\n    return s + x * s * (1 - s)"),
    ("swish_grad", "def swish_grad(x, beta=1.0):\n    s = expit(beta * np.asarray(x))\n"
                   "    return s + beta * x * s * (1 - s)"),
    ("softplus_grad", "def softplus_grad(x, beta=1.0):\n    return np.exp(-np.logaddexp(0, -beta * np.asarray(x)))"),
    ("softmax_backward", "def softmax_backward(dout, s, axis=-1):\n"
                         "    s_, d_ = np.moveaxis(s, axis, -1), np.moveaxis(dout, axis, -1)\n"
                         "    jac = s_[..., :, None] * np.eye(s_.shape[-1], dtype=s_.dtype) - s_[..., :, None] * s_[..., None, :]\n"
                         "    return np.moveaxis(np.einsum('...ij,...i->...j', jac, d_), -1, axis)"),
    ("numerical_grad", "def numerical_grad(f, x, h=1e-5):\n    x = np.asarray(x)\n"
                       "    work = x.astype(np.float64)\n    grad = np.zeros(x.shape)\n"
                       "    it = np.nditer(work, flags=['multi_index'], op_flags=['readwrite'])\n"
                       "    while not it.finished:\n        i = it.multi_index\n        old = work[i]\n"
                       "        work[i] = old + h\n        fp = f(work)\n        work[i] = old - h\n        fm = f(work)\n"
                       "        work[i] = old\n        grad[i] = (fp - fm) / (2 * h)\n        it.iternext()\n"
                       "    return grad"),
    ("relative_error", "def relative_error(a, b):\n    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\n"
                       "    floor = np.full(np.broadcast(a, b).shape, 1e-12)\n"
                       "    return max(0.0, np.max(np.abs(a - b) / np.maximum.reduce([np.abs(a), np.abs(b), floor])))"),
]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source", RIGHT, ids=[f"{g}-{i}" for i, (g, _) in enumerate(RIGHT)])
def test_a_different_correct_implementation_gets_full_marks(grade_id, source):
    results = hidden_results(with_answer(solution(ASSIGNMENT), grade_id, source), ASSIGNMENT)
    assert failed_checks(results, f"test_{grade_id}") == set()


# The numpy assignments are answered with numpy: where they are graded, torch cannot be imported.
SIGMOID_GRAD_BY_TORCH_AUTOGRAD = """def sigmoid_grad(x):
    import torch
    t = torch.tensor(np.asarray(x), requires_grad=True)
    torch.sigmoid(t).sum().backward()
    return t.grad.numpy()
"""


@pytest.mark.slow
def test_a_derivative_computed_by_torch_autograd_loses_every_point_of_its_cell():
    nb = with_answer(solution(ASSIGNMENT), "sigmoid_grad", SIGMOID_GRAD_BY_TORCH_AUTOGRAD)
    tests = {cell.grade_id for cell in notebook.test_cells(nb)}
    with StudentCode(notebook.code_to_run(nb, tests), hidden_packages=("torch",)) as code:
        results = [r for r in run_checks(ASSIGNMENT, code) if r.cell == "test_sigmoid_grad"]
    assert results and not any(r.passed for r in results)

"""The hidden checks of `activations` pass every correct implementation and fail realistic wrong ones."""

import pytest


from helpers import (assert_every_misconception_is_shown, assert_wrong_answer_loses_points_where_due, failed_checks,
                     hidden_results, solution, with_answer)


# (answer cell, wrong source, checks that must fail, the entry of misconceptions.toml that explains it). Each
# is a mistake students really make.
WRONG = [
    ("identity", "def identity(x):\n    return np.asarray(x, dtype=np.float64).copy()",
     {"test_float32_input_gives_float32_output"}, "dtype-promoted"),
    ("sigmoid", "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
     {"test_large_inputs_are_finite_and_warning_free"}, "sigmoid-overflow"),
    # inf / inf = nan above x = 709, with the overflow warning silenced
    ("sigmoid", "def sigmoid(x):\n    with np.errstate(over='ignore', invalid='ignore'):\n"
                "        return np.exp(x) / (1 + np.exp(x))",
     {"test_large_inputs_are_finite_and_warning_free"}, "sigmoid-overflow"),
    ("sigmoid", "def sigmoid(x):\n    x = np.asarray(x, dtype=np.float64)\n    e = np.exp(-np.abs(x))\n"
                "    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))",
     {"test_float32_input_gives_float32_output"}, "dtype-promoted"),
    ("tanh", "def tanh(x):\n    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))",
     {"test_large_inputs_are_finite_and_warning_free"}, "tanh-overflow"),
    ("relu", "def relu(x):\n    x[x < 0] = 0\n    return x", {"test_input_is_not_modified"}, "input-changed"),
    ("leaky_relu", "def leaky_relu(x, alpha=0.01):\n    return np.where(x >= 0, x, 0.01 * x)",
     {"test_keyword_arguments_are_honoured"}, "leaky-relu-alpha-ignored"),
    ("prelu", "def prelu(x, alpha):\n    return np.where(x >= 0, x, np.mean(alpha) * x)",
     {"test_prelu_values_with_one_slope_per_channel"}, "prelu-slopes-per-channel"),
    ("elu", "def elu(x, alpha=1.0):\n    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))",
     {"test_keyword_arguments_are_honoured"}, "elu-alpha-ignored"),
    ("elu", "def elu(x, alpha=1.0):\n    return np.where(x > 0, x, alpha * (np.exp(x) - 1))",
     {"test_large_inputs_are_finite_and_warning_free"}, "where-computes-both-branches"),
    ("selu", "def selu(x):\n    return 1.05 * np.where(x > 0, x, 1.67 * np.expm1(np.minimum(x, 0)))",
     {"test_values_match_pytorch_in_float64"}, "selu-rounded-constants"),
    ("gelu", "def gelu(x, approximate='none'):\n    x = np.asarray(x)\n"
             "    return 0.5 * x * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))",
     {"test_values_match_pytorch_in_float64", "test_gelu_rejects_an_unknown_approximation"}, "gelu-tanh-by-default"),
    ("gelu", "def gelu(x, approximate='none'):\n    x = np.asarray(x)\n"
             "    return 0.5 * x * (1 + erf(x / 2**0.5).astype(x.dtype))",
     {"test_keyword_arguments_are_honoured", "test_gelu_rejects_an_unknown_approximation"}, "gelu-tanh-ignored"),
    ("silu", "def silu(x):\n    return x / (1 + np.exp(-x))", {"test_large_inputs_are_finite_and_warning_free"}, "silu-overflow"),
    ("swish", "def swish(x, beta=1.0):\n    return x * sigmoid(x)", {"test_keyword_arguments_are_honoured"}, "swish-beta-ignored"),
    ("softplus", "def softplus(x, beta=1.0):\n    return np.log(1 + np.exp(beta * x)) / beta",
     {"test_large_inputs_are_finite_and_warning_free"}, "softplus-overflow"),
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    e = np.exp(np.asarray(x) / temperature)\n"
                "    return e / e.sum(axis=axis, keepdims=True)",
     {"test_softmax_is_shift_invariant_and_stable"}, "softmax-overflow"),
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    z = np.asarray(x) / temperature\n"
                "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)",
     {"test_softmax_honours_axis", "test_softmax_is_a_distribution"}, "softmax-wrong-axis"),
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    z = np.asarray(x)\n"
                "    e = np.exp(z - z.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)",
     {"test_softmax_honours_temperature"}, "softmax-temperature-ignored"),
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    x -= x.max(axis=axis, keepdims=True)\n"
                "    e = np.exp(x / temperature)\n    return e / e.sum(axis=axis, keepdims=True)",
     {"test_softmax_input_is_not_modified"}, "input-changed"),
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    z = np.asarray(x, dtype=float) / temperature\n"
                "    e = np.exp(z - z.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)",
     {"test_softmax_float32_and_shapes"}, "dtype-promoted"),
    ("log_softmax", "def log_softmax(x, axis=-1):\n    return np.log(softmax(x, axis=axis))",
     {"test_log_softmax_is_finite_where_softmax_underflows"}, "log-of-softmax"),
    ("log_softmax", "def log_softmax(x, axis=-1):\n    x = np.asarray(x)\n"
                    "    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))",
     {"test_log_softmax_is_finite_where_softmax_underflows"}, "log-softmax-overflow"),
    ("softplus", "def softplus(x, beta=1.0):\n    return np.logaddexp(0, x)", {"test_keyword_arguments_are_honoured"},
     "softplus-beta-ignored"),
]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source, must_fail, explained_by", WRONG,
                         ids=[f"{g}-{i}" for i, (g, *_) in enumerate(WRONG)])
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(grade_id, source, must_fail, explained_by):
    assert_wrong_answer_loses_points_where_due("activations", grade_id, source, must_fail, explained_by)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown("activations", WRONG)


# f at x * (1 + 2 eps), moved away from the largest input for softmax and log_softmax, in float64 from the exact
# forms (scipy), then rounded to x's dtype.
EXACT_AT_A_NEIGHBOUR = """
from scipy.special import log_softmax as _log_softmax, ndtr
def exact_at_a_neighbour(name, x, axis=-1, temperature=1.0, beta=1.0, approximate='none'):
    x = np.asarray(x)
    if name == 'gelu' and approximate not in ('none', 'tanh'):
        raise ValueError(approximate)
    t = x.astype(np.float64)
    if name in ('softmax', 'log_softmax'):
        top = t == t.max(axis=axis, keepdims=True) if t.size else t
        t = t * (1 + 2 * np.finfo(x.dtype).eps * np.where(top, 1, -1) * np.sign(t))
    else:
        t = t * (1 + 2 * np.finfo(x.dtype).eps)
    if name == 'softmax':
        y = np.exp(_log_softmax(t / temperature, axis=axis))
    elif name == 'log_softmax':
        y = _log_softmax(t, axis=axis)
    elif name == 'softplus':
        y = np.logaddexp(0.0, beta * t) / beta
    elif approximate == 'tanh':
        y = 0.5 * t * (1 + np.tanh((2 / np.pi) ** 0.5 * (t + 0.044715 * t**3)))
    else:
        y = t * ndtr(t)
    return y.astype(x.dtype)
"""

# Correct implementations that differ from the reference, some more accurate than PyTorch.
RIGHT = [
    ("sigmoid", "def sigmoid(x):\n    x = np.asarray(x)\n    return 0.5 * (1 + np.tanh(0.5 * x))"),
    ("tanh", "def tanh(x):\n    return 2 * sigmoid(2 * np.asarray(x)) - 1"),
    ("elu", "def elu(x, alpha=1.0):\n    x = np.asarray(x)\n"
            "    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))"),
    ("gelu", "from scipy.special import ndtr\ndef gelu(x, approximate='none'):\n    x = np.asarray(x)\n"
             "    if approximate == 'tanh':\n"
             "        return x * sigmoid(2 * (2 / np.pi) ** 0.5 * (x + 0.044715 * x**3))\n"
             "    if approximate != 'none':\n        raise ValueError(approximate)\n"
             "    return x * ndtr(x).astype(x.dtype)"),
    ("softplus", "def softplus(x, beta=1.0):\n    z = beta * np.asarray(x)\n"
                 "    return (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta"),
    ("log_softmax", "from scipy.special import logsumexp\ndef log_softmax(x, axis=-1):\n"
                    "    x = np.asarray(x)\n    return x - logsumexp(x, axis=axis, keepdims=True).astype(x.dtype)"),
    # Backward-stable forms, less accurate than PyTorch at large inputs but within the problem's conditioning
    # (checking.tolerance). In float32 this softmax misses 0.73 by 2e-5 at x = (0, 1000, 999): beyond rtol.
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    z = np.asarray(x) / temperature\n"
                "    m = z.max(axis=axis, keepdims=True)\n"
                "    return np.exp(z - (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))))"),
    ("log_softmax", "def log_softmax(x, axis=-1):\n    x = np.asarray(x)\n    m = x.max(axis=axis, keepdims=True)\n"
                    "    return x - (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True)))"),
] + [
    # The worst a backward-stable form may do: the exact value at an input 2 eps away, rounded to x's dtype.
    (name, f"{EXACT_AT_A_NEIGHBOUR}\ndef {name}(x, {keyword}):\n    return exact_at_a_neighbour({name!r}, x, {arg})")
    for name, keyword, arg in [("softmax", "axis=-1, temperature=1.0", "axis=axis, temperature=temperature"),
                               ("log_softmax", "axis=-1", "axis=axis"), ("softplus", "beta=1.0", "beta=beta"),
                               ("gelu", "approximate='none'", "approximate=approximate")]
]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source", RIGHT, ids=[g for g, _ in RIGHT])
def test_a_different_correct_implementation_gets_full_marks(grade_id, source):
    results = hidden_results(with_answer(solution(), grade_id, source))
    assert failed_checks(results, f"test_{grade_id}") == set()



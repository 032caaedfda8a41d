"""Hidden checks of the activations' derivatives: values against torch.autograd, kinks, dtype, shapes,
purity, stability and keywords."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.checking import (ATOL32, DETAIL, FORMULA, RTOL32, CheckFailure, assert_close, assert_dtype,
                                 assert_no_warnings, assert_raises, assert_shape, assert_unchanged)
from autograder.checks.shared_references import torch_activation

from .references import expected_grad, grad

KEEP_DTYPE = "keep float32 input as float32 (and float64 as float64), never returning booleans or integers"
SAME_SHAPE = "return $f'(x)$ elementwise, an array of the same shape"  # the notebook's words
ELEMENTWISE = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "swish",
               "softplus"]
KINKED = ["relu", "leaky_relu", "elu", "selu"]
EDGES = np.array([0.0, -0.0, 1e-12, -1e-12, 1e-6, -1e-6, 0.5, -0.5, 1, -1, 2, -2, 6, -6, 10, -10,
                  20, -20, 30, -30, 40, -40, 50, -50, 100, -100])
LARGE = np.array([-1e4, -1e3, -710.0, -100.0, -40.0, 40.0, 100.0, 710.0, 1e3, 1e4])


def random_inputs(seed=0, size=300):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0.0, 4.0, size), EDGES])


def for_each(names, weight):
    """Parametrize a check of the given weight over functions, each case backing the test cell of its function's
    derivative."""
    return pytest.mark.parametrize("name", [
        pytest.param(n, id=n, marks=pytest.mark.cell(f"test_{n}_grad", weight=weight)) for n in names])


def assert_grad(actual, name, x, what, rtol=None, atol=None, **kwargs):
    """Compare with f'(x) from torch.autograd; at a kink, any value the contract accepts passes. Wrong values that
    are those of a known look-alike say so (misconceptions.toml explains each to the student)."""
    tolerances = {} if rtol is None else {"rtol": rtol, "atol": atol}
    try:
        assert_close(actual, expected_grad(name, actual, x, **kwargs), what, **tolerances)
    except CheckFailure as failure:
        for look_alike, values in look_alikes(name, actual, x, kwargs):
            try:
                assert_close(actual, values, what, **tolerances)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


def look_alikes(name, actual, x, kwargs):
    """(description, float64 values) of what a common mistake returns instead of f'(x, **kwargs)."""
    t = torch.from_numpy(np.array(x, dtype=np.float64))  # no gradient is taken of t: no torch.no_grad() needed
    if kwargs and name in {n for n, _ in KEYWORDS}:
        yield "the default, as if the keyword argument were not there", expected_grad(name, actual, x)
    if name == "softplus":
        beta = kwargs.get("beta", 1.0)
        yield "the function itself, not its derivative", (F.softplus(beta * t) / beta).numpy()
    else:
        yield "the function itself, not its derivative", torch_activation(name, t, **kwargs).numpy()
    if name == "sigmoid":
        yield "sigmoid(sigmoid(x)), the sigmoid applied twice", torch.sigmoid(torch.sigmoid(t)).numpy()
        yield "x * (1 - x): the formula in terms of the output, applied to the input x", (t * (1 - t)).numpy()
    if name == "tanh":
        yield "1 - x**2: the formula in terms of the output, applied to the input x", (1 - t**2).numpy()
    if name in ("silu", "swish"):
        beta = kwargs.get("beta", 1.0)
        s = torch.sigmoid(beta * t)
        yield "the sigmoid alone: the second term of the product rule is missing", s.numpy()
        if beta != 1.0:
            yield ("s * (1 + x * (1 - s)) with s = sigmoid(beta * x): the chain rule's factor beta is missing",
                   (s * (1 + t * (1 - s))).numpy())
    if name == "gelu" and kwargs.get("approximate", "none") == "none":
        yield "the derivative of the tanh approximation", grad("gelu", x, approximate="tanh")
        yield ("Phi(x) alone: the second term of the product rule is missing",
               (0.5 * (1 + torch.erf(t / 2**0.5))).numpy())
    if name == "gelu" and kwargs.get("approximate") == "tanh":
        u = (2 / np.pi) ** 0.5 * (t + 0.044715 * t**3)
        yield ("0.5 * (1 + tanh(u)) alone: the second term of the product rule is missing",
               (0.5 * (1 + torch.tanh(u))).numpy())


@for_each(ELEMENTWISE, FORMULA)
def test_values_match_autograd_in_float64(student, name):
    """returns f'(x) as float64 for float64 random and edge inputs, matching torch.autograd"""
    x = random_inputs()
    y = getattr(student, f"{name}_grad")(x)
    assert_dtype(y, np.float64, f"{name}_grad", contract=KEEP_DTYPE)
    assert_grad(y, name, x, f"{name}_grad")


@for_each(ELEMENTWISE, DETAIL)
def test_float32_input_gives_float32_output(student, name):
    """keeps float32 input as float32, with float32 accuracy"""
    x = random_inputs(seed=1).astype(np.float32)
    y = getattr(student, f"{name}_grad")(x)
    assert_dtype(y, np.float32, f"{name}_grad", contract=KEEP_DTYPE)
    assert_grad(y, name, x, f"{name}_grad", rtol=RTOL32, atol=ATOL32)


@for_each(ELEMENTWISE, DETAIL)
def test_shapes_are_kept_for_0d_nd_and_empty_input(student, name):
    """returns the input's shape for 0-d, 2-d, 3-d and empty arrays"""
    rng = np.random.default_rng(2)
    for shape in [(), (4, 5), (2, 3, 4), (0,), (2, 0, 3)]:
        x = rng.normal(0.0, 3.0, shape)
        y = getattr(student, f"{name}_grad")(x)
        assert_shape(y, shape, f"{name}_grad", contract=SAME_SHAPE)
        assert_grad(y, name, x, f"{name}_grad on shape {shape}")


@for_each(ELEMENTWISE, DETAIL)
def test_input_is_not_modified(student, name):
    """does not change its input array"""
    x = random_inputs(seed=3)
    result = student.call(f"{name}_grad", x)
    assert_unchanged(x, result.args_after[0], f"{name}_grad")


@for_each(ELEMENTWISE, FORMULA)
def test_large_inputs_are_finite_and_warning_free(student, name):
    """stays finite and correct, with no overflow or invalid-value warning, for |x| up to 1e4"""
    for x in (LARGE, LARGE.astype(np.float32)):
        result = student.call(f"{name}_grad", x)
        assert_no_warnings(result, f"{name}_grad on inputs as large as 1e4")
        assert_grad(result.value, name, x, f"{name}_grad on inputs as large as 1e4",
                    **({} if x.dtype == np.float64 else {"rtol": RTOL32, "atol": ATOL32}))


@for_each(KINKED, FORMULA)
def test_kink_value_is_between_the_one_sided_derivatives(student, name):
    """at the kink x = 0 returns a value the contract accepts (a one-sided derivative, or between them)"""
    x = np.array([-1e-12, -0.0, 0.0, 1e-12])
    assert_grad(getattr(student, f"{name}_grad")(x), name, x, f"{name}_grad at and next to 0")
    if name in ("leaky_relu", "elu"):
        assert_grad(getattr(student, f"{name}_grad")(x, alpha=0.5), name, x, f"{name}_grad with alpha=0.5 at 0",
                    alpha=0.5)


KEYWORDS = [("leaky_relu", {"alpha": 0.2}), ("leaky_relu", {"alpha": 0.0}), ("elu", {"alpha": 0.5}),
            ("elu", {"alpha": 2.0}), ("swish", {"beta": 2.0}), ("swish", {"beta": 0.5}),
            ("softplus", {"beta": 2.0}), ("softplus", {"beta": 0.25}), ("gelu", {"approximate": "tanh"}),
            ("gelu", {"approximate": "none"})]


@pytest.mark.parametrize("name, kwargs", [
    pytest.param(n, k, id=f"{n}-{next(iter(k.values()))}", marks=pytest.mark.cell(f"test_{n}_grad", weight=DETAIL))
    for n, k in KEYWORDS])
def test_keyword_arguments_are_honoured(student, name, kwargs):
    """uses the keyword argument it is given"""
    x = random_inputs(seed=4)
    label = f"{name}_grad with {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}"
    assert_grad(getattr(student, f"{name}_grad")(x, **kwargs), name, x, label, **kwargs)


@pytest.mark.cell("test_gelu_grad", weight=DETAIL)
def test_gelu_grad_tanh_form_is_float32_and_stable(student):
    """with approximate='tanh', keeps float32 and stays finite without warnings for |x| up to 1e4"""
    x32 = random_inputs(seed=5).astype(np.float32)
    y = student.gelu_grad(x32, approximate="tanh")
    assert_dtype(y, np.float32, "gelu_grad with approximate='tanh'", contract=KEEP_DTYPE)
    # In float32, 1 + tanh(u) cancels near x = -5: PyTorch's own float32 gradient is off by over 1e-6 there.
    assert_grad(y, "gelu", x32, "gelu_grad with approximate='tanh'", rtol=RTOL32, atol=1e-5, approximate="tanh")
    for x in (LARGE, LARGE.astype(np.float32)):
        result = student.call("gelu_grad", x, approximate="tanh")
        assert_no_warnings(result, "gelu_grad with approximate='tanh' on inputs as large as 1e4")
        assert_grad(result.value, "gelu", x, "gelu_grad with approximate='tanh' on inputs as large as 1e4",
                    approximate="tanh", **({} if x.dtype == np.float64 else {"rtol": RTOL32, "atol": ATOL32}))


@pytest.mark.cell("test_gelu_grad", weight=DETAIL)
def test_gelu_grad_rejects_an_unknown_approximation(student):
    """raises ValueError for an unknown value of approximate"""
    assert_raises(lambda: student.gelu_grad(np.ones(3), approximate="sigmoid"), "gelu_grad with approximate='sigmoid'")


# PReLU takes an array of slopes, one per channel of the last axis.
PRELU_FORMULA = pytest.mark.cell("test_prelu_grad", weight=FORMULA)
PRELU_DETAIL = pytest.mark.cell("test_prelu_grad", weight=DETAIL)
SLOPES = np.array([0.01, 0.1, 0.25, 0.9])


@PRELU_FORMULA
def test_prelu_grad_values_with_one_slope_per_channel(student):
    """returns 1 for positive inputs and alpha[j] for negative inputs of channel j (the last axis)"""
    x = np.random.default_rng(6).normal(0.0, 3.0, (50, 4))
    x[0] = 0.0  # the kink, in every channel
    y = student.prelu_grad(x, SLOPES)
    assert_dtype(y, np.float64, "prelu_grad", contract=KEEP_DTYPE)
    assert_grad(y, "prelu", x, "prelu_grad", alpha=SLOPES)


@PRELU_DETAIL
def test_prelu_grad_scalar_slope_and_shapes(student):
    """takes a scalar alpha, and keeps 0-d, 1-d, 3-d and empty shapes"""
    rng = np.random.default_rng(7)
    for shape in [(), (7,), (2, 3, 4), (0, 4)]:
        x = rng.normal(0.0, 3.0, shape)
        y = student.prelu_grad(x, 0.2)
        assert_shape(y, shape, "prelu_grad", contract=SAME_SHAPE)
        assert_grad(y, "prelu", x, f"prelu_grad on shape {shape}", alpha=0.2)
    x = rng.normal(0.0, 3.0, (2, 3, 4))
    assert_grad(student.prelu_grad(x, SLOPES), "prelu", x, "prelu_grad on a 3-d input", alpha=SLOPES)


@PRELU_DETAIL
def test_prelu_grad_float32_and_large_inputs(student):
    """keeps float32 input as float32, and is warning-free for |x| up to 1e4"""
    x = random_inputs(seed=8).astype(np.float32).reshape(-1, 2)
    alpha = np.array([0.1, 0.3], dtype=np.float32)
    y = student.prelu_grad(x, alpha)
    assert_dtype(y, np.float32, "prelu_grad", contract=KEEP_DTYPE)
    assert_grad(y, "prelu", x, "prelu_grad", rtol=RTOL32, atol=ATOL32, alpha=alpha)
    result = student.call("prelu_grad", LARGE.reshape(-1, 2), np.array([0.1, 0.3]))
    assert_no_warnings(result, "prelu_grad on inputs as large as 1e4")
    assert_grad(result.value, "prelu", LARGE.reshape(-1, 2), "prelu_grad on inputs as large as 1e4",
                alpha=np.array([0.1, 0.3]))


@PRELU_DETAIL
def test_prelu_grad_input_is_not_modified(student):
    """does not change x or alpha"""
    x, alpha = random_inputs(seed=9).reshape(-1, 2), np.array([0.1, 0.3])
    result = student.call("prelu_grad", x, alpha)
    assert_unchanged(x, result.args_after[0], "prelu_grad")
    assert_unchanged(alpha, result.args_after[1], "prelu_grad")

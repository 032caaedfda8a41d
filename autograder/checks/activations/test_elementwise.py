"""Hidden checks of the elementwise activations: values, dtype, shapes, purity, stability, keywords."""
import numpy as np
import pytest

from autograder.checking import (DETAIL, FORMULA, CheckFailure, assert_close, assert_dtype, assert_no_warnings,
                                 assert_raises,
                                 assert_shape, assert_unchanged, tolerance)

from .references import elementwise as reference, elementwise_sensitivity

ELEMENTWISE = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "swish",
               "softplus"]
STABLE = ["sigmoid", "tanh", "softplus", "silu", "swish", "elu", "selu", "gelu"]
EDGES = np.array([0.0, -0.0, 1e-12, -1e-12, 1e-6, -1e-6, 0.5, -0.5, 1, -1, 2, -2, 6, -6, 10, -10,
                  20, -20, 30, -30, 40, -40, 50, -50, 100, -100])
KEEP_FLOAT32 = "keep float32 input as float32 (and float64 as float64)"  # the notebook's words
SAME_SHAPE = "return an array of the same shape, for 0-d and empty arrays too"
LARGE = np.array([-1e4, -1e3, -710.0, -100.0, 100.0, 710.0, 1e3, 1e4])


def random_inputs(seed=0, size=300):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0.0, 4.0, size), EDGES])


def assert_matches(value, name, x, what, **kwargs):
    """`value` is f(x) to within rounding in x's dtype plus what f's conditioning at x allows. Wrong values that
    are those of a known look-alike say so (misconceptions.toml explains each to the student)."""
    try:
        assert_close(value, reference(name, x, **kwargs), what,
                     **tolerance(x.dtype, elementwise_sensitivity(name, x, **kwargs)))
    except CheckFailure as failure:
        for look_alike, other in look_alikes(name, kwargs):
            try:
                assert_close(value, reference(name, x, **other), what,
                             **tolerance(x.dtype, elementwise_sensitivity(name, x, **other)))
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


def look_alikes(name, kwargs):
    """(description, keyword arguments) of the results a common mistake gives instead of f(x, **kwargs)."""
    if name == "gelu" and kwargs.get("approximate", "none") == "none":
        yield "the tanh approximation", {"approximate": "tanh"}
    if name == "gelu" and kwargs.get("approximate") == "tanh":
        yield "the exact (erf) form, not the tanh approximation asked for", {}
    elif kwargs and name in {n for n, _ in KEYWORDS}:
        yield "the default, as if the keyword argument were not there", {}


def for_each(names, weight):
    """Parametrize a check of the given weight over functions, each case backing the test cell of its function."""
    return pytest.mark.parametrize("name", [pytest.param(n, id=n, marks=pytest.mark.cell(f"test_{n}", weight=weight))
                                            for n in names])


@for_each(ELEMENTWISE, FORMULA)
def test_values_match_pytorch_in_float64(student, name):
    """returns the right values for random and edge inputs (float64)"""
    x = random_inputs()
    assert_matches(getattr(student, name)(x), name, x, name)


@for_each(ELEMENTWISE, DETAIL)
def test_float32_input_gives_float32_output(student, name):
    """keeps float32 input as float32, with float32 accuracy"""
    x = random_inputs(seed=1).astype(np.float32)
    y = getattr(student, name)(x)
    assert_dtype(y, np.float32, name, contract=KEEP_FLOAT32)
    assert_matches(y, name, x, name)


@for_each(ELEMENTWISE, DETAIL)
def test_zero_dimensional_input(student, name):
    """works on a 0-d array (a single number) and returns a 0-d result"""
    x = np.array(-1.5)
    y = getattr(student, name)(x)
    assert_shape(y, (), name, contract=SAME_SHAPE)
    assert_matches(y, name, x, name)


@for_each(ELEMENTWISE, DETAIL)
def test_shapes_are_kept_for_nd_and_empty_input(student, name):
    """returns the input's shape for 2-d, 3-d and empty arrays"""
    rng = np.random.default_rng(2)
    for shape in [(4, 5), (2, 3, 4), (0,), (2, 0, 3)]:
        x = rng.normal(0.0, 3.0, shape)
        assert_matches(getattr(student, name)(x), name, x, f"{name} on shape {shape}")


@for_each(ELEMENTWISE, DETAIL)
def test_input_is_not_modified(student, name):
    """does not change its input array"""
    x = random_inputs(seed=3)
    result = student.call(name, x)
    assert_unchanged(x, result.args_after[0], name)


@for_each(STABLE, FORMULA)
def test_large_inputs_are_finite_and_warning_free(student, name):
    """stays finite and correct, with no overflow warning, for |x| up to 1e4"""
    for x in (LARGE, LARGE.astype(np.float32)):
        result = student.call(name, x)
        assert_no_warnings(result, f"{name} on inputs as large as 1e4")
        assert_matches(result.value, name, x, f"{name} on inputs as large as 1e4")


KEYWORDS = [("leaky_relu", {"alpha": 0.2}), ("leaky_relu", {"alpha": 0.0}), ("elu", {"alpha": 0.5}),
            ("elu", {"alpha": 2.0}), ("swish", {"beta": 2.0}), ("swish", {"beta": 0.5}),
            ("softplus", {"beta": 2.0}), ("softplus", {"beta": 0.25}), ("gelu", {"approximate": "tanh"}),
            ("gelu", {"approximate": "none"})]


@pytest.mark.parametrize("name, kwargs", [
    pytest.param(n, k, id=f"{n}, {', '.join(f'{a}={v!r}' for a, v in k.items())}",
                 marks=pytest.mark.cell(f"test_{n}", weight=DETAIL))
    for n, k in KEYWORDS])
def test_keyword_arguments_are_honoured(student, name, kwargs):
    """uses the keyword argument it is given"""
    x = random_inputs(seed=4)
    label = f"{name} with {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}"
    assert_matches(getattr(student, name)(x, **kwargs), name, x, label, **kwargs)


@pytest.mark.cell("test_gelu", weight=DETAIL)
def test_gelu_rejects_an_unknown_approximation(student):
    """raises ValueError for an unknown value of approximate"""
    assert_raises(lambda: student.gelu(np.ones(3), approximate="sigmoid"), "gelu with approximate='sigmoid'")


# PReLU takes an array of slopes, one per channel of the last axis.
PRELU_FORMULA = pytest.mark.cell("test_prelu", weight=FORMULA)
PRELU_DETAIL = pytest.mark.cell("test_prelu", weight=DETAIL)


@PRELU_FORMULA
def test_prelu_values_with_one_slope_per_channel(student):
    """applies alpha[j] to the negative inputs of channel j (the last axis)"""
    rng = np.random.default_rng(5)
    x, alpha = rng.normal(0.0, 3.0, (50, 4)), np.array([0.01, 0.1, 0.25, 0.9])
    assert_matches(student.prelu(x, alpha), "prelu", x, "prelu", alpha=alpha)


@PRELU_DETAIL
def test_prelu_scalar_slope_and_shapes(student):
    """takes a scalar alpha, and keeps 0-d, 1-d, 3-d and empty shapes"""
    rng = np.random.default_rng(6)
    for shape in [(), (7,), (2, 3, 4), (0, 4)]:
        x = rng.normal(0.0, 3.0, shape)
        assert_matches(student.prelu(x, 0.2), "prelu", x, f"prelu on shape {shape}", alpha=0.2)
    x = rng.normal(0.0, 3.0, (2, 3, 4))
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    assert_matches(student.prelu(x, alpha), "prelu", x, "prelu on a 3-d input", alpha=alpha)


@PRELU_DETAIL
def test_prelu_float32(student):
    """keeps float32 input as float32"""
    x = random_inputs(seed=7).astype(np.float32).reshape(-1, 2)
    alpha = np.array([0.1, 0.3], dtype=np.float32)
    y = student.prelu(x, alpha)
    assert_dtype(y, np.float32, "prelu", contract=KEEP_FLOAT32)
    assert_matches(y, "prelu", x, "prelu", alpha=alpha)


@PRELU_DETAIL
def test_prelu_input_is_not_modified(student):
    """does not change x or alpha"""
    x, alpha = random_inputs(seed=8).reshape(-1, 2), np.array([0.1, 0.3])
    result = student.call("prelu", x, alpha)
    assert_unchanged(x, result.args_after[0], "prelu")
    assert_unchanged(alpha, result.args_after[1], "prelu")

"""Hidden checks of one neuron: the weighted sum z = w·x + b and the step function."""
import numpy as np
import pytest

from autograder.checking import (RTOL32, ATOL32, DETAIL, FORMULA, CheckFailure, assert_close, assert_dtype,
                                 assert_shape, assert_unchanged)

from . import references as ref

STEP = "Returns a new array of the same shape and the same float dtype as z (float32 stays float32)"
WEIGHTED_SUM_FORMULA = pytest.mark.cell("test_weighted_sum", weight=FORMULA)
WEIGHTED_SUM_DETAIL = pytest.mark.cell("test_weighted_sum", weight=DETAIL)
STEP_FORMULA = pytest.mark.cell("test_step", weight=FORMULA)
STEP_DETAIL = pytest.mark.cell("test_step", weight=DETAIL)


def neuron(n, seed, dtype=np.float64):
    """Inputs x (n,), weights w (n,) and a bias b of the given dtype."""
    rng = np.random.default_rng(seed)
    x, w = rng.normal(0.0, 2.0, n).astype(dtype), rng.normal(0.0, 1.0, n).astype(dtype)
    return x, w, dtype(rng.normal(0.0, 3.0))


@WEIGHTED_SUM_FORMULA
def test_weighted_sum_of_one_example_is_a_single_number_with_the_right_value(student):
    """gives w·x + b as a single number (shape ()) for one example x of shape (n,)"""
    for seed, n in enumerate((1, 3, 10, 57)):
        x, w, b = neuron(n, seed)
        assert_close(student.weighted_sum(x, w, b), ref.weighted_sum(x, w, b),
                              f"weighted_sum for x of shape ({n},)")


@WEIGHTED_SUM_FORMULA
def test_weighted_sum_adds_the_bias(student):
    """adds the bias b: the pre-activation of a zero input is b"""
    x, w, _ = neuron(6, seed=10)
    for b in (2.5, -4.0):
        assert_close(student.weighted_sum(np.zeros(6), w, b), ref.weighted_sum(np.zeros(6), w, b),
                              f"weighted_sum of a zero input with b = {b}")
        assert_close(student.weighted_sum(x, w, b), ref.weighted_sum(x, w, b), f"weighted_sum with b = {b}")


@WEIGHTED_SUM_FORMULA
def test_weighted_sum_of_a_batch_gives_one_value_per_row(student):
    """takes a batch x of shape (batch, n) and returns shape (batch,), one z per row"""
    rng = np.random.default_rng(11)
    for batch, n in ((6, 4), (1, 5), (3, 1)):
        X, w, b = rng.normal(0.0, 2.0, (batch, n)), rng.normal(0.0, 1.0, n), 0.75
        assert_close(student.weighted_sum(X, w, b), ref.weighted_sum(X, w, b),
                              f"weighted_sum for a batch of shape {(batch, n)}")


@WEIGHTED_SUM_DETAIL
def test_weighted_sum_keeps_float32(student):
    """keeps float32 inputs as float32, for one example and for a batch"""
    x, w, b = neuron(8, seed=12, dtype=np.float32)
    X = np.stack([x, -x, 2 * x])
    for inputs, what in ((x, "one example"), (X, "a batch")):
        z = student.weighted_sum(inputs, w, b)
        assert_dtype(z, np.float32, f"weighted_sum for {what}",
                     contract="Keeps the float dtype of x and w (float32 stays float32)")
        assert_close(z, ref.weighted_sum(inputs, w, b), f"weighted_sum for {what}",
                              rtol=RTOL32, atol=ATOL32)


@WEIGHTED_SUM_DETAIL
def test_weighted_sum_does_not_modify_its_inputs(student):
    """does not change x or w"""
    x, w, b = neuron(9, seed=13)
    X = np.stack([x, x + 1.0])
    for inputs in (x, X):
        result = student.call("weighted_sum", inputs, w, b)
        assert_unchanged(inputs, result.args_after[0], "weighted_sum")
        assert_unchanged(w, result.args_after[1], "weighted_sum")


EDGES = np.array([0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-9, -1e-9, 1.0, -1.0, 1e300, -1e300,
                  np.inf, -np.inf])


def pre_activations(seed=0, size=200, dtype=np.float64):
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):  # in float32, the edges beyond its range become ±inf (still edges)
        return np.concatenate([rng.normal(0.0, 3.0, size), EDGES]).astype(dtype)


def assert_step(value, z, what):
    """`value` is step(z); wrong values that are those of a known look-alike say so (misconceptions.toml explains
    each to the student)."""
    try:
        assert_close(value, ref.step(z), what)
    except CheckFailure as failure:
        z = np.asarray(z, dtype=np.float64)
        for look_alike, other in [("z > 0, which stays silent at z = 0", (z > 0).astype(np.float64)),
                                  ("(sign(z) + 1) / 2, which is 0.5 at z = 0", (np.sign(z) + 1) / 2)]:
            try:
                assert_close(value, other, what)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


@STEP_FORMULA
def test_step_values_for_random_and_edge_inputs(student):
    """returns 1.0 where z >= 0 and 0.0 where z < 0, for random and edge inputs (tiny, huge, infinite)"""
    z = pre_activations()
    assert_step(student.step(z), z, "step")


@STEP_FORMULA
def test_step_fires_at_exactly_zero(student):
    """gives 1.0 at z = 0 and at z = -0.0: the neuron fires when z >= 0"""
    z = np.array([0.0, -0.0, 0.0])
    assert_step(student.step(z), z, "step at z = 0")
    assert_step(student.step(np.array(0.0)), 0.0, "step of a 0-d zero")
    assert_step(student.step(-0.0), -0.0, "step(-0.0)")


@STEP_DETAIL
def test_step_returns_floats_in_the_input_dtype(student):
    """returns its 0.0 and 1.0 in the input's float dtype (float32 stays float32), not as booleans or integers"""
    for dtype in (np.float64, np.float32):
        assert_dtype(student.step(pre_activations(seed=1, dtype=dtype)), dtype, "step", contract=STEP)
        assert_dtype(student.step(np.array(0.5, dtype=dtype)), dtype, "step of a 0-d array", contract=STEP)


@STEP_DETAIL
def test_step_keeps_every_shape(student):
    """works on a Python float, a 0-d array, 2-d, 3-d and empty arrays, and keeps their shape"""
    assert_close(student.step(-1.5), ref.step(-1.5), "step of the Python float -1.5")
    rng = np.random.default_rng(2)
    for shape in [(), (4, 5), (2, 3, 4), (0,), (2, 0, 3)]:
        z = rng.normal(0.0, 3.0, shape)
        y = student.step(z)
        assert_shape(y, shape, "step", contract=STEP)
        assert_close(y, ref.step(z), f"step on shape {shape}")


@STEP_DETAIL
def test_step_does_not_modify_its_input(student):
    """does not change its input array"""
    z = pre_activations(seed=3)
    result = student.call("step", z)
    assert_unchanged(z, result.args_after[0], "step")

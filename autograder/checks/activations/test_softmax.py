"""Hidden checks of softmax and log_softmax: values along any axis, temperature, stability, dtype."""
import numpy as np
import pytest

from autograder.checking import (DETAIL, FORMULA, CheckFailure, assert_close, assert_dtype, assert_no_warnings,
                                 assert_unchanged, tolerance)

from . import references as ref

SOFTMAX_FORMULA = pytest.mark.cell("test_softmax", weight=FORMULA)
SOFTMAX_DETAIL = pytest.mark.cell("test_softmax", weight=DETAIL)
LOG_SOFTMAX_FORMULA = pytest.mark.cell("test_log_softmax", weight=FORMULA)
LOG_SOFTMAX_DETAIL = pytest.mark.cell("test_log_softmax", weight=DETAIL)
KEEP_FLOAT32 = "keep float32 input as float32 (and float64 as float64)"  # the notebook's words
LARGE = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [0.0, 1000.0, 999.0], [-710.0, 710.0, 0.0]])


def logits(shape, seed=0, scale=4.0):
    return np.random.default_rng(seed).normal(0.0, scale, shape)


def assert_softmax(value, x, what, axis=-1, temperature=1.0):
    """`value` is softmax(x) to within rounding in x's dtype plus what softmax's conditioning at x allows."""
    assert_close(value, ref.softmax(x, axis, temperature), what,
                 **tolerance(x.dtype, ref.softmax_sensitivity(x, axis, temperature)))


def assert_log_softmax(value, x, what, axis=-1):
    """`value` is log_softmax(x) to within rounding in x's dtype plus what its conditioning at x allows."""
    assert_close(value, ref.log_softmax(x, axis), what, **tolerance(x.dtype, ref.log_softmax_sensitivity(x, axis)))


@SOFTMAX_FORMULA
def test_softmax_values_along_the_last_axis(student):
    """returns the right probabilities along the last axis (the default)"""
    x = logits((40, 7))
    assert_softmax(student.softmax(x), x, "softmax")


@SOFTMAX_DETAIL
def test_softmax_honours_axis(student):
    """normalises along the axis it is given"""
    x2, x3 = logits((6, 5), seed=1), logits((3, 4, 5), seed=2)
    assert_softmax(student.softmax(x2, axis=0), x2, "softmax with axis=0", axis=0)
    assert_softmax(student.softmax(x3, axis=1), x3, "softmax with axis=1 on a 3-d input", axis=1)


@SOFTMAX_DETAIL
def test_softmax_honours_temperature(student):
    """divides the inputs by temperature"""
    x = logits((10, 6), seed=3)
    for temperature in (0.5, 4.0):
        assert_softmax(student.softmax(x, temperature=temperature), x, f"softmax with temperature={temperature}",
                       temperature=temperature)


@SOFTMAX_FORMULA
def test_softmax_is_a_distribution(student):
    """gives non-negative values that sum to 1 along the axis"""
    x = logits((20, 9), seed=4, scale=30.0)
    for axis in (0, 1):
        p = np.asarray(student.softmax(x, axis=axis))
        if p.shape != x.shape or not np.all(p >= 0) or not np.allclose(p.sum(axis=axis), 1.0, rtol=0, atol=1e-12):
            raise CheckFailure(f"softmax with axis={axis} does not sum to 1 along that axis")


@SOFTMAX_FORMULA
def test_softmax_is_shift_invariant_and_stable(student):
    """gives the same result when a constant is added, and stays finite without warnings for |x| up to 1e4"""
    x = logits((5, 4), seed=5)
    assert_softmax(student.softmax(x + 1000.0), x + 1000.0, "softmax of x + 1000")
    for big in (LARGE, LARGE.astype(np.float32)):
        result = student.call("softmax", big)
        assert_no_warnings(result, "softmax on inputs as large as 1e4")
        assert_softmax(result.value, big, "softmax on inputs as large as 1e4")


@SOFTMAX_DETAIL
def test_softmax_float32_and_shapes(student):
    """keeps float32 as float32, and works on 1-d, 3-d and empty-batch inputs"""
    x = logits((8, 5), seed=6).astype(np.float32)
    y = student.softmax(x)
    assert_dtype(y, np.float32, "softmax", contract=KEEP_FLOAT32)
    assert_softmax(y, x, "softmax")
    for shape in [(7,), (2, 3, 4), (0, 5)]:
        x = logits(shape, seed=7)
        assert_softmax(student.softmax(x), x, f"softmax on shape {shape}")


@SOFTMAX_DETAIL
def test_softmax_input_is_not_modified(student):
    """does not change its input array"""
    x = logits((6, 4), seed=8)
    assert_unchanged(x, student.call("softmax", x).args_after[0], "softmax")


@LOG_SOFTMAX_FORMULA
def test_log_softmax_values_and_axis(student):
    """returns the right values along the last axis and along the axis it is given"""
    x2, x3 = logits((30, 6), seed=9), logits((3, 4, 5), seed=10)
    assert_log_softmax(student.log_softmax(x2), x2, "log_softmax")
    assert_log_softmax(student.log_softmax(x2, axis=0), x2, "log_softmax with axis=0", axis=0)
    assert_log_softmax(student.log_softmax(x3, axis=1), x3, "log_softmax with axis=1", axis=1)


@LOG_SOFTMAX_FORMULA
def test_log_softmax_is_finite_where_softmax_underflows(student):
    """stays finite and correct, with no warnings, where softmax underflows to 0 (|x| up to 1e4)"""
    for big in (LARGE, LARGE.astype(np.float32)):
        result = student.call("log_softmax", big)
        assert_no_warnings(result, "log_softmax on inputs as large as 1e4")
        assert_log_softmax(result.value, big, "log_softmax on inputs as large as 1e4")


@LOG_SOFTMAX_DETAIL
def test_log_softmax_float32_and_shapes(student):
    """keeps float32 as float32, and works on 1-d, 3-d and empty-batch inputs"""
    x = logits((8, 5), seed=11).astype(np.float32)
    y = student.log_softmax(x)
    assert_dtype(y, np.float32, "log_softmax", contract=KEEP_FLOAT32)
    assert_log_softmax(y, x, "log_softmax")
    for shape in [(7,), (2, 3, 4), (0, 5)]:
        x = logits(shape, seed=12)
        assert_log_softmax(student.log_softmax(x), x, f"log_softmax on shape {shape}")


@LOG_SOFTMAX_DETAIL
def test_log_softmax_input_is_not_modified(student):
    """does not change its input array"""
    x = logits((6, 4), seed=13)
    assert_unchanged(x, student.call("log_softmax", x).args_after[0], "log_softmax")

"""Hidden checks of softmax_backward: the vector-Jacobian product of softmax along any axis."""
import numpy as np
import pytest

from autograder.checking import (RTOL32, ATOL32, DETAIL, FORMULA, CheckFailure, assert_close, assert_dtype,
                                 assert_unchanged)

from .references import softmax, softmax_vjp_autograd, softmax_vjp_jacobian

SOFTMAX_BACKWARD_FORMULA = pytest.mark.cell("test_softmax_backward", weight=FORMULA)
SOFTMAX_BACKWARD_DETAIL = pytest.mark.cell("test_softmax_backward", weight=DETAIL)


def problem(shape, axis=-1, seed=0, scale=3.0):
    """(x, s = softmax(x) along axis, dout): logits, their softmax and an upstream gradient."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, shape)
    return x, softmax(x, axis=axis), rng.normal(0.0, 1.0, shape)


def assert_vjp(dx, expected, dout, s, what, axis=-1, **tolerances):
    """`dx` is J^T dout along `axis`; wrong values that are those of a known look-alike say so (misconceptions.toml
    explains each to the student)."""
    try:
        assert_close(dx, expected, what, **tolerances)
    except CheckFailure as failure:
        s, dout = np.asarray(s, dtype=np.float64), np.asarray(dout, dtype=np.float64)
        look_alikes = [("s * (1 - s) * dout, only the diagonal of the Jacobian", s * (1 - s) * dout),
                       ("a sum over the whole array, not along the axis given", s * (dout - np.sum(dout * s)))]
        look_alikes += [(f"a sum along axis {other}, not along the axis given",
                         s * (dout - np.sum(dout * s, axis=other, keepdims=True)))
                        for other in range(s.ndim) if other != axis % s.ndim]
        for look_alike, values in look_alikes:
            try:
                assert_close(dx, values, what, **tolerances)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


@SOFTMAX_BACKWARD_FORMULA
def test_matches_the_full_jacobian_along_the_last_axis(student):
    """returns J^T dout for each row, with J = diag(s) - s s^T, along the last axis (the default)"""
    _, s, dout = problem((30, 6))
    assert_vjp(student.softmax_backward(dout, s), softmax_vjp_jacobian(dout, s), dout, s, "softmax_backward")


@SOFTMAX_BACKWARD_DETAIL
def test_matches_autograd_along_the_last_axis_of_a_3d_array(student):
    """matches torch.autograd through torch.softmax along the last axis of a 3-d array, with axis=-1 and axis=2"""
    x, s, dout = problem((3, 4, 5), axis=-1, seed=1)
    expected = softmax_vjp_autograd(dout, x, axis=-1)
    assert_vjp(student.softmax_backward(dout, s), expected, dout, s, "softmax_backward on a 3-d input")
    assert_vjp(student.softmax_backward(dout, s, axis=2), expected, dout, s, "softmax_backward with axis=2", axis=2)


@SOFTMAX_BACKWARD_DETAIL
def test_honours_axis_0(student):
    """sums along the axis it is given: axis=0 of a 2-d array"""
    x, s, dout = problem((6, 5), axis=0, seed=2)
    assert_vjp(student.softmax_backward(dout, s, axis=0), softmax_vjp_autograd(dout, x, axis=0), dout, s,
               "softmax_backward with axis=0", axis=0)


@SOFTMAX_BACKWARD_DETAIL
def test_honours_a_middle_axis(student):
    """sums along the axis it is given: axis=1 of a 3-d array"""
    x, s, dout = problem((3, 4, 5), axis=1, seed=3)
    assert_vjp(student.softmax_backward(dout, s, axis=1), softmax_vjp_autograd(dout, x, axis=1), dout, s,
               "softmax_backward with axis=1 on a 3-d input", axis=1)


@SOFTMAX_BACKWARD_FORMULA
def test_result_sums_to_zero_along_the_axis(student):
    """returns a gradient that sums to zero along the axis (adding a constant to x does not change softmax)"""
    for axis in (0, 1):
        _, s, dout = problem((8, 7), axis=axis, seed=4, scale=6.0)
        dx = np.asarray(student.softmax_backward(dout, s, axis=axis))
        assert_close(dx.sum(axis=axis) if dx.shape == s.shape else dx, np.zeros(s.shape[1 - axis]),
                     f"the sum of softmax_backward's result along axis={axis}", atol=1e-12)


@SOFTMAX_BACKWARD_DETAIL
def test_float32_1d_and_empty_batch(student):
    """keeps float32 as float32, and works on 1-d inputs and an empty batch"""
    x, s, dout = problem((8, 5), seed=5)
    dx = student.softmax_backward(dout.astype(np.float32), s.astype(np.float32))
    assert_dtype(dx, np.float32, "softmax_backward",
                 contract="returns dx with that shape and s's dtype (float32 stays float32)")
    assert_vjp(dx, softmax_vjp_autograd(dout, x), dout, s, "softmax_backward in float32", rtol=RTOL32, atol=ATOL32)
    for shape in [(7,), (0, 5)]:
        x, s, dout = problem(shape, seed=6)
        assert_close(student.softmax_backward(dout, s), softmax_vjp_autograd(dout, x),
                     f"softmax_backward on shape {shape}")


@SOFTMAX_BACKWARD_DETAIL
def test_inputs_are_not_modified(student):
    """does not change dout or s"""
    _, s, dout = problem((6, 4), seed=7)
    result = student.call("softmax_backward", dout, s)
    assert_unchanged(dout, result.args_after[0], "softmax_backward (its argument dout)")
    assert_unchanged(s, result.args_after[1], "softmax_backward (its argument s)")

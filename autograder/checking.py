"""Assertions for hidden checks whose failure messages are fit for students.

A message says what went wrong with the student's result (wrong dtype, wrong shape, how many
values differ and by how much) but never shows the expected values or the check's code.
The feedback shows a `CheckFailure`'s message; any other failure is reported only by the
check's docstring.

Every comparison is written so that nan fails it: `not (abs(a - b) <= tol)`, never `abs(a - b) > tol`
(nan compares False with everything, so the second form passes a nan), or the value is checked with
`assert_finite` first.
"""
from __future__ import annotations

import numpy as np

# Values must agree with PyTorch's float64 result within RTOL * |expected| + ATOL: tight enough to
# catch a wrong formula, loose enough for any correct one (PyTorch's own tails are this far off).
RTOL, ATOL = 1e-10, 1e-12
RTOL32, ATOL32 = 1e-5, 1e-6


class CheckFailure(AssertionError):
    """A failed hidden check, with a message written for the student."""


def as_array(value, what):
    if isinstance(value, (list, tuple, dict, str)) or value is None:
        raise CheckFailure(f"{what} returned a {type(value).__name__}, not a numpy array")
    return np.asarray(value)


def assert_dtype(value, dtype, what):
    actual = as_array(value, what).dtype
    if actual != np.dtype(dtype):
        raise CheckFailure(f"{what} returned dtype {actual} for {np.dtype(dtype)} input; keep the input's dtype")


def assert_shape(value, shape, what):
    actual = as_array(value, what).shape
    if actual != tuple(shape):
        raise CheckFailure(f"{what} returned shape {actual}; its contract asks for shape {tuple(shape)}")


def assert_close(value, expected, what, rtol=RTOL, atol=ATOL):
    """Shape first, then values: nan and inf where expected, and |a - e| <= atol + rtol * |e| elsewhere."""
    actual = as_array(value, what)
    expected = np.asarray(expected, dtype=np.float64)
    assert_shape(actual, expected.shape, what)
    if actual.dtype.kind not in "biuf":
        raise CheckFailure(f"{what} returned values of dtype {actual.dtype}, not numbers")
    actual = actual.astype(np.float64)
    nan_actual, nan_expected = np.isnan(actual), np.isnan(expected)
    if (nan_actual & ~nan_expected).any():
        raise CheckFailure(f"{what} returned nan in {int((nan_actual & ~nan_expected).sum())} of "
                           f"{actual.size} places where a number is due")
    finite = np.isfinite(expected)
    with np.errstate(all="ignore"):
        close = np.abs(actual - expected) <= atol + rtol * np.abs(expected)
    wrong = (finite & ~close) | (~finite & (actual != expected) & ~(nan_actual & nan_expected))
    if wrong.any():
        with np.errstate(all="ignore"):
            errors = np.abs(actual - expected)[wrong & finite & np.isfinite(actual)]
        worst = f"; largest error {errors.max():.3g}" if errors.size else ""
        infinite = int((wrong & ~np.isfinite(actual)).sum())
        extra = f"; {infinite} of them are inf" if infinite else ""
        raise CheckFailure(f"{what}: {int(wrong.sum())} of {actual.size} values are wrong{worst}{extra}")


def assert_finite(value, what):
    """Every value a finite number: nan and inf fail (a comparison such as `abs(a - b) > tol` lets nan pass)."""
    actual = as_array(value, what)
    if actual.dtype.kind not in "biuf":
        raise CheckFailure(f"{what} returned values of dtype {actual.dtype}, not numbers")
    bad = int(np.size(actual) - np.isfinite(actual).sum())
    if bad:
        raise CheckFailure(f"{what} holds nan or inf in {bad} of {actual.size} places where a number is due")


def assert_no_warnings(result, what):
    if result.warnings:
        raise CheckFailure(f"{what} caused a numpy warning: {result.warnings[0]}")


def assert_unchanged(before, after, what):
    if after is None or not np.array_equal(np.asarray(after), before, equal_nan=True):
        raise CheckFailure(f"{what} changed its input array in place; work on a copy")

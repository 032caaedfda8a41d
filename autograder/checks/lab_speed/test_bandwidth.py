"""Hidden checks of achieved_gbps and fraction_of_peak, against the grader's own arithmetic."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, assert_close, assert_python_float, assert_raises

# FORMULA: wrong values or nan; DETAIL: ValueError for a bad argument, the return type
GBPS = pytest.mark.cell("test_achieved_gbps", weight=FORMULA)
GBPS_DETAIL = pytest.mark.cell("test_achieved_gbps", weight=DETAIL)
FRACTION = pytest.mark.cell("test_fraction_of_peak", weight=FORMULA)
FRACTION_DETAIL = pytest.mark.cell("test_fraction_of_peak", weight=DETAIL)
RTOL, ATOL = 1e-12, 0.0  # one division, maybe two: a correct float result is this close


def assert_value(value, expected, what, look_alikes):
    """`value` is `expected` to within RTOL; a wrong one that a common mistake gives says which
    (misconceptions.toml explains each): look_alikes are (description, the mistake's value)."""
    try:
        assert_close(value, expected, what, rtol=RTOL, atol=ATOL)
    except CheckFailure as failure:
        for description, other in look_alikes:
            try:
                assert_close(value, other, what, rtol=RTOL, atol=ATOL)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: it is {description}") from None
        raise


def gbps_look_alikes(nbytes, seconds):
    nbytes, seconds = int(nbytes), float(seconds)
    return [("gibibytes per second (2**30 bytes), not gigabytes (1e9 bytes)", nbytes / seconds / 2**30),
            ("gigabits per second (8 bits a byte), not gigabytes", 8 * nbytes / seconds / 1e9),
            ("rounded down: // is floor division", nbytes // seconds // 10**9)]


def fraction_look_alikes(achieved, peak):
    achieved, peak = float(achieved), float(peak)
    return [("peak / achieved: the ratio is upside down", peak / achieved if achieved else float("inf")),
            ("a percentage (90), not a fraction (0.9)", 100 * achieved / peak),
            ("capped at 1: a fraction above 1 is returned as it is", min(achieved / peak, 1.0))]


def random_measurements(seed, n=40):
    """(nbytes, seconds) pairs over the range a lab sees: kilobytes to terabytes, nanoseconds to minutes."""
    rng = np.random.default_rng(seed)
    nbytes = [int(b) for b in 10 ** rng.uniform(3, 12, n)]
    seconds = [float(s) for s in 10 ** rng.uniform(-7, 2, n)]
    return list(zip(nbytes, seconds))


@GBPS
def test_gbps_counts_decimal_gigabytes_per_second(student):
    """divides bytes by seconds and by 1e9 (decimal gigabytes), for measured sizes and times"""
    for nbytes, seconds in random_measurements(0):
        assert_value(student.achieved_gbps(nbytes, seconds), nbytes / seconds / 1e9,
                     f"achieved_gbps({nbytes}, {seconds:.3g})", gbps_look_alikes(nbytes, seconds))


@GBPS
def test_gbps_for_extreme_sizes_and_times(student):
    """handles a nanosecond, a day, zero bytes, 2**40 bytes and numpy numbers"""
    cases = [(2**40, 1e-9), (2**40, 86400.0), (0, 1.0), (1, 1e-9), (2**36, 3.7e-3),
             (np.int64(2**35), np.float64(0.011)), (10**9, 1)]
    for nbytes, seconds in cases:
        assert_value(student.achieved_gbps(nbytes, seconds), int(nbytes) / float(seconds) / 1e9,
                     f"achieved_gbps({nbytes}, {seconds})", gbps_look_alikes(nbytes, seconds))


@GBPS_DETAIL
def test_gbps_rejects_a_time_that_is_not_positive(student):
    """raises ValueError when seconds is 0 or negative"""
    for seconds in [0.0, 0, -0.0, -1e-3, -5]:
        assert_raises(lambda: student.achieved_gbps(1000, seconds), f"achieved_gbps(1000, {seconds})")


@GBPS_DETAIL
def test_gbps_returns_a_float(student):
    """returns a float, also for int arguments"""
    for nbytes, seconds in [(10**9, 1), (2**33, 0.5)]:
        assert_python_float(student.call("achieved_gbps", nbytes, seconds), f"achieved_gbps({nbytes}, {seconds})")


@FRACTION
def test_fraction_is_achieved_over_peak(student):
    """returns achieved / peak for many bandwidths"""
    rng = np.random.default_rng(1)
    for achieved, peak in zip(rng.uniform(0, 4000, 30), rng.uniform(1, 4000, 30)):
        assert_value(student.fraction_of_peak(float(achieved), float(peak)), achieved / peak,
                     f"fraction_of_peak({achieved:.4g}, {peak:.4g})", fraction_look_alikes(achieved, peak))


@FRACTION
def test_fraction_above_the_peak_and_at_zero(student):
    """returns a fraction above 1 as it is, 0 for nothing achieved, and a fraction (0.9), not a percentage (90)"""
    for achieved, peak, expected in [(6.0, 4.0, 1.5), (0.0, 5.0, 0.0), (2700.0, 3000.0, 0.9), (3, 4, 0.75),
                                     (1e-3, 1e3, 1e-6)]:
        assert_value(student.fraction_of_peak(achieved, peak), expected, f"fraction_of_peak({achieved}, {peak})",
                     fraction_look_alikes(achieved, peak))


@FRACTION_DETAIL
def test_fraction_rejects_a_peak_that_is_not_positive(student):
    """raises ValueError when the peak is 0 or negative"""
    for peak in [0.0, 0, -1.0]:
        assert_raises(lambda: student.fraction_of_peak(1.0, peak), f"fraction_of_peak(1.0, {peak})")


@FRACTION_DETAIL
def test_fraction_returns_a_float(student):
    """returns a float, also for int arguments"""
    assert_python_float(student.call("fraction_of_peak", 3, 4), "fraction_of_peak(3, 4)")

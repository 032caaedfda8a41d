"""Hidden checks of numerical_grad (centred differences) and relative_error."""
import numpy as np
import pytest
import torch

from autograder.checking import (DETAIL, FORMULA, CheckFailure, assert_close, assert_dtype, assert_no_warnings,
                                 assert_shape, assert_unchanged)
from autograder.codec import Function

from .references import relative_error as ref_relative_error

FLOAT64_GRAD = "Returns a float64 array of x's shape, computed in float64 whatever x's dtype"  # the notebook's
NUMERICAL_GRAD_FORMULA = pytest.mark.cell("test_numerical_grad", weight=FORMULA)
NUMERICAL_GRAD_DETAIL = pytest.mark.cell("test_numerical_grad", weight=DETAIL)
RELATIVE_ERROR_FORMULA = pytest.mark.cell("test_relative_error", weight=FORMULA)
RELATIVE_ERROR_DETAIL = pytest.mark.cell("test_relative_error", weight=DETAIL)

# (what the student's numerical_grad is given, the same function in torch for the exact gradient, shape).
# Their second derivatives are large, so with h = 1e-3 a forward difference is off by more than 1e-3
# while a centred difference is within 2e-6 of the exact gradient.
FUNCTIONS = [
    ("lambda x: float(np.sum(np.sin(x) * x**2))", lambda t: (torch.sin(t) * t**2).sum(), (12,)),
    ("lambda x: float(np.sum(x**3) + np.sum(x) ** 2)", lambda t: (t**3).sum() + t.sum() ** 2, (4, 5)),
    ("lambda x: float(np.sum(np.cos(x) * np.exp(x / 2)))", lambda t: (torch.cos(t) * torch.exp(t / 2)).sum(),
     (2, 3, 4)),
]
CENTRED_ATOL = 2e-5  # for h = 1e-3: 10x the centred difference's error, 50x below a forward difference's
CUBES = "lambda x: float(np.sum(x**3))"  # its centred difference is exactly 3 x^2 + h^2


def exact_grad(torch_f, x):
    t = torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_(True)
    (g,) = torch.autograd.grad(torch_f(t), t)
    return g.numpy()


def other_differences(torch_f, x, h):
    """(description, values) of the differences a common mistake takes instead of the centred one, in float64."""
    x = np.array(x, dtype=np.float64)
    f = lambda point: torch_f(torch.from_numpy(point)).item()  # noqa: E731
    forward, centred_over_h = np.zeros_like(x), np.zeros_like(x)
    f_x = f(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        forward[i] = (f(up) - f_x) / h
        centred_over_h[i] = (f(up) - f(down)) / h
    return [("a forward difference (f(x + h e_i) - f(x)) / h, not a centred one", forward),
            ("a centred difference divided by h, not by 2h", centred_over_h)]


def assert_numerical_grad(g, torch_f, x, h, what, atol):
    """`g` is the gradient of torch_f at x to within `atol`; wrong values that are those of a known look-alike say
    so (misconceptions.toml explains each to the student)."""
    try:
        assert_close(g, exact_grad(torch_f, x), what, rtol=0.0, atol=atol)
    except CheckFailure as failure:
        for look_alike, values in other_differences(torch_f, x, h):
            try:
                assert_close(g, values, what, rtol=0.0, atol=atol)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


def inputs(shape, seed):
    return np.random.default_rng(seed).uniform(-3.0, 3.0, shape)


@NUMERICAL_GRAD_FORMULA
def test_numerical_grad_is_a_centred_difference(student):
    """with h=1e-3 matches the exact gradient as closely as a centred difference does, on 1-d, 2-d and 3-d x"""
    for source, torch_f, shape in FUNCTIONS:
        x = inputs(shape, seed=len(shape))
        g = student.numerical_grad(Function(source), x, h=1e-3)
        assert_numerical_grad(g, torch_f, x, 1e-3, f"numerical_grad with h=1e-3 on a {len(shape)}-d x", CENTRED_ATOL)


@NUMERICAL_GRAD_DETAIL
def test_numerical_grad_uses_the_step_it_is_given(student):
    """uses the step h it is given (the centred difference of sum(x**3) is 3x**2 + h**2)"""
    x = inputs((3, 4), seed=5)
    for h in (0.1, 0.01):
        g = student.numerical_grad(Function(CUBES), x, h=h)
        what = f"numerical_grad of sum(x**3) with h={h}"
        try:
            assert_close(g, 3 * x**2 + h**2, what, rtol=0.0, atol=1e-9)
        except CheckFailure as failure:
            # the differences of sum(x**3) a common mistake takes, in closed form
            for look_alike, values in [("a forward difference, not a centred one", 3 * x**2 + 3 * x * h + h**2),
                                       ("a centred difference divided by h, not by 2h", 2 * (3 * x**2 + h**2)),
                                       ("a much smaller step than the h given", 3 * x**2)]:
                try:
                    assert_close(g, values, what, rtol=0.0, atol=1e-6)
                except CheckFailure:
                    continue
                raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
            raise


@NUMERICAL_GRAD_FORMULA
def test_numerical_grad_default_step_is_small_and_centred(student):
    """with the default h=1e-5 matches the exact gradient within 1e-7"""
    source, torch_f, shape = FUNCTIONS[0]
    x = inputs(shape, seed=6)
    assert_numerical_grad(student.numerical_grad(Function(source), x), torch_f, x, 1e-5,
                          "numerical_grad with the default h", 1e-7)


@NUMERICAL_GRAD_DETAIL
def test_numerical_grad_leaves_x_unchanged_and_returns_float64(student):
    """leaves x as it was, and returns a float64 array of x's shape"""
    source, torch_f, _ = FUNCTIONS[2]
    x = inputs((2, 3, 4), seed=7)
    result = student.call("numerical_grad", Function(source), x, h=1e-3)
    assert_unchanged(x, result.args_after[1], "numerical_grad (its argument x)")
    assert_dtype(result.value, np.float64, "numerical_grad", contract=FLOAT64_GRAD)
    assert_shape(result.value, x.shape, "numerical_grad", contract=FLOAT64_GRAD)


@NUMERICAL_GRAD_DETAIL
def test_numerical_grad_works_in_float64_for_float32_x(student):
    """computes in float64 when x is float32: returns float64 values as accurate as for float64 x"""
    source, torch_f, shape = FUNCTIONS[0]
    x = inputs(shape, seed=8).astype(np.float32)
    result = student.call("numerical_grad", Function(source), x, h=1e-3)
    assert_dtype(result.value, np.float64, "numerical_grad for float32 x", contract=FLOAT64_GRAD)
    assert_numerical_grad(result.value, torch_f, x, 1e-3, "numerical_grad for float32 x", CENTRED_ATOL)
    assert_unchanged(x, result.args_after[1], "numerical_grad (its argument x)")


KNOWN = [(np.array([1.0, 2.0, -3.0]), np.array([1.0, 2.2, -3.0])),
         (np.array(1.0), np.array(1.5)),
         (np.array([1.0, -1.0]), np.array([-1.0, -1.0])),
         (np.array([[1e-3, 5.0], [0.0, 2.0]]), np.array([[2e-3, 5.0], [1.0, 2.0]]))]


def assert_relative_error(value, a, b, what):
    """`value` is relative_error(a, b); wrong values that are those of a known look-alike say so
    (misconceptions.toml explains each to the student)."""
    assert_shape(value, (), what, contract="max over elements of |a - b| / max(|a|, |b|, 1e-12), as a Python float")
    try:
        assert_close(value, ref_relative_error(a, b), what, rtol=1e-12, atol=0.0)
    except CheckFailure as failure:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        diff = np.abs(a - b)
        with np.errstate(all="ignore"):
            look_alikes = [
                ("|a - b| / |a|: dividing by one of the two alone", np.max(diff / np.abs(a))),
                ("|a - b| / |b|: dividing by one of the two alone", np.max(diff / np.abs(b))),
                ("|a - b| / (|a| + |b|): dividing by the sum, not by the larger of |a| and |b|",
                 np.max(diff / np.maximum(np.abs(a) + np.abs(b), 1e-12))),
                ("the largest difference over the largest magnitude, not the largest elementwise ratio",
                 np.max(diff) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))]
        for look_alike, other in look_alikes:
            if not np.isfinite(other):
                continue
            try:
                assert_close(value, other, what, rtol=1e-9, atol=0.0)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: it is the value of {look_alike}") from None
        raise


@RELATIVE_ERROR_FORMULA
def test_relative_error_known_values(student):
    """returns max |a - b| / max(|a|, |b|) as a single number on small known cases"""
    for a, b in KNOWN:
        assert_relative_error(student.relative_error(a, b), a, b, f"relative_error on arrays of shape {a.shape}")


@RELATIVE_ERROR_FORMULA
def test_relative_error_is_symmetric(student):
    """gives the same value for (a, b) and (b, a)"""
    rng = np.random.default_rng(9)
    a = rng.normal(0.0, 1.0, 20)
    b = a * (1 + rng.normal(0.0, 0.1, 20))
    for first, second in ((a, b), (b, a)):
        assert_relative_error(student.relative_error(first, second), first, second, "relative_error")


@RELATIVE_ERROR_FORMULA
def test_relative_error_is_zero_for_equal_arrays_even_zeros(student):
    """is 0 for equal arrays, zeros included, with no nan and no divide warning"""
    rng = np.random.default_rng(10)
    for a, b in [(np.zeros(5), np.zeros(5)), (np.array([0.0, 1.0]), np.array([0.0, 1.1])),
                 (rng.normal(0.0, 1.0, 8), None)]:
        b = a.copy() if b is None else b
        result = student.call("relative_error", a, b)
        assert_no_warnings(result, "relative_error on arrays with zeros")
        assert_relative_error(result.value, a, b, "relative_error on arrays with zeros")


@RELATIVE_ERROR_FORMULA
def test_relative_error_is_scale_invariant(student):
    """gives the same value when a and b are both multiplied by the same factor"""
    rng = np.random.default_rng(11)
    a = rng.normal(0.0, 1.0, 10)
    b = a + rng.normal(0.0, 1e-3, 10)
    for scale in (1e-3, 1e6):
        assert_relative_error(student.relative_error(scale * a, scale * b), a, b,
                              f"relative_error of a and b times {scale:g}")


@RELATIVE_ERROR_DETAIL
def test_relative_error_on_nd_arrays(student):
    """works on 2-d and 3-d arrays, taking the maximum over every element"""
    rng = np.random.default_rng(12)
    for shape in [(4, 5), (2, 3, 4)]:
        a = rng.normal(0.0, 1.0, shape)
        b = a + rng.normal(0.0, 0.01, shape)
        assert_relative_error(student.relative_error(a, b), a, b, f"relative_error on shape {shape}")


@RELATIVE_ERROR_DETAIL
def test_relative_error_leaves_its_inputs_unchanged(student):
    """does not change a or b"""
    rng = np.random.default_rng(13)
    a, b = rng.normal(0.0, 1.0, 6), rng.normal(0.0, 1.0, 6)
    result = student.call("relative_error", a, b)
    assert_unchanged(a, result.args_after[0], "relative_error (its argument a)")
    assert_unchanged(b, result.args_after[1], "relative_error (its argument b)")

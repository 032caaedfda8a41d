"""The checking kit: the assertions every hidden check uses, with failure messages fit for students.

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

from .proxy import StudentCallError

# Values must agree with PyTorch's float64 result within RTOL * |expected| + ATOL: tight enough to
# catch a wrong formula, loose enough for any correct one (PyTorch's own tails are this far off).
RTOL, ATOL = 1e-10, 1e-12
RTOL32, ATOL32 = 1e-5, 1e-6

# On top of that, the problem's own conditioning: a backward-stable implementation computes f exactly at an
# input a few eps away from x, so it may miss f(x) by a few eps times the sensitivity of f at x,
# sum_j |df_i/dx_j| |x_j| (for an elementwise f, |x f'(x)|), with eps the input dtype's. Such forms (softmax as
# exp(x - logsumexp(x)) in float32, say) are right, even where they are less accurate than PyTorch.
CONDITIONING_UNITS = 4


def tolerance(dtype, sensitivity=0.0):
    """assert_close's keyword arguments for a result computed in `dtype`, whose exact value moves by
    `sensitivity` (an array like the result) when every input moves by one part in 1/eps."""
    dtype = np.dtype(dtype)
    rtol, atol = (RTOL32, ATOL32) if dtype == np.float32 else (RTOL, ATOL)
    eps = np.finfo(dtype).eps if dtype.kind == "f" else np.finfo(np.float64).eps
    return {"rtol": rtol, "atol": atol, "slack": CONDITIONING_UNITS * eps * np.asarray(sensitivity, dtype=np.float64)}

# A hidden check's weight, `@pytest.mark.cell(grade_id, weight=FORMULA)`: its share of its test cell's points goes
# by how bad the fault it catches is (the rule, with examples, is in README's "How a grade is made").
FORMULA = 3  # a wrong result: values, gradients, nan/inf/warnings where overflow threatens, a crash
DETAIL = 1   # a right result, a detail of its contract wrong: dtype, an unusual shape, an option, a changed input


class CheckFailure(AssertionError):
    """A failed hidden check, with a message written for the student."""


def as_array(value, what):
    if isinstance(value, (list, tuple, dict, str)) or value is None:
        raise CheckFailure(f"{what} returned a {type(value).__name__}, not a numpy array")
    return np.asarray(value)


def assert_dtype(value, dtype, what, *, contract):
    """The result's dtype is `dtype`; `contract` quotes the sentence of the notebook that asks for it (a test
    finds each quote in its notebook, so that no message contradicts what the student was told)."""
    actual = as_array(value, what).dtype
    if actual != np.dtype(dtype):
        raise CheckFailure(f"{what} returned dtype {actual}, not {np.dtype(dtype)}; the notebook asks: {contract}")


def assert_shape(value, shape, what, *, contract):
    """The result's shape is `shape`; `contract` quotes the notebook, as for assert_dtype."""
    actual = as_array(value, what).shape
    if actual != tuple(shape):
        raise CheckFailure(f"{what} returned shape {actual}, not {tuple(shape)}; the notebook asks: {contract}")


def assert_close(value, expected, what, rtol=RTOL, atol=ATOL, slack=0.0):
    """Shape first, then values: nan and inf where expected, and |a - e| <= atol + rtol * |e| + slack elsewhere
    (`slack`, a number or an array like `expected`: what the problem's conditioning allows, see `tolerance`)."""
    actual = as_array(value, what)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise CheckFailure(f"{what} returned shape {actual.shape} where shape {expected.shape} is due")
    if actual.dtype.kind not in "biuf":
        raise CheckFailure(f"{what} returned values of dtype {actual.dtype}, not numbers")
    actual = actual.astype(np.float64)
    nan_actual, nan_expected = np.isnan(actual), np.isnan(expected)
    if (nan_actual & ~nan_expected).any():
        raise CheckFailure(f"{what} returned nan in {int((nan_actual & ~nan_expected).sum())} of "
                           f"{actual.size} places where a number is due")
    finite = np.isfinite(expected)
    with np.errstate(all="ignore"):
        close = np.abs(actual - expected) <= atol + rtol * np.abs(expected) + slack
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


def assert_raises(call, what, error="ValueError", shows=()):
    """`call()`, a call of the student's code, must raise `error` whose message holds each of `shows` (the
    values a helpful message names, such as the shapes that do not fit)."""
    try:
        call()
    except StudentCallError as exc:
        text = str(exc)
        if f"raised {error}" not in text:
            raise CheckFailure(f"{what} should raise {error}; {text}") from None
        for shown in map(str, shows):
            if shown not in text:
                raise CheckFailure(f"{what} raised {error}, but its message does not show {shown}") from None
        return
    raise CheckFailure(f"{what} should raise {error}, but returned a value")


def as_layers(value, shapes, what, names=("W", "b")):
    """`value` as a list of numpy pairs with the given shapes; a CheckFailure says what is off."""
    if not isinstance(value, (list, tuple)):
        raise CheckFailure(f"{what} returned a {type(value).__name__}, not a list of pairs, one per layer")
    if len(value) != len(shapes):
        raise CheckFailure(f"{what} returned {len(value)} items for a network of {len(shapes)} layers; "
                           "give one pair per layer")
    layers = []
    for i, (pair, pair_shapes) in enumerate(zip(value, shapes)):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise CheckFailure(f"{what}: item {i} is not a pair ({names[0]}, {names[1]})")
        arrays = []
        for name, part, shape in zip(names, pair, pair_shapes):
            array = as_array(part, f"{what}: {name} of layer {i}")
            if array.shape != shape:
                like = f", the shape of the layer's {name[1:]}" if name.startswith("d") else ""
                raise CheckFailure(f"{what}: {name} of layer {i} has shape {array.shape}; it should be {shape}{like}")
            if array.dtype.kind not in "biuf":
                raise CheckFailure(f"{what}: {name} of layer {i} holds values of dtype {array.dtype}, not numbers")
            assert_finite(array, f"{what}: {name} of layer {i}")
            arrays.append(array.astype(np.float64))
        layers.append(tuple(arrays))
    return layers


def as_numbers_per_layer(value, n_layers, what, layer, layers, give):
    """`value`, a list of one number per layer (an array counts too), as a float64 array; a CheckFailure says
    what is off, in the lab's words: `layer` ("hidden layer"), `layers` as a network's size counts them
    ("hidden layers") and `give`, what to return instead ("give one fraction per hidden layer")."""
    items = list(np.ravel(value)) if isinstance(value, np.ndarray) else value
    if not isinstance(items, (list, tuple)) or any(v is None or isinstance(v, (bool, str)) or np.size(v) != 1
                                                    for v in items):
        raise CheckFailure(f"{what} should return a list of numbers, one per {layer}")
    if len(items) != n_layers:
        raise CheckFailure(f"{what} returned {len(items)} values for a network of {n_layers} {layers}; {give}")
    return np.array([float(np.asarray(v).reshape(())) for v in items])


def assert_list_of_python_floats(value, what, to_float):
    """`value` itself is a list of Python floats: not a tuple, a tensor or an array, nor a list of tensors or
    numpy numbers; `to_float` names the call that turns one into a float (".item()")."""
    if not isinstance(value, list):
        raise CheckFailure(f"{what} returned a tuple, a tensor or an array; return a list")
    if not all(isinstance(item, float) for item in value):
        raise CheckFailure(f"{what} returned a list holding tensors or other numbers; return Python floats "
                           f"({to_float})")


def assert_exact_int(result, expected, what, counted):
    """The value of `result` (a CallResult) equals the int `expected` exactly, whatever its number type (a 0-d
    array too); `counted` names what the number counts ("bytes")."""
    value = result.value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CheckFailure(f"{what} returned a {type(result.value).__name__}, not a number")
    if not np.isfinite(float(value)) or int(value) != value or int(value) != expected:
        raise CheckFailure(f"{what} returned the wrong number of {counted}")


def assert_python_int(result, what, why):
    """The value of `result` itself, as the grader decoded it, is a Python int (numpy's int64 is not, nor is a
    bool); `why` says why the contract asks for one."""
    if not isinstance(result.value, int) or isinstance(result.value, bool):
        raise CheckFailure(f"{what} returned a {type(result.value).__name__}; return a Python int ({why})")


def assert_python_float(result, what):
    """The value of `result` itself is a float (numpy's float64 is one; float32 and int are not)."""
    if not isinstance(result.value, float):
        raise CheckFailure(f"{what} returned a {type(result.value).__name__}; return a float")

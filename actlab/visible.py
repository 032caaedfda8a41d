"""The checks that the exercise notebooks' visible test cells share.

A test cell calls one of these with your function and a few small inputs, for a contract that every
function of an exercise states (keep the dtype, keep the shape, leave the input alone, no overflow,
ValueError for a bad option):

    from actlab import visible
    visible.assert_dtype_kept(sigmoid, np.array([-1.0, 0.0, 2.0]))

When your function breaks the contract, the check raises an AssertionError whose message says what
happened, on which call, and how to fix it; never a bare numpy error such as FloatingPointError.
The checks know no answer: they compare your function with its own input, never with a right result
(the test cells' plain asserts check the values, and the hidden checks test much more).
"""
from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np

DTYPE_HINT = ("A numpy float64 scalar such as np.sqrt(2) or np.float64(c), or an array made with dtype=float, "
              "turns float32 into float64: write constants as Python floats (2**0.5) and keep x's dtype.")
MUTATION_HINT = ("Work on a copy: in-place operations such as x -= m, x *= c, x[mask] = 0 or list.pop() change "
                 "the caller's own object.")
SHAPES = ((), (3,), (2, 3), (0,))


def assert_finite_without_warnings(fn, *args, hint, **kwargs):
    """fn(*args, **kwargs), which must give no numpy warning (overflow, invalid value, divide by zero;
    underflow to 0 is fine) and no nan or inf. Returns the result, for the test cell to check its values."""
    call = _describe(fn, args, kwargs)
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except FloatingPointError as error:  # the function itself asked numpy to raise
            raise AssertionError(_message(f"{call} raised FloatingPointError ({error})", hint)) from None
    if caught:
        first = caught[0]
        raise AssertionError(_message(f"{call} gave a warning, {first.category.__name__}: {first.message}", hint))
    bad = sum(int(np.size(a) - np.isfinite(a).sum()) for a in _float_arrays(result))
    if bad:
        raise AssertionError(_message(f"{call} returned nan or inf in {bad} place(s) where a number is due", hint))
    return result


def assert_dtype_kept(fn, *args, hint=DTYPE_HINT, **kwargs):
    """Calls fn with its float arguments (numpy arrays and numpy float scalars, also inside lists and
    tuples) cast to float32, then to float64: every array fn returns must have that dtype."""
    for dtype in (np.float32, np.float64):
        cast = [_cast(arg, dtype) for arg in args]
        result = fn(*cast, **kwargs)
        arrays = _arrays(result)
        if not arrays:
            raise AssertionError(f"{_describe(fn, cast, kwargs)} returned {type(result).__name__}, not a numpy array")
        for array in arrays:
            if array.dtype != dtype:
                advice = (f"return floats of the input's dtype, not {array.dtype.name}: convert with .astype(x.dtype)"
                          if array.dtype.kind in "biu" else hint)
                raise AssertionError(_message(f"{_describe(fn, cast, kwargs)} returned {array.dtype.name} for "
                                              f"{np.dtype(dtype).name} input: keep the input's dtype", advice))


def assert_shape_kept(fn, *args, shapes=SHAPES, hint="", **kwargs):
    """For each shape, fn(x, *args, **kwargs) with x a float64 array of that shape (0-d, 1-d, n-d or
    empty) must return an array of the same shape."""
    for shape in shapes:
        x = np.linspace(-2.0, 2.0, int(np.prod(shape, dtype=int))).reshape(shape)
        call = _describe(fn, (x, *args), kwargs)
        try:
            result = fn(x, *args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as error:
            raise AssertionError(_message(f"{call} raised {type(error).__name__} ({error}): it should work on an "
                                          f"input of shape {shape}", hint)) from error
        got = np.shape(result)
        if got != shape:
            raise AssertionError(_message(f"{call} returned shape {got} for an input of shape {shape}: return the "
                                          "input's shape", hint))


def assert_not_mutated(fn, *args, hint=MUTATION_HINT, **kwargs):
    """fn(*args, **kwargs) must leave every argument as it was (arrays, and lists, tuples and dicts of
    them, compared element by element). Returns the result."""
    before = copy.deepcopy(args)
    result = fn(*args, **kwargs)
    names = _parameter_names(fn, len(args))
    for name, old, new in zip(names, before, args):
        if not _same(old, new):
            call = _describe(fn, before, kwargs)
            raise AssertionError(_message(f"{call} changed its argument {name} in place", hint))
    return result


def assert_raises_value_error(fn, *args, hint, shows=(), **kwargs):
    """fn(*args, **kwargs) must raise ValueError, whose message shows each of `shows` (str() of each)."""
    call = _describe(fn, args, kwargs)
    try:
        fn(*args, **kwargs)
    except ValueError as error:
        missing = [str(s) for s in shows if str(s) not in str(error)]
        if missing:
            raise AssertionError(_message(f"{call} raised ValueError, but its message ({error}) does not show "
                                          f"{', '.join(missing)}", hint)) from None
        return
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(_message(f"{call} raised {type(error).__name__} ({error}), not ValueError", hint)) \
            from error
    raise AssertionError(_message(f"{call} returned a value; it should raise ValueError", hint))


# -- helpers ----------------------------------------------------------------------------------------

def _message(what, hint) -> str:
    """What went wrong, then how to fix it."""
    return f"{what}. {hint}" if hint else f"{what}."


def _describe(fn, args, kwargs) -> str:
    """A call as a student would type it, with small arrays written out and large ones summarised."""
    def show(value) -> str:
        if isinstance(value, np.ndarray):
            if 0 < value.size <= 6:
                dtype = "" if value.dtype == np.float64 else f", dtype=np.{value.dtype.name}"
                text = np.array2string(value, separator=", ", max_line_width=10**6).replace("\n", "")
                return f"np.array({text}{dtype})"
            return f"<{value.dtype.name} array of shape {value.shape}>"
        if callable(value):
            return getattr(value, "__name__", type(value).__name__)
        if isinstance(value, (list, tuple)) and len(repr(value)) > 40:
            return f"<{type(value).__name__} of {len(value)} items>"
        return repr(value)

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{getattr(fn, '__name__', 'the function')}({', '.join(parts)})"


def _cast(value, dtype):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype)
    if isinstance(value, np.floating):
        return dtype(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(item, dtype) for item in value)
    return value


def _arrays(value) -> list:
    """Every numpy array, numpy scalar and Python float in a result (inside tuples and lists too), as arrays."""
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in _arrays(item)]
    if isinstance(value, (np.ndarray, np.generic, float)):
        return [np.asarray(value)]
    return []


def _float_arrays(value) -> list:
    return [a for a in _arrays(value) if a.dtype.kind in "fc"]


def _same(old, new) -> bool:
    if isinstance(old, np.ndarray):
        return (isinstance(new, np.ndarray) and old.shape == new.shape and old.dtype == new.dtype
                and np.array_equal(old, new, equal_nan=old.dtype.kind in "fc"))
    if isinstance(old, (list, tuple)):
        return type(old) is type(new) and len(old) == len(new) and all(map(_same, old, new))
    if isinstance(old, dict):
        return isinstance(new, dict) and old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, (int, float, str, bytes, bool, type(None), np.generic)):
        return type(old) is type(new) and (old == new or old != old)  # old != old: nan
    return True  # functions, models and other objects: not compared here


def _parameter_names(fn, count) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return (names + [f"number {i + 1}" for i in range(len(names), count)])[:count]

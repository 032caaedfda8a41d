"""What the lab_speed checks share: the grader's own byte arithmetic, and a program that hands dtypes to
the student's functions (a dtype object cannot cross to the worker; its name can).

The arithmetic is recomputed here from the definitions (bytes = numel * element size * passes, with
Python ints, which never overflow; GB = 1e9 bytes), never taken from the student's side.
"""
import numpy as np
import torch

from autograder.checking import CheckFailure
from autograder.proxy import StudentCallError

# (kind, name) of the dtypes a check passes: a torch dtype, a numpy dtype object, or a numpy scalar type
TORCH_DTYPES = [("torch", name) for name in ["float32", "float16", "bfloat16", "float64", "int8", "uint8",
                                              "int32", "int64", "complex64", "bool"]]
NUMPY_DTYPES = [("numpy", "float32"), ("numpy", "float16"), ("numpy", "float64"), ("numpy", "int8"),
                ("numpy-type", "float32"), ("numpy-type", "float16"), ("numpy-type", "float64")]
HUGE_NUMELS = [2**30, 2**31 - 1, 2**31, 2**31 + 1, 2**32 + 7, 2**33, 3 * 10**12]

PROGRAM = '''
import numpy as np
import torch


def _dtype(kind, name):
    if kind == "torch":
        return getattr(torch, name)
    return np.dtype(name) if kind == "numpy" else getattr(np, name)


def probe_FUNCTION(numel, kind, name, *args, **kwargs):
    return FUNCTION(numel, _dtype(kind, name), *args, **kwargs)
'''


def itemsize(kind, name) -> int:
    return getattr(torch, name).itemsize if kind == "torch" else np.dtype(name).itemsize


def expected_bytes(numel, kind, name, passes) -> int:
    return int(numel) * itemsize(kind, name) * int(passes)


def describe(kind, name) -> str:
    return {"torch": f"torch.{name}", "numpy": f"np.dtype('{name}')", "numpy-type": f"np.{name}"}[kind]


def call_with_dtype(student, function, numel, kind, name, *args, **kwargs):
    """The student's `function(numel, dtype, *args, **kwargs)` for the dtype (kind, name), as a CallResult."""
    try:
        return student.call(f"probe_{function}", numel, kind, name, *args,
                            _program=PROGRAM.replace("FUNCTION", function), **kwargs)
    except StudentCallError as exc:
        raise CheckFailure(str(exc).replace(f"probe_{function}", function)) from None


def assert_exact_int(result, expected, what):
    """The student's result equals the int `expected` exactly (any number type); a CheckFailure says how not."""
    value = result.value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CheckFailure(f"{what} returned a {type(result.value).__name__}, not a number")
    if not np.isfinite(float(value)) or int(value) != value or int(value) != expected:
        raise CheckFailure(f"{what} returned the wrong number of bytes")


def assert_python_int(result, what):
    """The value itself, as the grader decoded it, is a Python int (numpy's int64 is not, nor is a bool)."""
    if not isinstance(result.value, int) or isinstance(result.value, bool):
        raise CheckFailure(f"{what} returned a {type(result.value).__name__}; return a Python int (bytes are "
                           "whole numbers, and a Python int never overflows)")


def assert_python_float(result, what):
    """The value itself is a float (numpy's float64 is one; float32 and int are not)."""
    if not isinstance(result.value, float):
        raise CheckFailure(f"{what} returned a {type(result.value).__name__}; return a float")


def assert_raises_value_error(call, what):
    """`call()` must raise ValueError in the student's code."""
    try:
        call()
    except StudentCallError as exc:
        if "raised ValueError" in str(exc):
            return
        raise CheckFailure(f"{what} should raise ValueError; {exc}") from None
    raise CheckFailure(f"{what} should raise ValueError, but returned a value")

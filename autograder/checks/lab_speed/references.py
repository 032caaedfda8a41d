"""The grader's own byte arithmetic for the lab_speed checks, and the dtypes they pass.

The arithmetic is recomputed here from the definitions (bytes = numel * element size * passes, with
Python ints, which never overflow; GB = 1e9 bytes), never taken from the student's side.
"""
import numpy as np
import torch

# (kind, name) of the dtypes a check passes: a torch dtype, a numpy dtype object, or a numpy scalar type. The
# notebook's contract is any torch or numpy dtype, so these go beyond the floats its text names as examples.
TORCH_DTYPES = [("torch", name) for name in ["float32", "float16", "bfloat16", "float64", "int8", "uint8",
                                              "int32", "int64", "complex64", "bool"]]
NUMPY_DTYPES = [("numpy", "float32"), ("numpy", "float16"), ("numpy", "float64"), ("numpy", "int8"),
                ("numpy-type", "float32"), ("numpy-type", "float16"), ("numpy-type", "float64")]
HUGE_NUMELS = [2**30, 2**31 - 1, 2**31, 2**31 + 1, 2**32 + 7, 2**33, 3 * 10**12]


def itemsize(kind, name) -> int:
    return getattr(torch, name).itemsize if kind == "torch" else np.dtype(name).itemsize


def expected_bytes(numel, kind, name, passes) -> int:
    return int(numel) * itemsize(kind, name) * int(passes)


def describe(kind, name) -> str:
    return {"torch": f"torch.{name}", "numpy": f"np.dtype('{name}')", "numpy-type": f"np.{name}"}[kind]

"""What the lab_speed checks run where the student's code runs: a probe that hands a dtype to the student's
function (a dtype object cannot cross to the worker; its name can).

The worker runs this file as a module of its own and hands the probe the student's function as an argument.
"""
import numpy as np
import torch


def dtype(kind, name):
    """The dtype called `name`: a torch dtype (kind "torch"), a numpy dtype object ("numpy") or a numpy scalar
    type ("numpy-type")."""
    if kind == "torch":
        return getattr(torch, name)
    return np.dtype(name) if kind == "numpy" else getattr(np, name)


def with_dtype(function, numel, kind, name, *args, **kwargs):
    """The student's `function(numel, dtype, *args, **kwargs)` for the dtype (kind, name)."""
    return function(numel, dtype(kind, name), *args, **kwargs)


# One probe name for each student function, its own: the grader's messages name the student's function, and
# one that hangs is not called again while the others still are.
elementwise_traffic = unfused_bias_activation_traffic = fused_bias_activation_traffic = with_dtype

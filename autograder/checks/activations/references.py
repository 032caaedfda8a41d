"""Float64 references for the activations, from PyTorch's own functions."""
import numpy as np
import torch
import torch.nn.functional as F

from autograder.checks.shared_references import as_float64_tensor as _t, torch_activation

def elementwise(name, x, **kwargs):
    """f(x) in float64 for every elementwise activation of the assignment."""
    if name == "softplus":
        # PyTorch's softplus returns x above its threshold (off by up to 2e-9): use the exact form.
        beta = kwargs.get("beta", 1.0)
        return np.logaddexp(0.0, beta * np.asarray(x, dtype=np.float64)) / beta
    with torch.no_grad():
        return torch_activation(name, _t(x), **kwargs).numpy()


def softmax(x, axis=-1, temperature=1.0):
    return torch.softmax(_t(x) / temperature, dim=axis).numpy()


def log_softmax(x, axis=-1):
    return F.log_softmax(_t(x), dim=axis).numpy()

"""Float64 references for the activations, from PyTorch's own functions, and their sensitivities.

A function's sensitivity at x is sum_j |df_i/dx_j| |x_j|: how far f_i moves when every input moves by one part in
1/eps. A backward-stable implementation may miss f(x) by a few eps times it (autograder.checking.tolerance).
"""
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


def elementwise_sensitivity(name, x, **kwargs):
    """|x f'(x)| in float64: f's own derivative by autograd (softplus's, sigmoid(beta x), in closed form)."""
    t = _t(x, requires_grad=True)
    if name == "softplus":
        slope = torch.sigmoid(kwargs.get("beta", 1.0) * t.detach())
    else:
        (slope,) = torch.autograd.grad(torch_activation(name, t, **kwargs).sum(), t)
    return (t.detach() * slope).abs().numpy()


def softmax(x, axis=-1, temperature=1.0):
    return torch.softmax(_t(x) / temperature, dim=axis).numpy()


def softmax_sensitivity(x, axis=-1, temperature=1.0):
    """p_i (|z_i| + sum_j p_j |z_j|) for z = x / temperature: an upper bound of sum_j |dp_i/dz_j| |z_j|."""
    z = _t(x) / temperature
    p = torch.softmax(z, dim=axis)
    return (p * (z.abs() + (p * z.abs()).sum(dim=axis, keepdim=True))).numpy()


def log_softmax(x, axis=-1):
    return F.log_softmax(_t(x), dim=axis).numpy()


def log_softmax_sensitivity(x, axis=-1):
    """|x_i| + sum_j p_j |x_j|: an upper bound of sum_j |d log p_i/dx_j| |x_j|."""
    t = _t(x)
    p = torch.softmax(t, dim=axis)
    return (t.abs() + (p * t.abs()).sum(dim=axis, keepdim=True)).numpy()

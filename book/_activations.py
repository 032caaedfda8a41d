"""The activations as PyTorch reference functions, and the helpers chapter 5 uses to plot and measure them.

Everything here computes with PyTorch (float64 unless said), so the book shows what PyTorch computes.
It belongs to the book, not to the course library `actlab` that the exercises can import: there, a
function per activation would answer the `activations` exercise.
"""
from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

# PyTorch's own initial PReLU slope; a fixed tensor so that the reference is a plain function of x.
PRELU_ALPHA = 0.25


def _step(t):
    # `+ 0 * t` keeps the result on the autograd graph, so its derivative comes out as zeros, not an error.
    return (t >= 0).to(t.dtype) + 0 * t


def _prelu(t, alpha=PRELU_ALPHA):
    return F.prelu(t, torch.tensor([alpha], dtype=t.dtype))


# name -> elementwise torch function of one tensor; names follow the exercise's API.
REFERENCE = {
    "identity": lambda t: t,
    "step": _step,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
    "prelu": _prelu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
    "silu": F.silu,
    "softplus": F.softplus,
}

DISPLAY_NAMES = {
    "identity": "identity", "step": "step", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
    "leaky_relu": "Leaky ReLU", "prelu": "PReLU", "elu": "ELU", "selu": "SELU", "gelu": "GELU",
    "gelu_tanh": "GELU (tanh)", "silu": "SiLU", "softplus": "softplus",
}


def value_and_derivative(f, x):
    """f(x) and f'(x) by autograd in float64; x is array-like of any shape, both results numpy arrays of that shape.

    f must be elementwise (each output depends on its own input only), so the gradient of the sum is f'.
    """
    t = torch.as_tensor(np.asarray(x, dtype=np.float64)).clone().requires_grad_(True)
    y = f(t)
    (dy,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), dy.numpy()


def plot_function_and_derivative(name, f=None, x=None, title=None):
    """One small figure of f (solid) and f' (dashed) on x (default [-4, 4]); f defaults to REFERENCE[name]."""
    f = REFERENCE[name] if f is None else f
    x = np.linspace(-4, 4, 801) if x is None else np.asarray(x, dtype=np.float64)
    y, dy = value_and_derivative(f, x)
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    ax.plot(x, y, label="$f(x)$")
    ax.plot(x, dy, linestyle="--", label="$f'(x)$")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set(title=title or DISPLAY_NAMES.get(name, name), xlabel="$x$")
    ax.legend(loc="best")
    return fig


def signal_statistics_through_depth(activation, num_layers=32, width=256, batch=512, seed=0):
    """Mean and variance of the activations after each of `num_layers` random dense layers.

    Inputs are standard normal, shape (batch, width); weights are LeCun normal, N(0, 1/fan_in), with no bias.
    Returns two numpy arrays of shape (num_layers + 1,): index 0 is the input, index k the output of layer k.
    """
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=generator, dtype=torch.float64)
    means, variances = [h.mean().item()], [h.var().item()]
    for _ in range(num_layers):
        W = torch.randn(width, width, generator=generator, dtype=torch.float64) / width**0.5
        h = activation(h @ W)
        means.append(h.mean().item())
        variances.append(h.var().item())
    return np.array(means), np.array(variances)


def forward_time(f, n=2**20, repeats=15, dtype=torch.float32):
    """Median wall-clock seconds of one call f(x) on a tensor of n standard normal values (after one warm-up call)."""
    x = torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=dtype)
    f(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times))

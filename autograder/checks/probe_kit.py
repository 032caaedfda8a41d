"""What the probes of several labs share: the checks' own MLP builder, and the plain values a probe sends back.

A probe module imports it as `from autograder.checks import probe_kit`: the worker runs this file as a module
of its own before the probes (see proxy.program), and the grader imports it to build the same networks. So it
imports only the standard library, numpy and torch.
"""
import math

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU,
               "prelu": nn.PReLU}
STD = {"xavier": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
       "he": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in)}


def mlp(n_in, width, depth, n_out, activation, init, seed, batch_norm=False):
    """Linear, (BatchNorm1d,) activation, ..., Linear drawn from `seed`: PyTorch's default init when init is
    None, else weights from N(0, std**2) of the scheme ("xavier", "he") and zero biases. The checks' own
    builder (the same networks as actlab.nets.make_mlp): neither the course library nor a notebook that
    patches it changes what the checks build."""
    torch.manual_seed(seed)
    sizes = [n_in] + [width] * depth + [n_out]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        if init is not None:
            with torch.no_grad():
                linear.weight.normal_(0.0, STD[init](fan_in, fan_out))
                linear.bias.zero_()
        layers.append(linear)
        if i < depth:
            layers += [nn.BatchNorm1d(fan_out)] if batch_norm else []
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def plain_item(value):
    """What the grader can read of one returned value: a number as it is, a tensor as a float64 array,
    anything else (a list too) as None. The grader decides whether it is what the contract asks for."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    return value if isinstance(value, (bool, int, float, np.number, np.ndarray)) else None


def plain(value):
    """`plain_item`, also inside lists and tuples (which stay lists and tuples: the grader checks the type)."""
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return plain_item(value)


def float64_arrays(tensors):
    """Tensors (a model's parameters, its buffers) as float64 arrays, for the grader to compare."""
    return [t.detach().cpu().double().numpy() for t in tensors]

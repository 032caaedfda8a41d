"""What the book measures networks with: per-layer gradient norms, dead units, a monitoring table, how
alike two inputs look after many layers, and the lab pages' versions of the functions the labs grade.
Hidden activations, slopes and saturated units come from the course library's instruments, actlab.diagnostics.

These belong to the book, not to the course library `actlab`: the labs grade them (`layer_grad_norms`,
`init_weights_`, `dead_fraction`, `with_leaky_relu`, `build_mlp`, `evaluate`), and students import
`actlab`, in their notebooks and in the grader's sandbox, which shows them no other part of the
repository. The labs pass the student's functions to the experiments of actlab.flow and
actlab.shootout; the book's lab pages pass these.

Conventions as in actlab.nets: X a float tensor (batch, n_in), y int64 labels (batch,), a model an
nn.Sequential of nn.Linear layers with an activation module after every hidden one.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from actlab import nets
from actlab.diagnostics import activation_slopes as local_gradients, hidden_activations, saturated_fraction  # noqa


# -- looking inside a network -------------------------------------------------------------------

def layer_grad_norms(model, X, y) -> list[float]:
    """Frobenius norm of each Linear weight's gradient after one cross-entropy backward pass on (X, y),
    input layer first; one float per Linear layer."""
    model.zero_grad()
    F.cross_entropy(model(X), y).backward()
    return [layer.weight.grad.norm().item() for layer in nets.linear_layers(model)]


def dead_fraction(model, X) -> list[float]:
    """Per hidden activation layer, the fraction of units whose output is <= 0 for every row of X: for
    ReLU, exactly 0 everywhere; for Leaky ReLU or GELU, on the negative side for every example."""
    return [(a <= 0).all(dim=0).float().mean().item() for _, a in hidden_activations(model, X)]


def monitor(model, X, y, tol=1e-2) -> list[dict]:
    """One row per hidden layer: activation mean and variance, dead and saturated fractions, and the
    gradient norm of the Linear layer that feeds it (the output layer's norm is not in the table)."""
    grads = layer_grad_norms(model, X, y)
    stats = zip(hidden_activations(model, X), dead_fraction(model, X), saturated_fraction(model, X, tol), grads)
    return [{"layer": i + 1, "mean": a.mean().item(), "var": a.var().item(), "dead": dead,
             "saturated": sat, "grad_norm": grad}
            for i, ((_, a), dead, sat, grad) in enumerate(stats)]


def representation_cosine(activation, scheme, depth=8, width=128, n_in=784, seed=0) -> float:
    """Cosine similarity of the last hidden layer's activations for two random inputs: 1 when the
    network maps both to the same direction, near 0 when it keeps them apart.

    Two standard-normal inputs of `n_in` values pass through `depth` bias-free layers of `width` units,
    weights from N(0, std^2) with std from nets.INIT_STD[scheme], each followed by `activation` (an
    elementwise function of a tensor). The same seed gives every activation the same inputs and weights.
    """
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(2, n_in, generator=generator)
    for fan_in in [n_in] + [width] * (depth - 1):
        W = torch.randn(fan_in, width, generator=generator) * nets.INIT_STD[scheme](fan_in, width)
        a = activation(a @ W)
    return F.cosine_similarity(a[0], a[1], dim=0).item()


# -- the lab pages' versions of the graded functions ------------------------------------------------

def init_weights_(model, scheme):
    """Re-draw every Linear layer of `model` in place: "default" is PyTorch's own initialisation,
    "xavier" and "he" the normal distributions of `nets.INIT_STD` with zero biases."""
    for layer in nets.linear_layers(model):
        if scheme == "default":
            layer.reset_parameters()
        else:
            nets.init_linear_(layer, scheme)
    return model


def with_leaky_relu(model, alpha=0.01):
    """A deep copy of `model` with every nn.ReLU replaced by nn.LeakyReLU(alpha)."""
    fixed = copy.deepcopy(model)
    for i, module in enumerate(fixed):
        if isinstance(module, nn.ReLU):
            fixed[i] = nn.LeakyReLU(alpha)
    return fixed


# The initialisation the labs pair with each activation. Xavier is derived for odd activations with
# slope 1 at 0, such as tanh (Glorot & Bengio, 2010); the sigmoid (slope 1/4, mean output 1/2) gets it
# for want of a scheme of its own, and collapses under it (book/dynamics.md, sec-sigmoid-collapse).
# He makes up for the half of the signal ReLU discards (He et al., 2015); GELU and SiLU get it as
# ReLU's relatives, though their signal fades under it. SELU's self-normalisation assumes
# LeCun-normal weights (Klambauer et al., 2017).
MATCHING_INIT = {"sigmoid": "xavier", "tanh": "xavier", "relu": "he", "leaky_relu": "he", "elu": "he",
                 "gelu": "he", "silu": "he", "selu": "lecun"}


def build_mlp(n_in, width, depth, n_out, activation) -> nn.Sequential:
    """nets.make_mlp with the activation's matching initialisation (MATCHING_INIT)."""
    return nets.make_mlp(n_in, width, depth, n_out, activation, init=MATCHING_INIT[activation])


def evaluate(model, X, y) -> tuple[float, float]:
    """Mean cross-entropy and arg-max accuracy of `model` on (X, y), without gradients."""
    with torch.no_grad():
        logits = model(X)
    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).float().mean().item()

"""A practitioner's instruments for looking inside a network before trusting a run (the book's chapter
*Diagnosing a network*): the loss at initialisation against log K, each hidden layer's activations and
the gradients that reach them, the saturated fraction, and the update-to-data ratio of every step.

Conventions as in actlab.nets: X a float tensor (batch, n_in), y int64 labels (batch,), a model an
nn.Sequential of nn.Linear layers with an activation module after every hidden one. Nothing here is the
answer to a lab's graded function: dead units are counted by the dying-ReLU lab's own `dead_fraction`.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from . import nets


def initial_loss(model, X, y) -> tuple[float, float]:
    """(the mean cross-entropy of the untrained model on (X, y), log K for its K outputs): a model that
    knows nothing should score about log K; far above means confidently wrong logits, below a leak."""
    with torch.no_grad():
        logits = model(X)
        return F.cross_entropy(logits, y).item(), math.log(logits.shape[-1])


def activations_and_gradients(model, X, y) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(activation a, gradient dL/da) of every hidden layer, from one forward and one backward pass of the
    mean cross-entropy on (X, y). The model's own parameter gradients are left as they were."""
    outputs, hooks = [], []

    def keep(module, inputs, output):
        output.retain_grad()  # autograd keeps no gradient of an intermediate tensor unless asked
        outputs.append(output)

    for module in model.modules():
        if isinstance(module, nets.ACTIVATION_TYPES):
            hooks.append(module.register_forward_hook(keep))
    saved = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    try:
        with torch.enable_grad():
            loss = F.cross_entropy(model(X), y)
            gradients = torch.autograd.grad(loss, outputs) if outputs else []
    finally:
        for hook in hooks:
            hook.remove()
        for p, grad in zip(model.parameters(), saved):
            p.grad = grad
    return [(a.detach(), g.detach()) for a, g in zip(outputs, gradients)]


def _recorded(model, X) -> list[tuple[torch.nn.Module, torch.Tensor, torch.Tensor]]:
    """(activation module, its input z, its output a) of every hidden layer, recorded with forward hooks
    during one forward pass on X without gradients."""
    records, hooks = [], []
    for module in model.modules():
        if isinstance(module, nets.ACTIVATION_TYPES):
            hooks.append(module.register_forward_hook(lambda m, inputs, output: records.append((m, inputs[0], output))))
    try:
        with torch.no_grad():
            model(X)
    finally:
        for hook in hooks:
            hook.remove()
    return records


def hidden_activations(model, X) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(pre-activation z, activation a) of every hidden layer, each of shape (batch, width), from one forward
    pass on X without gradients."""
    return [(z, a) for _, z, a in _recorded(model, X)]


def activation_slopes(model, X) -> list[torch.Tensor]:
    """f'(z) of every hidden layer at the pre-activations X produces, shape (batch, width): the derivative
    of each activation module at its own input."""
    slopes = []
    for module, z, _ in _recorded(model, X):
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            (slope,) = torch.autograd.grad(module(z).sum(), z)  # elementwise f: the sum's gradient is f'(z)
        slopes.append(slope)
    return slopes


def saturated_fraction(model, X, tol=1e-2) -> list[float]:
    """Per hidden layer, the share of (example, unit) entries where the activation's slope |f'(z)| < tol:
    the flat tails of sigmoid and tanh, every entry on ReLU's inactive side."""
    return [(slope.abs() < tol).float().mean().item() for slope in activation_slopes(model, X)]


def check_up(model, X, y, tol=1e-2) -> list[dict]:
    """One row per hidden layer, the numbers to log every few hundred steps on a fixed probe batch: the
    activations' mean and standard deviation, the saturated fraction, and the standard deviation of the
    gradient of the loss with respect to the activations."""
    layers = activations_and_gradients(model, X, y)
    return [{"layer": i + 1, "mean": a.mean().item(), "std": a.std().item(), "saturated": saturated,
             "grad_std": g.std().item()}
            for i, ((a, g), saturated) in enumerate(zip(layers, saturated_fraction(model, X, tol)))]


class UpdateRatios:
    """The update-to-data ratio ||W_after - W_before|| / ||W_before|| of every Linear layer's weight, one row
    per optimiser step: call `record()` after each `optimiser.step()`. About 1e-3 is healthy (CS231n's rule
    of thumb); orders of magnitude below or above point at the learning rate."""

    def __init__(self, model):
        self.layers = nets.linear_layers(model)
        self.rows: list[list[float]] = []
        self._before = self._weights()

    def _weights(self):
        return [layer.weight.detach().clone() for layer in self.layers]

    def record(self):
        after = self._weights()
        self.rows.append([((a - b).norm() / b.norm()).item() for a, b in zip(after, self._before)])
        self._before = after

    @property
    def history(self) -> np.ndarray:
        """The ratios recorded so far, shape (steps, layers), input layer first."""
        return np.array(self.rows).reshape(len(self.rows), len(self.layers))


def plot_histograms(axes, layers, title=""):
    """Draw each hidden layer's activations on axes[0] and gradients on axes[1] as density curves, from
    `activations_and_gradients`: saturation piles mass at the bounds, collapse at one value, and
    vanishing gradients narrow layer after layer."""
    for index, (a, g) in enumerate(layers):
        for ax, values in zip(axes, (a, g)):
            values = values.float().numpy().ravel()
            limit = max(float(np.abs(values).max()), 1e-12)
            density, edges = np.histogram(values, bins=60, range=(-limit, limit), density=True)
            ax.plot((edges[:-1] + edges[1:]) / 2, density, label=f"layer {index + 1}")
    axes[0].set(title=f"activations{title}", xlabel="$a$")
    axes[1].set(title=f"gradients{title}", xlabel=r"$\partial \mathcal{L} / \partial a$")
    axes[1].ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    axes[0].legend()

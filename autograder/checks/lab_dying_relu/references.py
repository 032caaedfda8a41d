"""The grader's own float64 references for the lab_dying_relu checks.

The worker and the grader build the same networks from the same seeds with one builder (probes.py, run on
both sides); some units are killed on purpose. The worker only runs the student's function and sends back,
as plain numbers and arrays, what it returned and what the model does afterwards; every expected value is
recomputed here in float64, and every verdict (types included) is decided by the checks.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .probes import build, mixed, training_step

MARGIN = 1e-4  # no unit's largest pre-activation may lie this close to 0 (and not at 0): float32 could flip it


def hidden_outputs(model, X):
    """(pre-activation, output) of every hidden layer, in float64, from a plain walk through the layers."""
    model, A = model.double(), X.double()
    layers = []
    with torch.no_grad():
        for module in model:
            Z, A = A, module(A)
            if not isinstance(module, nn.Linear):
                layers.append((Z, A))
    return layers


def reference_dead_fraction(seed, config):
    """Per hidden layer, the fraction of units whose output is <= 0 on every row of X."""
    model, X = build(seed, **config)
    fractions = []
    for Z, A in hidden_outputs(model, X):
        largest = Z.max(dim=0).values.abs()
        if torch.any((largest > 0) & (largest < MARGIN)):
            raise RuntimeError(f"the check's network (seed {seed}) has a unit on the edge of being dead")
        fractions.append((A <= 0).all(dim=0).double().mean().item())
    return np.array(fractions)


def other_dead_fractions(seed, config):
    """{mistake: the fractions it gives} per hidden layer for the mistakes a dead_fraction commonly makes: a unit
    counted when it is off on some row (not every row), the share of all outputs that are <= 0, units exactly 0
    on every row, the number of dead units, and the units on (> 0) for every row."""
    model, X = build(seed, **config)
    layers = [A for _, A in hidden_outputs(model, X)]
    mistakes = {"some rows": lambda A: (A <= 0).any(dim=0).double().mean(),
                "entries": lambda A: (A <= 0).double().mean(),
                "exactly zero": lambda A: (A == 0).all(dim=0).double().mean(),
                "count": lambda A: (A <= 0).all(dim=0).double().sum(),
                "always on": lambda A: (A > 0).all(dim=0).double().mean()}
    return {mistake: np.array([measure(A).item() for A in layers]) for mistake, measure in mistakes.items()}


def reference_leaky_output(seed, alpha, kind="relu"):
    """The output of the network with every ReLU replaced by a Leaky ReLU of slope alpha, in float64."""
    model, X = mixed(seed) if kind == "mixed" else build(seed, batch=9)
    A = X.double()
    with torch.no_grad():
        for module in model.double():
            A = F.leaky_relu(A, alpha) if isinstance(module, nn.ReLU) else module(A)
    return A.numpy()


def original(seed, kind="relu"):
    """(module type names, output, parameters) of the network as built."""
    model, X = mixed(seed) if kind == "mixed" else build(seed, batch=9)
    with torch.no_grad():
        output = model(X).double().numpy()
    return ([type(m).__name__ for m in model.children()], output,
            [p.detach().double().numpy() for p in model.parameters()])


def reference_training_step(seed, config):
    model, _ = build(seed, **config)
    return training_step(model, seed + 3000)

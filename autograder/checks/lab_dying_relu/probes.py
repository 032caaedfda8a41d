"""What the lab_dying_relu checks run where the student's code runs: the networks, some of whose units are
killed on purpose (weights 0, bias negative: the pre-activation is the bias on every row), and probes that
call the student's function and send back, as plain numbers and arrays, what it returned and what the model
does afterwards.

The worker runs this file as a module of its own and hands each probe the student's function as an argument;
the grader imports it too, to build the same networks from the same seeds for its float64 references
(references.py); the checks decide every verdict. So it imports only the standard library, numpy, torch and
probe_kit.
"""
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import probe_kit


def build(seed, activation="relu", depth=3, width=12, n_in=6, batch=40, kill=(), init="he", dtype="float64"):
    """An MLP (3 outputs) and a batch X, all drawn from `seed`. kill: pairs (hidden layer from 0, number
    of its units), units killed with weights 0 and a bias in [-1.5, -0.5]."""
    model = probe_kit.mlp(n_in, width, depth, 3, activation, init, seed).double()
    generator = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for layer, count in kill:
            linear = model[2 * layer]
            units = torch.randperm(width, generator=generator)[:count]
            linear.weight[units] = 0.0
            linear.bias[units] = -0.5 - torch.rand(count, generator=generator, dtype=torch.float64)
    X = torch.randn(batch, n_in, generator=generator, dtype=torch.float64)
    return model.to(getattr(torch, dtype)), X.to(getattr(torch, dtype))


def mixed(seed):
    """A float64 network with ReLU, tanh and GELU between its Linear layers, and a batch X."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU(),
                          nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    X = torch.randn(9, 5, generator=torch.Generator().manual_seed(seed + 1000), dtype=torch.float64)
    return model, X


def training_step(model, seed):
    """Each parameter's gradient (None where none arrived) after one training step's forward and backward
    pass: what a training loop does next with the model dead_fraction measured."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(16, model[0].in_features, generator=generator).to(model[0].weight.dtype)
    try:
        F.cross_entropy(model(X), torch.randint(0, 3, (16,), generator=generator)).backward()
    except RuntimeError:  # no graph: gradients switched off, or parameters that no longer require them
        pass
    return [None if p.grad is None else p.grad.detach().numpy().copy() for p in model.parameters()]


def _hooks(model):
    """How many hooks are attached to the model's modules, and globally to every module."""
    from torch.nn.modules import module as module_globals
    count = 0
    for m in model.modules():
        count += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
    for name in ["_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks"]:
        count += len(getattr(module_globals, name, {}))
    return count


def dead_fraction_probe(dead_fraction, seed, config, calls=1):
    """The student's dead_fraction on build(seed, **config), `calls` times, and what it left: (results, hooks
    left, parameters, the gradients of a training step on the model afterwards)."""
    torch.set_grad_enabled(True)
    model, X = build(seed, **config)
    results = [probe_kit.plain(dead_fraction(model, X)) for _ in range(calls)]
    hooks, parameters = _hooks(model), probe_kit.float64_arrays(model.parameters())
    try:
        return results, hooks, parameters, training_step(model, seed + 3000)
    finally:
        torch.set_grad_enabled(True)  # for the checks that run after this one


def _describe(model):
    """(module type names, negative slopes (nan where none)) of a model's direct children."""
    children = list(model.children())
    return [type(m).__name__ for m in children], [float(getattr(m, "negative_slope", float("nan"))) for m in children]


def with_leaky_relu_probe(with_leaky_relu, seed, alpha=None, kind="relu", change_copy=False):
    """The student's with_leaky_relu on a ReLU network (kind "relu") or a mixed one ("mixed"): what the
    copy is and computes, then (after changing the copy's parameters if asked) what the original is
    and computes, and last the copy's parameters as it was made."""
    model, X = mixed(seed) if kind == "mixed" else build(seed, batch=9)
    fixed = with_leaky_relu(model) if alpha is None else with_leaky_relu(model, alpha)
    copy_parameters = probe_kit.float64_arrays(fixed.parameters())
    with torch.no_grad():
        output = fixed(X).cpu().double().numpy()
        if change_copy:
            for p in fixed.parameters():
                p.add_(1.0)
        original_output = model(X).cpu().double().numpy()
    return (fixed is model, _describe(fixed), output, _describe(model), original_output,
            probe_kit.float64_arrays(model.parameters()), copy_parameters)

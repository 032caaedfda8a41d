"""What the lab_dying_relu checks run in the student's worker (PROGRAM), and the grader's own references.

The worker and the grader build the same networks from the same seeds with one builder (BUILDER,
executed on both sides); some units are killed on purpose (weights 0, bias negative: the
pre-activation is the bias on every row). The worker only runs the student's function and sends back
what it returned and the state it left; every expected value is recomputed here in float64.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checking import CheckFailure

BUILDER = '''
import numpy as np
import torch
from torch import nn
from actlab import nets


def build(seed, activation="relu", depth=3, width=12, n_in=6, batch=40, kill=(), init="he", dtype="float64"):
    """An MLP from nets.make_mlp (3 outputs) and a batch X, all drawn from `seed`. kill: pairs
    (hidden layer from 0, number of its units), units killed with weights 0 and a bias in [-1.5, -0.5]."""
    model = nets.make_mlp(n_in, width, depth, 3, activation, init, seed=seed).double()
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
'''

PROGRAM = BUILDER + '''

def _refuse(*args, **kwargs):
    raise RuntimeError("write this function yourself: the grader does not accept the course library's version")


def _without_library():
    """The course library's versions of the lab's functions, replaced by _refuse while a check runs."""
    import contextlib
    from actlab import flow

    names = [(nets, "dead_fraction"), (nets, "hidden_activations"), (flow, "nets_dead_fraction"),
             (flow, "nets_with_leaky_relu")]

    @contextlib.contextmanager
    def hidden():
        saved = [(module, name, getattr(module, name)) for module, name in names]
        for module, name, _ in saved:
            setattr(module, name, _refuse)
        try:
            yield
        finally:
            for module, name, value in saved:
                setattr(module, name, value)
    return hidden()


def _as_numbers(result):
    """(container type, item types, items as floats) of what the student's function returned."""
    items = list(result) if isinstance(result, (list, tuple)) or hasattr(result, "__len__") else [result]
    try:
        values = [float(v) for v in items]
    except (TypeError, ValueError):
        raise TypeError("dead_fraction should return a list of numbers, one per hidden layer") from None
    return type(result).__name__, [type(v).__name__ for v in items], values


def _hooks(model):
    """How many hooks are attached to the model's modules, and globally to every module."""
    from torch.nn.modules import module as module_globals
    count = 0
    for m in model.modules():
        count += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
    for name in ["_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks"]:
        count += len(getattr(module_globals, name, {}))
    return count


def dead_fraction_probe(seed, config, calls=1):
    """The student's dead_fraction on build(seed, **config), `calls` times, and the state it left:
    (results, hooks left, gradients still enabled, every parameter still requires grad, parameters)."""
    model, X = build(seed, **config)
    with _without_library():
        results = [_as_numbers(dead_fraction(model, X)) for _ in range(calls)]
    return (results, _hooks(model), torch.is_grad_enabled(), all(p.requires_grad for p in model.parameters()),
            [p.detach().cpu().double().numpy() for p in model.parameters()])


def _describe(model):
    """(module type names, negative slopes (nan where none)) of a model's direct children."""
    children = list(model.children())
    return [type(m).__name__ for m in children], [float(getattr(m, "negative_slope", float("nan"))) for m in children]


def with_leaky_relu_probe(seed, alpha=None, kind="relu", change_copy=False):
    """The student's with_leaky_relu on a ReLU network (kind "relu") or a mixed one ("mixed"): what the
    copy is and computes, then (after changing the copy's parameters if asked) what the original is
    and computes."""
    model, X = mixed(seed) if kind == "mixed" else build(seed, batch=9)
    with _without_library():
        fixed = with_leaky_relu(model) if alpha is None else with_leaky_relu(model, alpha)
    with torch.no_grad():
        output = fixed(X).cpu().double().numpy()
        if change_copy:
            for p in fixed.parameters():
                p.add_(1.0)
        original_output = model(X).cpu().double().numpy()
    return (fixed is model, _describe(fixed), output, _describe(model), original_output,
            [p.detach().cpu().double().numpy() for p in model.parameters()])
'''

_namespace = {}
exec(BUILDER, _namespace)
build, mixed = _namespace["build"], _namespace["mixed"]
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


def numbers(probe_result, n_layers, what):
    """The values of one call's result; a CheckFailure if there is not one number per hidden layer."""
    _, _, values = probe_result
    if len(values) != n_layers:
        raise CheckFailure(f"{what} returned {len(values)} values for a network of {n_layers} hidden layers; "
                           "give one fraction per hidden layer (the activation modules), none for the output")
    return np.array(values)

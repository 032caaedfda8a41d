"""What the lab_dying_relu checks run in the student's worker (PROGRAM), and the grader's own references.

The worker and the grader build the same networks from the same seeds with one builder (BUILDER,
executed on both sides); some units are killed on purpose (weights 0, bias negative: the
pre-activation is the bias on every row). The worker only runs the student's function and sends back,
as plain numbers and arrays, what it returned and what the model does afterwards; every expected value
is recomputed here in float64, and every verdict (types included) is decided here.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checking import CheckFailure

BUILDER = '''
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU}


def mlp(n_in, width, depth, n_out, activation, init, seed):
    """Linear, activation, ..., Linear drawn from `seed`: PyTorch's default init when init is None, else He
    (weights from N(0, 2 / fan_in), zero biases). The checks' own builder (the same networks as
    actlab.nets.make_mlp): neither the course library nor a notebook that patches it changes what the
    checks build."""
    torch.manual_seed(seed)
    sizes = [n_in] + [width] * depth + [n_out]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        if init == "he":
            with torch.no_grad():
                linear.weight.normal_(0.0, math.sqrt(2.0 / fan_in))
                linear.bias.zero_()
        layers.append(linear)
        if i < depth:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def build(seed, activation="relu", depth=3, width=12, n_in=6, batch=40, kill=(), init="he", dtype="float64"):
    """An MLP (3 outputs) and a batch X, all drawn from `seed`. kill: pairs (hidden layer from 0, number
    of its units), units killed with weights 0 and a bias in [-1.5, -0.5]."""
    model = mlp(n_in, width, depth, 3, activation, init, seed).double()
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
'''

PROGRAM = BUILDER + '''

def _plain(value):
    """What the grader can read of a returned value: numbers and lists of them as they are, a tensor as an
    array, anything else as None. The grader decides whether it is what the contract asks for."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    return value if isinstance(value, (bool, int, float, np.number, np.ndarray)) else None


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
    """The student's dead_fraction on build(seed, **config), `calls` times, and what it left: (results, hooks
    left, parameters, the gradients of a training step on the model afterwards)."""
    torch.set_grad_enabled(True)
    model, X = build(seed, **config)
    results = [_plain(dead_fraction(model, X)) for _ in range(calls)]
    hooks, parameters = _hooks(model), [p.detach().cpu().double().numpy() for p in model.parameters()]
    try:
        return results, hooks, parameters, training_step(model, seed + 3000)
    finally:
        torch.set_grad_enabled(True)  # for the checks that run after this one


def _describe(model):
    """(module type names, negative slopes (nan where none)) of a model's direct children."""
    children = list(model.children())
    return [type(m).__name__ for m in children], [float(getattr(m, "negative_slope", float("nan"))) for m in children]


def with_leaky_relu_probe(seed, alpha=None, kind="relu", change_copy=False):
    """The student's with_leaky_relu on a ReLU network (kind "relu") or a mixed one ("mixed"): what the
    copy is and computes, then (after changing the copy's parameters if asked) what the original is
    and computes."""
    model, X = mixed(seed) if kind == "mixed" else build(seed, batch=9)
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
build, mixed, training_step = _namespace["build"], _namespace["mixed"], _namespace["training_step"]
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


def numbers(result, n_layers, what):
    """The values of one call's result, as floats; a CheckFailure if it is not one number per hidden layer."""
    items = list(np.ravel(result)) if isinstance(result, np.ndarray) else result
    if not isinstance(items, (list, tuple)) or any(v is None or isinstance(v, (bool, str)) or np.size(v) != 1
                                                    for v in items):
        raise CheckFailure(f"{what} should return a list of numbers, one per hidden layer")
    if len(items) != n_layers:
        raise CheckFailure(f"{what} returned {len(items)} values for a network of {n_layers} hidden layers; "
                           "give one fraction per hidden layer (the activation modules), none for the output")
    return np.array([float(np.asarray(v).reshape(())) for v in items])


def reference_training_step(seed, config):
    model, _ = build(seed, **config)
    return training_step(model, seed + 3000)

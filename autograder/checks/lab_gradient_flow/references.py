"""What the lab_gradient_flow checks run in the student's worker (PROGRAM), and the grader's own
float64 references.

The worker and the grader build the same networks from the same seeds with one builder (BUILDER,
executed on both sides). The worker only runs the student's function on them and sends back what it
returned and the parameters it left, as plain numbers and arrays; every expected value is recomputed
here, in float64, with torch.autograd, and every verdict (types included) is decided here.
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
from torch import nn

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU, "prelu": nn.PReLU}
STD = {"xavier": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
       "he": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in)}


def mlp(n_in, width, depth, n_out, activation, init, seed, batch_norm=False):
    """Linear, (BatchNorm1d,) activation, ..., Linear drawn from `seed`: PyTorch's default init when init is
    None, else weights from N(0, std**2) of the scheme and zero biases. The checks' own builder (the same
    networks as actlab.nets.make_mlp): neither the course library nor a notebook that patches it changes
    what the checks build."""
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


def build(seed, activation="relu", depth=3, width=7, n_in=5, n_out=4, batch=6, init=None, dtype="float64"):
    """An MLP and a batch (X, y), all drawn from `seed`."""
    model = mlp(n_in, width, depth, n_out, activation, init, seed).to(getattr(torch, dtype))
    generator = torch.Generator().manual_seed(seed + 1000)
    X = (2.0 * torch.randn(batch, n_in, generator=generator, dtype=torch.float64)).to(getattr(torch, dtype))
    y = torch.randint(0, n_out, (batch,), generator=generator)
    return model, X, y


def wide(seed, init=None, activation="relu", batch_norm=False):
    """A wide network for statistics of initial weights: Linear layers 300 -> 500 -> 500 -> 40."""
    return mlp(300, 500, 2, 40, activation, init, seed, batch_norm=batch_norm)
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


def layer_grad_norms_probe(seed, config, calls=1, prefill=False, repeat_batch=False):
    """The student's layer_grad_norms on build(seed, **config), `calls` times; optionally with random
    gradients already in the model, or with the batch repeated twice."""
    model, X, y = build(seed, **config)
    if prefill:  # gradients left over from an earlier pass: random and far from zero
        generator = torch.Generator().manual_seed(seed + 2000)
        for p in model.parameters():
            p.grad = (3.0 * torch.randn(p.shape, generator=generator, dtype=torch.float64)).to(p.dtype)
    if repeat_batch:
        X, y = torch.cat([X, X]), torch.cat([y, y])
    results = [_plain(layer_grad_norms(model, X, y)) for _ in range(calls)]
    return results, [p.detach().cpu().double().numpy() for p in model.parameters()]


def init_weights_probe(seed, scheme, init=None, activation="relu", batch_norm=False):
    """The student's init_weights_(model, scheme) on wide(seed, ...): whether it returned the model and
    kept the parameter objects, then every parameter and buffer as it left them."""
    model = wide(seed, init, activation, batch_norm)
    before = list(model.parameters())
    torch.manual_seed(seed + 1)
    returned = init_weights_(model, scheme)
    same_objects = len(before) == len(list(model.parameters())) and all(
        p is q for p, q in zip(before, model.parameters()))
    return (returned is model, same_objects, [p.detach().cpu().double().numpy() for p in model.parameters()],
            [b.detach().cpu().double().numpy() for b in model.buffers()])
'''

_namespace = {}
exec(BUILDER, _namespace)
build, wide = _namespace["build"], _namespace["wide"]


def reference_norms(seed, config, repeat_batch=False):
    """The Frobenius norm of each Linear weight's gradient of the mean cross-entropy, in float64."""
    model, X, y = build(seed, **config)
    model, X = model.double(), X.double()
    if repeat_batch:
        X, y = torch.cat([X, X]), torch.cat([y, y])
    F.cross_entropy(model(X), y).backward()
    return np.array([m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)])


def parameters(seed, config):
    model, _, _ = build(seed, **config)
    return [p.detach().double().numpy() for p in model.parameters()]


def numbers(result, n_layers, what):
    """The values of one call's result, as floats; a CheckFailure if it is not one number per Linear layer."""
    items = list(np.ravel(result)) if isinstance(result, np.ndarray) else result
    if not isinstance(items, (list, tuple)) or any(v is None or isinstance(v, (bool, str)) or np.size(v) != 1
                                                    for v in items):
        raise CheckFailure(f"{what} should return a list of numbers, one per nn.Linear layer")
    if len(items) != n_layers:
        raise CheckFailure(f"{what} returned {len(items)} values for a network of {n_layers} Linear layers; "
                           "give one norm per nn.Linear layer")
    return np.array([float(np.asarray(v).reshape(())) for v in items])


def wide_layers(seed, init=None, activation="relu", batch_norm=False):
    """[(kind, index of the parameter, fan_in, fan_out)] of the wide network's parameters, in the order
    of model.parameters(): kind is "weight" or "bias" for Linear layers, "other" for the rest."""
    model = wide(seed, init, activation, batch_norm)
    kinds, index = [], 0
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if isinstance(module, nn.Linear):
                fan_out, fan_in = module.weight.shape
                kinds.append((name, index, fan_in, fan_out))
            else:
                kinds.append(("other", index, None, None))
            index += 1
    return model, kinds

"""What the lab_gradient_flow checks run in the student's worker (PROGRAM), and the grader's own
float64 references.

The worker and the grader build the same networks from the same seeds with one builder (BUILDER,
executed on both sides). The worker only runs the student's function on them and sends back what it
returned and the parameters it left; every expected value is recomputed here, in float64, with
torch.autograd.
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


def build(seed, activation="relu", depth=3, width=7, n_in=5, n_out=4, batch=6, init=None, dtype="float64"):
    """An MLP from nets.make_mlp and a batch (X, y), all drawn from `seed`."""
    model = nets.make_mlp(n_in, width, depth, n_out, activation, init, seed=seed).to(getattr(torch, dtype))
    generator = torch.Generator().manual_seed(seed + 1000)
    X = (2.0 * torch.randn(batch, n_in, generator=generator, dtype=torch.float64)).to(getattr(torch, dtype))
    y = torch.randint(0, n_out, (batch,), generator=generator)
    return model, X, y


def wide(seed, init=None, activation="relu", batch_norm=False):
    """A wide network for statistics of initial weights: Linear layers 300 -> 500 -> 500 -> 40."""
    return nets.make_mlp(300, 500, 2, 40, activation, init, seed=seed, batch_norm=batch_norm)
'''

PROGRAM = BUILDER + '''

def _refuse(*args, **kwargs):
    raise RuntimeError("write this function yourself: the grader does not accept the course library's version")


def _without_library(names):
    """The course library's versions of the lab's functions, replaced by _refuse while a check runs."""
    import contextlib
    from actlab import flow

    @contextlib.contextmanager
    def hidden():
        saved = [(module, name, getattr(module, name)) for module, name in names(nets, flow)]
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
        raise TypeError("layer_grad_norms should return a list of numbers, one per Linear layer") from None
    return type(result).__name__, [type(v).__name__ for v in items], values


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
    with _without_library(lambda nets, flow: [(nets, "layer_grad_norms")]):
        results = [_as_numbers(layer_grad_norms(model, X, y)) for _ in range(calls)]
    return results, [p.detach().cpu().double().numpy() for p in model.parameters()]


def init_weights_probe(seed, scheme, init=None, activation="relu", batch_norm=False):
    """The student's init_weights_(model, scheme) on wide(seed, ...): whether it returned the model and
    kept the parameter objects, then every parameter and buffer as it left them."""
    model = wide(seed, init, activation, batch_norm)
    before = list(model.parameters())
    torch.manual_seed(seed + 1)
    with _without_library(lambda nets, flow: [(flow, "nets_init_weights_")]):
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


def numbers(probe_result, n_layers, what):
    """The values of one call's result; a CheckFailure if there is not one number per Linear layer."""
    _, _, values = probe_result
    if len(values) != n_layers:
        raise CheckFailure(f"{what} returned {len(values)} values for a network of {n_layers} Linear layers; "
                           "give one norm per nn.Linear layer")
    return np.array(values)


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

"""The grader's own float64 references for the lab_gradient_flow checks.

The worker and the grader build the same networks from the same seeds with one builder (probes.py, run on
both sides). The worker only runs the student's function on them and sends back what it returned and the
parameters it left, as plain numbers and arrays; every expected value is recomputed here, in float64, with
torch.autograd, and every verdict (types included) is decided by the checks.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .probes import build, prefill_gradients, wide


def reference_norms(seed, config, repeat_batch=False):
    """The Frobenius norm of each Linear weight's gradient of the mean cross-entropy, in float64."""
    model, X, y = build(seed, **config)
    model, X = model.double(), X.double()
    if repeat_batch:
        X, y = torch.cat([X, X]), torch.cat([y, y])
    F.cross_entropy(model(X), y).backward()
    return np.array([m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)])


def accumulated_norms(seed, config):
    """The norms a layer_grad_norms that does not clear .grad gives on the probe's model with gradients left
    over (probes.prefill_gradients): those of the old gradients plus the new ones, in float64."""
    model, X, y = build(seed, **config)
    model, X = model.double(), X.double()
    prefill_gradients(model, seed)
    F.cross_entropy(model(X), y).backward()
    return np.array([m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)])


def other_norms(seed, config):
    """{mistake: the norms it gives} for the mistakes a layer_grad_norms commonly makes, in float64: the right
    norms reversed, the biases' gradients, weight and bias together, squared norms, the weights' own norms, a
    summed loss, a mean squared error on one-hot labels."""
    model, X, y = build(seed, **config)
    model, X = model.double(), X.double()
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    F.cross_entropy(model(X), y).backward()
    weight = [m.weight.grad.norm().item() for m in layers]
    norms = {"reversed": weight[::-1], "bias": [m.bias.grad.norm().item() for m in layers],
             "weight and bias": [torch.cat([m.weight.grad.flatten(), m.bias.grad]).norm().item() for m in layers],
             "squared": [w**2 for w in weight], "weights": [m.weight.norm().item() for m in layers]}
    model.zero_grad()
    F.cross_entropy(model(X), y, reduction="sum").backward()
    norms["sum"] = [m.weight.grad.norm().item() for m in layers]
    model.zero_grad()
    logits = model(X)
    F.mse_loss(logits, F.one_hot(y, logits.shape[1]).double()).backward()
    norms["mse"] = [m.weight.grad.norm().item() for m in layers]
    return {mistake: np.array(values) for mistake, values in norms.items()}


def parameters(seed, config):
    model, _, _ = build(seed, **config)
    return [p.detach().double().numpy() for p in model.parameters()]


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

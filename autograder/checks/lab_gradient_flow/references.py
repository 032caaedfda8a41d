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

from .probes import build, wide


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

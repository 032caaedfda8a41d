"""The grader's float64 references for the lab_shootout checks.

The probes (probes.py) run in the worker, where the student's torch objects live: they build a network or a
model and data from a seed, call the student's function and return plain values. The grader rebuilds the same
inputs from the same seed here, with the same code, in its own process, and computes the truth itself: it
trusts no number the student's code reports about itself.
"""
import math

import torch
import torch.nn.functional as F

from .probes import evaluation_case, training_step

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu"]
MODULES = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU",
           "selu": "SELU", "gelu": "GELU", "silu": "SiLU"}
FUNCTIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "elu": F.elu, "selu": F.selu, "gelu": F.gelu,
             "silu": F.silu}
SCHEME = {"sigmoid": "Xavier", "tanh": "Xavier", "relu": "He", "leaky_relu": "He", "elu": "He", "gelu": "He",
          "silu": "He", "selu": "LeCun"}
STD = {"Xavier": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
       "He": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in),
       "LeCun": lambda fan_in, fan_out: math.sqrt(1.0 / fan_in)}

# ----------------------------------------------------------------------------------------------
# build_mlp


def reference_output(x, weights, biases, activation):
    """Linear, activation, ..., Linear (none after the last) in float64, with the given weights and biases.
    activation: a name of FUNCTIONS, or "gelu_tanh" for GELU's tanh approximation (what a common mistake uses)."""
    function = (lambda t: F.gelu(t, approximate="tanh")) if activation == "gelu_tanh" else FUNCTIONS[activation]
    a = x.to(torch.float64)
    for i, (W, b) in enumerate(zip(weights, biases)):
        a = F.linear(a, torch.from_numpy(W), torch.from_numpy(b))
        if i < len(weights) - 1:
            a = function(a)
    return a.numpy()


# ----------------------------------------------------------------------------------------------
# evaluate


def reference_scores(seed, kind):
    """(loss, accuracy, n): the mean cross-entropy in float64 and the arg-max accuracy in eval mode."""
    model, X, y = evaluation_case(seed, kind)
    model.eval()
    with torch.no_grad():
        accuracy = (model(X).argmax(dim=1) == y).double().mean().item()
        loss = F.cross_entropy(model.double()(X.double()), y).item()
    return loss, accuracy, len(y)


def other_accuracies(seed, kind):
    """{mistake: the accuracy it gives} in eval mode for the accuracies a common mistake computes instead of the
    arg-max one: the rows whose softmax probability of the label passes 0.5, and the rows whose largest
    probability passes 0.5, right or wrong."""
    model, X, y = evaluation_case(seed, kind)
    model.eval()
    with torch.no_grad():
        p = F.softmax(model.double()(X.double()), dim=1)
    return {"label above one half": (p[torch.arange(len(y)), y] > 0.5).double().mean().item(),
            "largest above one half": (p.max(dim=1).values > 0.5).double().mean().item()}


def reference_state(seed, kind):
    """The model's parameters and buffers as they are before evaluate is called."""
    model, _, _ = evaluation_case(seed, kind)
    return [t.detach().numpy().copy() for t in model.state_dict().values()]


def reference_steps(seed, kind):
    """{mode: (output, gradients)} of the probe's training step after a correct evaluate, for a model that
    was in training mode ("train") or in eval mode ("eval")."""
    steps = {}
    for mode in ("train", "eval"):
        model, _, _ = evaluation_case(seed, kind)
        model.train(mode == "train")
        steps[mode] = training_step(model, seed + 1)
    return steps

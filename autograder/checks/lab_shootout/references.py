"""Probes and float64 references for the lab_shootout checks.

The probes are programs the grader writes; they run in the worker beside the student's names (where
the student's torch objects live), build a network or a model and data from a seed, call the student's
function and return plain values. The grader rebuilds the same inputs from the same seed here, in its
own process, and computes the truth itself: it trusts no number the student's code reports about itself.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checking import CheckFailure, as_array, assert_finite

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

BUILD_PROGRAM = '''
import numpy as np
import torch

def probe_build(seed, n_in, width, depth, n_out, activation, batch):
    torch.manual_seed(seed)
    net = build_mlp(n_in, width, depth, n_out, activation)
    if not isinstance(net, torch.nn.Module):
        return type(net).__name__, [], [], [], None
    kinds = [type(layer).__name__ for layer in net.children()]
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    weights = [m.weight.detach().cpu().numpy().copy() for m in linears]
    biases = [np.zeros(0, np.float32) if m.bias is None else m.bias.detach().cpu().numpy().copy() for m in linears]
    x = torch.randn(batch, n_in, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        out = net(x)
    return type(net).__name__, kinds, weights, biases, out.detach().cpu().numpy()
'''


def built(student, activation, sizes, seed=0, batch=16):
    """The student's network for (n_in, width, depth, n_out): (class name, child types, weights, biases, output)."""
    n_in, width, depth, n_out = sizes
    value = student.call("probe_build", seed, n_in, width, depth, n_out, activation, batch, _program=BUILD_PROGRAM,
                         _timeout=30).value
    name, kinds, weights, biases, out = value
    what = f"build_mlp({n_in}, {width}, {depth}, {n_out}, {activation!r})"
    if out is None:
        raise CheckFailure(f"{what} returned a {name}, not a torch.nn.Sequential")
    shapes = [(width, n_in)] + [(width, width)] * (depth - 1) + [(n_out, width)]
    if len(weights) != len(shapes):
        raise CheckFailure(f"{what} has {len(weights)} nn.Linear layers; it should have depth + 1 = {len(shapes)}")
    for i, (W, b, shape) in enumerate(zip(weights, biases, shapes)):
        if as_array(W, what).shape != shape:
            raise CheckFailure(f"{what}: the weight of Linear layer {i + 1} has shape {W.shape}; it should be "
                               f"{shape} (out_features, in_features)")
        if as_array(b, what).shape != (shape[0],):
            raise CheckFailure(f"{what}: Linear layer {i + 1} should have a bias of shape {(shape[0],)}")
        # a nan weight would pass every statistic compared with `>`, and give the grader's reference nan too
        assert_finite(W, f"{what}: the weight of Linear layer {i + 1}")
        assert_finite(b, f"{what}: the bias of Linear layer {i + 1}")
    return name, list(kinds), [w.astype(np.float64) for w in weights], [b.astype(np.float64) for b in biases], out


def probe_input(seed, batch, n_in):
    """The input the probe fed the student's network, rebuilt here from the seed."""
    return torch.randn(batch, n_in, generator=torch.Generator().manual_seed(seed + 1))


def reference_output(x, weights, biases, activation):
    """Linear, activation, ..., Linear (none after the last) in float64, with the given weights and biases."""
    a = x.to(torch.float64)
    for i, (W, b) in enumerate(zip(weights, biases)):
        a = F.linear(a, torch.from_numpy(W), torch.from_numpy(b))
        if i < len(weights) - 1:
            a = FUNCTIONS[activation](a)
    return a.numpy()


# ----------------------------------------------------------------------------------------------
# evaluate

# Runs both here and in the worker: the same seed gives the same model, data and measurements on both sides.
CASE_SOURCE = '''
import torch
import torch.nn.functional as F
from torch import nn

N_IN, N_CLASSES = 12, 6


def evaluation_case(seed, kind, n=400):
    """A model (in training mode) and data (X, y) from a seed. kind "plain": Linear, Tanh, Linear;
    "dropout_bn": Linear, BatchNorm1d, ReLU, Dropout, Linear, whose batch-norm running statistics have
    moved away from their start, so that eval and training mode give different outputs."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    if kind == "plain":
        model = nn.Sequential(nn.Linear(N_IN, 32), nn.Tanh(), nn.Linear(32, N_CLASSES))
    else:
        model = nn.Sequential(nn.Linear(N_IN, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5),
                              nn.Linear(32, N_CLASSES))
        model.train()
        with torch.no_grad():
            for _ in range(3):
                model(2.0 * torch.randn(64, N_IN, generator=generator) + 1.0)
    X = torch.randn(n, N_IN, generator=generator)
    model.eval()
    with torch.no_grad():
        logits = model(X)
    # labels the model gets partly right, and a spread of confidences
    y = (logits + 1.5 * logits.std() * torch.randn(n, N_CLASSES, generator=generator)).argmax(dim=1)
    model.train()
    return model, X, y


def training_step(model, seed, n=50):
    """One training step's forward and backward pass, as a training loop runs it next with the model that
    evaluate was given: in whatever mode its modules are in and with PyTorch's gradient mode as it is
    (dropout's mask drawn from the seed). Returns the output and each parameter's gradient (None where
    none arrived)."""
    generator = torch.Generator().manual_seed(seed)
    X, y = torch.randn(n, N_IN, generator=generator), torch.randint(0, N_CLASSES, (n,), generator=generator)
    torch.manual_seed(seed)
    output = model(X)
    try:
        F.cross_entropy(output, y).backward()
    except RuntimeError:  # no graph: gradients were switched off
        pass
    return output.detach().numpy(), [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
'''

EVALUATE_PROGRAM = CASE_SOURCE + '''
import numpy as np


def _plain(value):
    """What the grader can read of a returned value: numbers as they are, a tensor as an array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    return value if isinstance(value, (bool, int, float, np.number, np.ndarray)) else None


def _graph_evidence(graphs):
    """A forward hook that appends, for each output of its layer, the gradient of the output's sum with
    respect to the layer's bias if a graph for gradients was built, else None. Taken at once, before
    evaluate could run a backward pass that frees the graph."""
    def hook(layer, inputs, output):
        try:
            graphs.append(torch.autograd.grad(output.sum(), layer.bias, retain_graph=True)[0].numpy())
        except RuntimeError:
            graphs.append(None)
    return hook


def probe_evaluate(seed, kind, mode):
    torch.set_grad_enabled(True)
    model, X, y = evaluation_case(seed, kind)
    model.train(mode == "train")
    # on the last layer, not on the model: model.forward(X) skips the model's own hooks, not its layers'
    graphs = []
    hook = model[-1].register_forward_hook(_graph_evidence(graphs))
    try:
        result = evaluate(model, X, y)
    finally:
        hook.remove()
    state = [t.detach().cpu().numpy().copy() for t in model.state_dict().values()]
    try:
        # at once: any torch.no_grad() block of ours would switch gradients back on as it ends
        output, gradients = training_step(model, seed + 1)
    finally:
        torch.set_grad_enabled(True)  # for the checks that run after this one
    returned = [_plain(v) for v in result] if isinstance(result, (tuple, list)) and len(result) == 2 else None
    return [returned, state, graphs, output, gradients]
'''

_namespace = {}
exec(compile(CASE_SOURCE, "<evaluation_case>", "exec"), _namespace)
evaluation_case, training_step = _namespace["evaluation_case"], _namespace["training_step"]


class Evaluation:
    """What the student's evaluate returned on one case and left behind, checked for form: `loss`,
    `accuracy`, `are_floats`, `state` (parameters and buffers after the call), `graphs` (None for each forward
    pass without a graph) and `step_output`, `step_gradients` (those of a training step after the call, in
    the mode evaluate left the model)."""

    def __init__(self, student, seed, kind, mode):
        self.what = f"evaluate (on a model in {'training' if mode == 'train' else 'eval'} mode)"
        value = student.call("probe_evaluate", seed, kind, mode, _program=EVALUATE_PROGRAM, _timeout=30).value
        returned, self.state, self.graphs, self.step_output, self.step_gradients = value
        if returned is None:
            raise CheckFailure(f"{self.what} should return a pair (loss, accuracy)")
        for name, v in zip(("loss", "accuracy"), returned):
            if v is None or np.asarray(v).size != 1:
                raise CheckFailure(f"{self.what}: the {name} should be one number")
        self.are_floats = [isinstance(v, float) for v in returned]
        self.loss, self.accuracy = (float(np.asarray(v).reshape(())) for v in returned)


def reference_scores(seed, kind):
    """(loss, accuracy, n): the mean cross-entropy in float64 and the arg-max accuracy in eval mode."""
    model, X, y = evaluation_case(seed, kind)
    model.eval()
    with torch.no_grad():
        accuracy = (model(X).argmax(dim=1) == y).double().mean().item()
        loss = F.cross_entropy(model.double()(X.double()), y).item()
    return loss, accuracy, len(y)


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

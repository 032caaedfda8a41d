"""What the lab_shootout checks run where the student's code runs: probes that build a network, or a model and
data, from a seed, call the student's function and send back plain values.

The worker runs this file as a module of its own and hands each probe the student's function as an argument;
the grader imports it too, to rebuild the same model and data from the same seed (evaluation_case,
training_step) and compute the truth itself (references.py): it trusts no number the student's code reports
about itself. So it imports only the standard library, numpy, torch and probe_kit.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import probe_kit

N_IN, N_CLASSES = 12, 6


# ----------------------------------------------------------------------------------------------
# build_mlp


def probe_input(seed, batch, n_in):
    """The input probe_build feeds the student's network (the grader rebuilds it from the seed)."""
    return torch.randn(batch, n_in, generator=torch.Generator().manual_seed(seed + 1))


def probe_build(build_mlp, seed, n_in, width, depth, n_out, activation, batch):
    """(class name, child types, weights, biases, output for a random input) of the student's network;
    output None if it is not an nn.Module."""
    torch.manual_seed(seed)
    net = build_mlp(n_in, width, depth, n_out, activation)
    if not isinstance(net, torch.nn.Module):
        return type(net).__name__, [], [], [], None
    kinds = [type(layer).__name__ for layer in net.children()]
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    weights = [m.weight.detach().cpu().numpy().copy() for m in linears]
    biases = [np.zeros(0, np.float32) if m.bias is None else m.bias.detach().cpu().numpy().copy() for m in linears]
    with torch.no_grad():
        out = net(probe_input(seed, batch, n_in))
    return type(net).__name__, kinds, weights, biases, out.detach().cpu().numpy()


# ----------------------------------------------------------------------------------------------
# evaluate


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


def probe_evaluate(evaluate, seed, kind, mode):
    """[(loss, accuracy) as plain values or None, state after, graphs, a training step's output and gradients
    after] of the student's evaluate on evaluation_case(seed, kind), the model first put in `mode`."""
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
    pair = isinstance(result, (tuple, list)) and len(result) == 2
    returned = [probe_kit.plain_item(v) for v in result] if pair else None
    return [returned, state, graphs, output, gradients]

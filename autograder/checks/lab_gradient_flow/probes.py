"""What the lab_gradient_flow checks run where the student's code runs: the networks, and probes that call the
student's function on them and send back what it returned and the parameters it left, as plain numbers and
arrays.

The worker runs this file as a module of its own and hands each probe the student's function as an argument;
the grader imports it too, to build the same networks from the same seeds for its float64 references
(references.py); the checks decide every verdict. So it imports only the standard library, numpy, torch and
probe_kit.
"""
import torch

from autograder.checks import probe_kit


def build(seed, activation="relu", depth=3, width=7, n_in=5, n_out=4, batch=6, init=None, dtype="float64"):
    """An MLP and a batch (X, y), all drawn from `seed`."""
    model = probe_kit.mlp(n_in, width, depth, n_out, activation, init, seed).to(getattr(torch, dtype))
    generator = torch.Generator().manual_seed(seed + 1000)
    X = (2.0 * torch.randn(batch, n_in, generator=generator, dtype=torch.float64)).to(getattr(torch, dtype))
    y = torch.randint(0, n_out, (batch,), generator=generator)
    return model, X, y


def wide(seed, init=None, activation="relu", batch_norm=False):
    """A wide network for statistics of initial weights: Linear layers 300 -> 500 -> 500 -> 40."""
    return probe_kit.mlp(300, 500, 2, 40, activation, init, seed, batch_norm=batch_norm)


def prefill_gradients(model, seed):
    """Gradients left over from an earlier pass, in every parameter: random and far from zero."""
    generator = torch.Generator().manual_seed(seed + 2000)
    for p in model.parameters():
        p.grad = (3.0 * torch.randn(p.shape, generator=generator, dtype=torch.float64)).to(p.dtype)


def layer_grad_norms_probe(layer_grad_norms, seed, config, calls=1, prefill=False, repeat_batch=False):
    """The student's layer_grad_norms on build(seed, **config), `calls` times; optionally with random
    gradients already in the model, or with the batch repeated twice."""
    model, X, y = build(seed, **config)
    if prefill:
        prefill_gradients(model, seed)
    if repeat_batch:
        X, y = torch.cat([X, X]), torch.cat([y, y])
    results = [probe_kit.plain(layer_grad_norms(model, X, y)) for _ in range(calls)]
    return results, probe_kit.float64_arrays(model.parameters())


def init_weights_probe(init_weights_, seed, scheme, init=None, activation="relu", batch_norm=False):
    """The student's init_weights_(model, scheme) on wide(seed, ...): whether it returned the model and
    kept the parameter objects, then every parameter and buffer as it left them."""
    model = wide(seed, init, activation, batch_norm)
    before = list(model.parameters())
    torch.manual_seed(seed + 1)
    returned = init_weights_(model, scheme)
    same_objects = len(before) == len(list(model.parameters())) and all(
        p is q for p, q in zip(before, model.parameters()))
    return (returned is model, same_objects, probe_kit.float64_arrays(model.parameters()),
            probe_kit.float64_arrays(model.buffers()))

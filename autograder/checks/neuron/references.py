"""Float64 references for the neuron assignment, computed with PyTorch in the grader's process."""
import numpy as np
import torch
import torch.nn.functional as F

# The activations the checks hand to mlp_forward (as grader-written source) and their PyTorch twins.
ACTIVATIONS = {
    "np.tanh": torch.tanh,
    "lambda z: np.maximum(z, 0)": F.relu,
    "np.sin": torch.sin,
}


def _t(x):
    return torch.from_numpy(np.array(x, dtype=np.float64))


def weighted_sum(x, w, b):
    return (_t(x) @ _t(w) + float(b)).numpy()


def step(z):
    return torch.heaviside(_t(z), torch.tensor(1.0, dtype=torch.float64)).numpy()


def dense_forward(X, W, b):
    return F.linear(_t(X), _t(W).T, _t(b)).numpy()


def mlp_forward(X, params, activation, hidden=True, last=False):
    """Logits of the MLP: `activation` (a key of ACTIVATIONS) after every layer but the last. A common mistake's
    logits: the activation after the hidden layers only when `hidden`, and after the last layer too when `last`."""
    f = ACTIVATIONS[activation]
    a = _t(X)
    for k, (W, b) in enumerate(params):
        a = F.linear(a, _t(W).T, _t(b))
        if hidden and k < len(params) - 1 or last and k == len(params) - 1:
            a = f(a)
    return a.numpy()


def collapse_linear(W1, b1, W2, b2):
    W2 = _t(W2)
    return (_t(W1) @ W2).numpy(), (_t(b1) @ W2 + _t(b2)).numpy()


def random_params(sizes, seed, dtype=np.float64):
    """(W, b) pairs for layer sizes [n_0, ..., n_L], scaled so that activations neither vanish nor saturate."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(0.0, 1.5 / np.sqrt(n_in), (n_in, n_out)).astype(dtype),
             rng.normal(0.0, 0.5, n_out).astype(dtype)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

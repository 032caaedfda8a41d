"""Float64 references for the backprop checks.

Gradients come from torch.autograd; accuracy, loss and centred differences from a plain numpy forward
pass in this (trusted) process. Nothing here trusts a number the student's code reports about itself.
"""
import numpy as np
import torch
import torch.nn.functional as F

ACTIVATIONS = ["identity", "relu", "tanh", "sigmoid"]
NUMPY_ACTIVATIONS = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
                     "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))}
TORCH_ACTIVATIONS = {"identity": lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def random_net(sizes, batch, seed):
    """X (batch, sizes[0]), params with weights of scale ~1 and nonzero biases, and dlogits (batch, sizes[-1])."""
    rng = np.random.default_rng(seed)
    params = [(rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_out)) * 1.5, rng.normal(0.0, 0.5, n_out))
              for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return rng.normal(0.0, 1.0, (batch, sizes[0])), params, rng.normal(0.0, 1.0, (batch, sizes[-1]))


def logits(X, params, activation):
    """The network's logits, in float64 numpy: the activation after every layer but the last."""
    A = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(params):
        Z = A @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64)
        A = Z if i == len(params) - 1 else NUMPY_ACTIVATIONS[activation](Z)
    return A


def accuracy(X, y, params, activation):
    return float(np.mean(logits(X, params, activation).argmax(axis=1) == y))


def _torch_logits(X, tparams, activation):
    A = torch.from_numpy(np.asarray(X, dtype=np.float64))
    for i, (W, b) in enumerate(tparams):
        Z = A @ W + b
        A = Z if i == len(tparams) - 1 else TORCH_ACTIVATIONS[activation](Z)
    return A


def _leaves(params):
    return [(torch.tensor(np.asarray(W, dtype=np.float64), requires_grad=True),
             torch.tensor(np.asarray(b, dtype=np.float64), requires_grad=True)) for W, b in params]


def pytorch_logits(X, params, activation):
    """The network's logits computed by PyTorch in float64."""
    with torch.no_grad():
        return _torch_logits(X, _leaves(params), activation).numpy()


def vjp(X, params, activation, dlogits):
    """[(dW, db)] of sum(logits * dlogits) by torch.autograd."""
    tparams = _leaves(params)
    (_torch_logits(X, tparams, activation) * torch.from_numpy(dlogits)).sum().backward()
    return [(W.grad.numpy(), b.grad.numpy()) for W, b in tparams]


def numerical_vjp(X, params, activation, dlogits, h=1e-6):
    """[(dW, db)] of sum(logits * dlogits) by centred differences of the numpy forward pass."""
    params = [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]
    grads = []
    for W, b in params:
        pair = []
        for P in (W, b):
            numeric = np.zeros_like(P)
            for index in np.ndindex(P.shape):
                old = P[index]
                P[index] = old + h
                up = np.sum(logits(X, params, activation) * dlogits)
                P[index] = old - h
                down = np.sum(logits(X, params, activation) * dlogits)
                P[index] = old
                numeric[index] = (up - down) / (2 * h)
            pair.append(numeric)
        grads.append(tuple(pair))
    return grads


def cross_entropy(logits_, y):
    """(loss, dlogits) of torch.nn.functional.cross_entropy (mean over the batch), in float64."""
    t = torch.tensor(np.asarray(logits_, dtype=np.float64), requires_grad=True)
    loss = F.cross_entropy(t, torch.from_numpy(np.asarray(y, dtype=np.int64)))
    loss.backward()
    return loss.item(), t.grad.numpy()


def loss(X, y, params, activation):
    """The mean cross-entropy of the network on (X, y), computed here from the params alone."""
    return cross_entropy(logits(X, params, activation), y)[0]


def gradient_descent(X, y, params, activation, lr, epochs, update_biases=True):
    """`epochs` full-batch steps W -= lr * dW of the mean cross-entropy, from `params`, by torch.autograd (with
    update_biases=False, a common mistake's: the biases stay where they start)."""
    tparams = _leaves(params)
    target = torch.from_numpy(np.asarray(y, dtype=np.int64))
    for _ in range(epochs):
        F.cross_entropy(_torch_logits(X, tparams, activation), target).backward()
        with torch.no_grad():
            for P in (p for pair in tparams for p in (pair if update_biases else pair[:1])):
                P -= lr * P.grad
            for P in (p for pair in tparams for p in pair):
                P.grad = None
    return [(W.detach().numpy(), b.detach().numpy()) for W, b in tparams]


def logits_like(X, params, activation, last=None, biases=True):
    """The logits of a common mistake, in float64 numpy: `last` (an activation name) applied after the last
    layer too, or the biases left out."""
    A = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(params):
        Z = A @ np.asarray(W, dtype=np.float64) + (np.asarray(b, dtype=np.float64) if biases else 0.0)
        if i < len(params) - 1:
            A = NUMPY_ACTIVATIONS[activation](Z)
        else:
            A = NUMPY_ACTIVATIONS[last](Z) if last else Z
    return A


def rings(n_per_ring, seed, radii=(0.4, 1.1), centre=(0.3, -0.2), noise=0.06):
    """Two noisy concentric rings, shuffled: X (2 n_per_ring, 2), y 0 on the inner ring and 1 on the outer.

    Unlike any data the notebook or the book shows (make_circles, actlab.data.circles and the notebook's
    own rings put class 0 outside, centred at the origin): parameters fitted once to those and returned
    whatever X and y are classify these rings worse than chance; only a `train` that learns from the X
    and y it is given fits them.
    """
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, 2 * np.pi, 2 * n_per_ring)
    radius = np.repeat(np.asarray(radii, dtype=np.float64), n_per_ring)
    X = (np.asarray(centre) + radius[:, None] * np.c_[np.cos(angle), np.sin(angle)]
         + rng.normal(0.0, noise, (2 * n_per_ring, 2)))
    y = np.repeat([0, 1], n_per_ring)
    order = rng.permutation(2 * n_per_ring)
    return X[order], y[order]


def layer_shapes(sizes):
    return [((n_in, n_out), (n_out,)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

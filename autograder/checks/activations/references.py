"""Float64 references for the activations, from PyTorch's own functions."""
import numpy as np
import torch
import torch.nn.functional as F

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _t(x):
    return torch.from_numpy(np.array(x, dtype=np.float64))


def torch_activation(name, t, **kwargs):
    """f(t) for a float64 tensor `t` (gradients flow), by PyTorch's function matching the activation `name`."""
    if name == "identity":
        return t * 1.0
    if name == "swish":
        return t * torch.sigmoid(kwargs.get("beta", 1.0) * t)
    if name == "prelu":
        alpha = _t(kwargs["alpha"]).reshape(-1)
        # F.prelu's channels are dim 1; ours are the last axis
        return F.prelu(t.reshape(-1, alpha.numel()), alpha).reshape(t.shape)
    functions = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=kwargs.get("alpha", 0.01)),
        "elu": lambda t: F.elu(t, alpha=kwargs.get("alpha", 1.0)),
        "selu": F.selu,
        "gelu": lambda t: F.gelu(t, approximate=kwargs.get("approximate", "none")),
        "silu": F.silu,
    }
    return functions[name](t)


def elementwise(name, x, **kwargs):
    """f(x) in float64 for every elementwise activation of the assignment."""
    if name == "softplus":
        # PyTorch's softplus returns x above its threshold (off by up to 2e-9): use the exact form.
        beta = kwargs.get("beta", 1.0)
        return np.logaddexp(0.0, beta * np.asarray(x, dtype=np.float64)) / beta
    with torch.no_grad():
        return torch_activation(name, _t(x), **kwargs).numpy()


def softmax(x, axis=-1, temperature=1.0):
    return torch.softmax(_t(x) / temperature, dim=axis).numpy()


def log_softmax(x, axis=-1):
    return F.log_softmax(_t(x), dim=axis).numpy()

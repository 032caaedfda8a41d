"""Float64 references that several assignments' checks share: the one place they import from each other.

An assignment's checks import their own folder's references and this module, never another assignment's
folder, so that a grade depends on (and the grade cache hashes) exactly these files and its own.
"""
import numpy as np
import torch
import torch.nn.functional as F

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def as_float64_tensor(x, requires_grad=False):
    return torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_(requires_grad)


def torch_activation(name, t, **kwargs):
    """f(t) for a float64 tensor `t` (gradients flow), by PyTorch's function matching the activation `name`."""
    if name == "identity":
        return t * 1.0
    if name == "swish":
        return t * torch.sigmoid(kwargs.get("beta", 1.0) * t)
    if name == "prelu":
        alpha = as_float64_tensor(kwargs["alpha"]).reshape(-1)
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

"""Float64 references for the derivatives, from torch.autograd through PyTorch's own functions."""
import numpy as np
import torch

from autograder.checks.shared_references import SELU_ALPHA, SELU_SCALE, as_float64_tensor as _t, torch_activation


def grad(name, x, **kwargs):
    """f'(x) in float64: the gradient of f(x).sum() by torch.autograd, for the activation `name`."""
    if name == "softplus":
        # PyTorch's softplus is linear above its threshold, so its gradient is exactly 1 there:
        # use the exact derivative sigmoid(beta x) instead.
        return torch.sigmoid(kwargs.get("beta", 1.0) * _t(x)).numpy()
    t = _t(x, requires_grad=True)
    (g,) = torch.autograd.grad(torch_activation(name, t, **kwargs).sum(), t, allow_unused=True)
    return np.zeros(t.shape) if g is None else g.numpy()


def one_sided(name, x, **kwargs):
    """(left, right, kind) derivatives at the kink x = 0, or None for a function smooth there.

    kind "between" accepts any value in the closed interval (ReLU's family, where every value in it
    is a subgradient); kind "either" accepts only one of the two one-sided derivatives (ELU, SELU).
    """
    if name == "relu":
        return 0.0, 1.0, "between"
    if name == "leaky_relu":
        return kwargs.get("alpha", 0.01), 1.0, "between"
    if name == "prelu":
        alpha = np.broadcast_to(np.asarray(kwargs["alpha"], dtype=np.float64), np.shape(x))
        return alpha, 1.0, "between"
    if name == "elu":
        return kwargs.get("alpha", 1.0), 1.0, "either"
    if name == "selu":
        return SELU_SCALE * SELU_ALPHA, SELU_SCALE, "either"
    return None


def expected_grad(name, actual, x, **kwargs):
    """The reference f'(x), where at a kink (x == 0) the student's value stands if the contract accepts it.

    At x = 0 the expected value becomes the accepted value nearest to the student's: equal to it when
    it is accepted, so assert_close passes there, and different from it otherwise.
    """
    expected = grad(name, x, **kwargs)
    kink = one_sided(name, x, **kwargs)
    actual = np.asarray(actual)
    if kink is None or actual.shape != expected.shape or actual.dtype.kind not in "biuf":
        return expected
    left, right = (np.broadcast_to(np.asarray(v, dtype=np.float64), expected.shape) for v in kink[:2])
    low, high = np.minimum(left, right), np.maximum(left, right)
    value = actual.astype(np.float64)
    if kink[2] == "between":
        accepted = np.clip(value, low, high)
    else:
        accepted = np.where(np.abs(value - left) <= np.abs(value - right), left, right)
    accepted = np.where(np.isfinite(value), accepted, low)
    return np.where(np.asarray(x) == 0, accepted, expected)


def softmax(x, axis=-1):
    return torch.softmax(_t(x), dim=axis).numpy()


def softmax_vjp_autograd(dout, x, axis=-1):
    """dL/dx by torch.autograd through torch.softmax(x, axis), for the upstream gradient dout."""
    t = _t(x, requires_grad=True)
    (g,) = torch.autograd.grad(torch.softmax(t, dim=axis), t, grad_outputs=_t(dout))
    return g.numpy()


def softmax_vjp_jacobian(dout, s):
    """dx for rows of a 2-d s (softmax along the last axis): J^T dout with J = diag(s) - s s^T per row."""
    s, dout = np.asarray(s, dtype=np.float64), np.asarray(dout, dtype=np.float64)
    jacobians = np.stack([np.diag(row) - np.outer(row, row) for row in s])
    return np.einsum("nij,ni->nj", jacobians, dout)


def relative_error(a, b, floor=1e-12):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))

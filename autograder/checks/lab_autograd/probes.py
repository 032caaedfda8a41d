"""What the lab_autograd checks run where the student's code runs: probes that run the student's autograd
Function and return plain arrays. They only compute; every verdict is a comparison made by the checks
(verdicts.py). Each probe runs the class two ways:
- through autograd: `<Class>.apply`, then a backward pass of the output with the grader's upstream gradient;
- directly: `<Class>.forward` and `<Class>.backward` called with a ctx written here. This gradient is what the
  student's backward returns, whatever their notebook did to autograd in its own process (a patched
  Tensor.backward or gradcheck changes the first way, not this one).

The worker runs this file as a module of its own and hands each probe the student's class as an argument.
"""
import numpy as np
import torch
from torch.autograd.variable import Variable


def _named(function_class):
    """The name of the student's class, for messages (a callable object without one is "the class")."""
    return getattr(function_class, "__name__", "the class")


def _tensor(x, requires_grad):
    return torch.from_numpy(np.array(x)).requires_grad_(requires_grad)


def _array(t):
    return t.detach().numpy().copy() if isinstance(t, torch.Tensor) else None


def _through_autograd(function_class, x, extra):
    t = _tensor(x, True)
    y = function_class.apply(t, *extra)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{_named(function_class)}.apply returned a {type(y).__name__}, not a tensor")
    return t, y


def _autograd_gradient(t, y, g):
    if tuple(y.shape) != tuple(t.shape) or not y.requires_grad:
        return None
    y.backward(torch.from_numpy(np.array(g)).to(y.dtype))
    return _array(t.grad)


class _Context:
    """What autograd's ctx offers forward and backward, for calling them directly."""

    def __init__(self, n_inputs):
        self.saved_tensors = ()
        self.needs_input_grad = (True,) + (False,) * (n_inputs - 1)

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_dirty(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


def _direct_forward(function_class, x, extra):
    if not (isinstance(function_class, type) and issubclass(function_class, torch.autograd.Function)):
        raise TypeError(f"{_named(function_class)} is not a torch.autograd.Function: it has no forward and backward "
                        "of its own")
    inputs, ctx = (_tensor(x, False), *extra), _Context(1 + len(extra))
    with torch.no_grad():  # as under apply
        if function_class.setup_context is torch.autograd.Function.setup_context:
            y = function_class.forward(ctx, *inputs)
        else:  # the setup_context style of torch >= 2.0: forward takes no ctx
            y = function_class.forward(*inputs)
            function_class.setup_context(ctx, inputs, y)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{_named(function_class)}.forward returned a {type(y).__name__}, not a tensor")
    return ctx, y


def _direct_gradient(function_class, ctx, y, g):
    with torch.no_grad():  # as under autograd's backward pass
        grads = function_class.backward(ctx, torch.from_numpy(np.array(g)).to(y.dtype))
    return _array(grads[0] if isinstance(grads, (tuple, list)) else grads)


def both_ways(function_class, x, g, extra):
    """[value, gradient] through autograd, [value, gradient] called directly, and x after the autograd call."""
    t, y = _through_autograd(function_class, x, extra)
    value, gradient = _array(y), _autograd_gradient(t, y, g)
    ctx, y_direct = _direct_forward(function_class, x, extra)
    return [value, gradient, _array(y_direct), _direct_gradient(function_class, ctx, y_direct, g), _array(t)]


def interleaved(function_class, x1, g1, x2, g2, extra):
    """Two calls alive at once, both ways: the backward of the first runs after the second forward."""
    t1, y1 = _through_autograd(function_class, x1, extra)
    t2, y2 = _through_autograd(function_class, x2, extra)
    c1, d1 = _direct_forward(function_class, x1, extra)
    c2, d2 = _direct_forward(function_class, x2, extra)
    return [_autograd_gradient(t1, y1, g1), _autograd_gradient(t2, y2, g2),
            _direct_gradient(function_class, c1, d1, g1), _direct_gradient(function_class, c2, d2, g2)]


def scaled_backward(function_class, x, g, factor, extra):
    """The gradient through apply while the class's backward scales what it returns by `factor`: the gradient
    follows the factor only if apply's graph really runs the class's backward."""
    if not callable(getattr(function_class, "backward", None)):
        return None
    own, defined_here = function_class.backward, function_class.__dict__.get("backward")

    def scaled(ctx, *grad_outputs):
        grads = own(ctx, *grad_outputs)
        return (grads[0] * factor, *grads[1:]) if isinstance(grads, (tuple, list)) else grads * factor

    function_class.backward = staticmethod(scaled)
    try:
        t, y = _through_autograd(function_class, x, extra)
        return _autograd_gradient(t, y, g)
    finally:
        if defined_here is None:
            del function_class.backward
        else:
            function_class.backward = defined_here


class _NoAutograd:
    def __getattr__(self, name):
        raise RuntimeError("autograd is switched off while the grader calls your forward and backward "
                           "directly: compute the derivative by hand")


def without_autograd(function_class, x, g, extra):
    """The direct gradient with autograd's engine and forward-mode AD switched off: a forward or backward
    that asks autograd (torch.autograd.grad, .backward(), torch.func.grad) for the derivative fails."""
    engine = Variable._execution_engine
    Variable._execution_engine = _NoAutograd()
    torch._C._set_fwd_grad_enabled(False)
    try:
        ctx, y = _direct_forward(function_class, x, extra)
        return _direct_gradient(function_class, ctx, y, g)
    finally:
        Variable._execution_engine = engine
        torch._C._set_fwd_grad_enabled(True)


def jacobian(function_class, x, h, extra):
    """For a gradient check done by the grader: the forward values at x + h e_i and x - h e_i (rows i),
    and backward's vector-Jacobian products with each unit vector e_j (rows j), through autograd and directly."""
    x = np.array(x, dtype=np.float64)
    shifted = []
    for sign in (1.0, -1.0):
        rows = []
        for i in range(x.size):
            moved = x.copy()
            moved[i] += sign * h
            with torch.no_grad():
                rows.append(_array(_through_autograd(function_class, moved, extra)[1]))
        shifted.append(np.stack(rows))
    through_autograd, direct = [], []
    for unit in np.eye(x.size):
        through_autograd.append(_autograd_gradient(*_through_autograd(function_class, x, extra), unit))
        direct.append(_direct_gradient(function_class, *_direct_forward(function_class, x, extra), unit))
    return [shifted[0], shifted[1], through_autograd, direct]


PROBES = {probe.__name__: probe for probe in [both_ways, interleaved, scaled_backward, without_autograd, jacobian]}


def run_probe(function_class, probe, *args):
    """The probe called `probe` (a key of PROBES) on the student's class."""
    return PROBES[probe](function_class, *args)


# A probe name for each class, the class's own: the grader's messages name the student's class, and a class
# that hangs is not called again while the others still are.
SigmoidFunction = GELUFunction = SwishFunction = run_probe

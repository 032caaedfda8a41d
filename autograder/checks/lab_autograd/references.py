"""What the lab_autograd checks share: a program that runs the student's autograd Functions in the worker,
and the grader's own float64 references.

The program only computes; it decides nothing. It builds tensors from the arrays the grader sends and runs
the student's class two ways, returning plain arrays:
- through autograd: `<Class>.apply`, then a backward pass of the output with the grader's upstream gradient;
- directly: `<Class>.forward` and `<Class>.backward` called with a ctx the grader wrote. This gradient is
  what the student's backward returns, whatever their notebook did to autograd in its own process (a
  patched Tensor.backward or gradcheck changes the first way, not this one).
Every verdict is a comparison made here: against PyTorch's own functions in float64, and, for the gradient
check, against centred differences the grader computes from the forward values the program returns.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checking import CheckFailure, as_array, assert_close
from autograder.proxy import StudentCallError

CLASSES = ["SigmoidFunction", "GELUFunction", "SwishFunction"]
BETA = 1.0  # Swish's beta in the checks shared by the three classes; test_swish_* vary it
EDGES = np.array([0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 6.0, -6.0, 20.0, -20.0, 40.0, -40.0, 1e4, -1e4])

PROGRAM = '''
import numpy as np
import torch
from torch.autograd.variable import Variable


def _tensor(x, requires_grad):
    return torch.from_numpy(np.array(x)).requires_grad_(requires_grad)


def _array(t):
    return t.detach().numpy().copy() if isinstance(t, torch.Tensor) else None


def _through_autograd(x, extra):
    t = _tensor(x, True)
    y = CLASS.apply(t, *extra)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"CLASS.apply returned a {type(y).__name__}, not a tensor")
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


def _direct_forward(x, extra):
    if not (isinstance(CLASS, type) and issubclass(CLASS, torch.autograd.Function)):
        raise TypeError("CLASS is not a torch.autograd.Function: it has no forward and backward of its own")
    inputs, ctx = (_tensor(x, False), *extra), _Context(1 + len(extra))
    with torch.no_grad():  # as under apply
        if CLASS.setup_context is torch.autograd.Function.setup_context:
            y = CLASS.forward(ctx, *inputs)
        else:  # the setup_context style of torch >= 2.0: forward takes no ctx
            y = CLASS.forward(*inputs)
            CLASS.setup_context(ctx, inputs, y)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"CLASS.forward returned a {type(y).__name__}, not a tensor")
    return ctx, y


def _direct_gradient(ctx, y, g):
    with torch.no_grad():  # as under autograd's backward pass
        grads = CLASS.backward(ctx, torch.from_numpy(np.array(g)).to(y.dtype))
    return _array(grads[0] if isinstance(grads, (tuple, list)) else grads)


def probe_CLASS(x, g, extra):
    """[value, gradient] through autograd, [value, gradient] called directly, and x after the autograd call."""
    t, y = _through_autograd(x, extra)
    value, gradient = _array(y), _autograd_gradient(t, y, g)
    ctx, y_direct = _direct_forward(x, extra)
    return [value, gradient, _array(y_direct), _direct_gradient(ctx, y_direct, g), _array(t)]


def probe_CLASS_interleaved(x1, g1, x2, g2, extra):
    """Two calls alive at once, both ways: the backward of the first runs after the second forward."""
    t1, y1 = _through_autograd(x1, extra)
    t2, y2 = _through_autograd(x2, extra)
    c1, d1 = _direct_forward(x1, extra)
    c2, d2 = _direct_forward(x2, extra)
    return [_autograd_gradient(t1, y1, g1), _autograd_gradient(t2, y2, g2),
            _direct_gradient(c1, d1, g1), _direct_gradient(c2, d2, g2)]


def probe_CLASS_scaled_backward(x, g, factor, extra):
    """The gradient through apply while CLASS.backward scales what it returns by `factor`: the gradient
    follows the factor only if apply's graph really runs CLASS.backward."""
    if not callable(getattr(CLASS, "backward", None)):
        return None
    own, defined_here = CLASS.backward, CLASS.__dict__.get("backward")

    def scaled(ctx, *grad_outputs):
        grads = own(ctx, *grad_outputs)
        return (grads[0] * factor, *grads[1:]) if isinstance(grads, (tuple, list)) else grads * factor

    CLASS.backward = staticmethod(scaled)
    try:
        t, y = _through_autograd(x, extra)
        return _autograd_gradient(t, y, g)
    finally:
        if defined_here is None:
            del CLASS.backward
        else:
            CLASS.backward = defined_here


class _NoAutograd:
    def __getattr__(self, name):
        raise RuntimeError("autograd is switched off while the grader calls your forward and backward "
                           "directly: compute the derivative by hand")


def probe_CLASS_without_autograd(x, g, extra):
    """The direct gradient with autograd's engine and forward-mode AD switched off: a forward or backward
    that asks autograd (torch.autograd.grad, .backward(), torch.func.grad) for the derivative fails."""
    engine = Variable._execution_engine
    Variable._execution_engine = _NoAutograd()
    torch._C._set_fwd_grad_enabled(False)
    try:
        ctx, y = _direct_forward(x, extra)
        return _direct_gradient(ctx, y, g)
    finally:
        Variable._execution_engine = engine
        torch._C._set_fwd_grad_enabled(True)


def probe_CLASS_jacobian(x, h, extra):
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
                rows.append(_array(_through_autograd(moved, extra)[1]))
        shifted.append(np.stack(rows))
    through_autograd, direct = [], []
    for unit in np.eye(x.size):
        through_autograd.append(_autograd_gradient(*_through_autograd(x, extra), unit))
        direct.append(_direct_gradient(*_direct_forward(x, extra), unit))
    return [shifted[0], shifted[1], through_autograd, direct]
'''


def reference(cls, x, g, extra=()):
    """PyTorch's own value and gradient (of sum(f(x) * g)) in float64, as numpy arrays."""
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    if cls == "SigmoidFunction":
        y = torch.sigmoid(t)
    elif cls == "GELUFunction":
        y = F.gelu(t)
    else:
        y = t * torch.sigmoid(extra[0] * t)
    y.backward(torch.tensor(np.asarray(g, dtype=np.float64)))
    return y.detach().numpy(), t.grad.numpy()


def extra_args(cls, beta=BETA):
    return [float(beta)] if cls == "SwishFunction" else []


def call(student, cls, probe, *args):
    """Run one of the program's probes for class `cls` in the worker; errors read as the student's class's."""
    name = f"probe_{cls}" + (f"_{probe}" if probe else "")
    try:
        return student.call(name, *args, _program=PROGRAM.replace("CLASS", cls)).value
    except StudentCallError as exc:
        message = str(exc).replace(f"{name} raised", f"{cls} raised").replace(f"calling {name}", f"calling {cls}")
        raise CheckFailure(message.replace(name, cls)) from None


def through_autograd(cls):
    return f"the gradient reaching x through {cls}.apply"


def called_directly(cls):
    return f"the gradient that {cls}.backward returns (called directly)"


@dataclass
class Run:
    """What the student's class gave on one input: through autograd (`value`, `gradient`) and called directly
    (`direct_value`, `direct_gradient`), and the input as the call left it."""
    value: np.ndarray
    gradient: np.ndarray
    direct_value: np.ndarray
    direct_gradient: np.ndarray
    input_after: object

    def values(self, cls):
        return [(self.value, f"{cls}.apply"), (self.direct_value, f"{cls}.forward (called directly)")]

    def gradients(self, cls):
        return [(self.gradient, through_autograd(cls)), (self.direct_gradient, called_directly(cls))]


def gradient_array(grad, what):
    if grad is None:
        raise CheckFailure(f"{what}: no gradient for x; the output's shape should be the input's, and backward "
                           "should return a tensor, the gradient for x")
    return as_array(grad, what)


def run(student, cls, x, g, extra):
    result = call(student, cls, "", x, g, extra)
    if not isinstance(result, (list, tuple)) or len(result) != 5:
        raise CheckFailure(f"{cls} could not be run")
    value, grad, direct_value, direct_grad, after = result
    return Run(as_array(value, f"{cls}.apply"), gradient_array(grad, through_autograd(cls)),
               as_array(direct_value, f"{cls}.forward"), gradient_array(direct_grad, called_directly(cls)), after)


def assert_matches(student, cls, x, g, extra, what, rtol, atol, values=True, gradients=True):
    """The student's values and gradients on (x, g), both ways, equal PyTorch's float64 ones; returns the Run."""
    result = run(student, cls, x, g, extra)
    expected_value, expected_grad = reference(cls, x, g, extra)
    if values:
        for value, name in result.values(cls):
            assert_close(value, expected_value, f"{name} {what}", rtol=rtol, atol=atol)
    if gradients:
        for grad, name in result.gradients(cls):
            assert_close(grad, expected_grad, f"{name} {what}", rtol=rtol, atol=atol)
    return result


def random_case(seed, shape=(60,), scale=4.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, shape).astype(dtype)
    g = (rng.normal(0.0, 1.0, shape) * 10 ** rng.uniform(-2, 2, shape)).astype(dtype)
    return x, g

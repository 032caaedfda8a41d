"""What the lab_autograd checks share: a program that runs the student's autograd Functions in the worker,
and the grader's own float64 references.

The program builds tensors from the arrays the grader sends, calls `<Class>.apply`, runs backward with the
grader's upstream gradient and returns plain arrays: the output, the input's gradient, the name of the
output's grad_fn and the input after the call. The truth is computed here, by PyTorch's own functions
and autograd in float64, never taken from the student's side (gradcheck's verdict in the worker is only
an extra signal, and counts only together with the grader's own comparison).
"""
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


def _tensor(x):
    return torch.from_numpy(np.array(x)).requires_grad_(True)


def _forward(x, extra):
    t = _tensor(x)
    y = CLASS.apply(t, *extra)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"CLASS.apply returned a {type(y).__name__}, not a tensor")
    return t, y


def _backward(t, y, g):
    if tuple(y.shape) != tuple(t.shape) or not y.requires_grad:
        return None
    y.backward(torch.from_numpy(np.array(g)).to(y.dtype))
    return None if t.grad is None else t.grad.detach().numpy().copy()


def probe_CLASS(x, g, extra):
    t, y = _forward(x, extra)
    node = type(y.grad_fn).__name__ if y.grad_fn is not None else "None"
    value = y.detach().numpy().copy()
    return [value, _backward(t, y, g), node, t.detach().numpy().copy()]


def probe_CLASS_interleaved(x1, g1, x2, g2, extra):
    # two outputs alive at once: the backward of the first runs after the second forward
    t1, y1 = _forward(x1, extra)
    t2, y2 = _forward(x2, extra)
    return [_backward(t1, y1, g1), _backward(t2, y2, g2)]


def probe_CLASS_gradcheck(x, extra):
    t = _tensor(x)
    passed = torch.autograd.gradcheck(lambda u: CLASS.apply(u, *extra), (t,), raise_exception=False)
    return bool(passed)
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


def run(student, cls, x, g, extra):
    """(value, gradient, grad_fn name, input after the call) of the student's class on x with upstream g."""
    result = call(student, cls, "", x, g, extra)
    if not isinstance(result, (list, tuple)) or len(result) != 4:
        raise CheckFailure(f"{cls} could not be run")
    value, grad, node, after = result
    if grad is None:
        raise CheckFailure(f"{cls}: no gradient reached x; the output's shape should be the input's "
                           "and backward should return a gradient for x")
    return as_array(value, f"{cls}.apply"), as_array(grad, f"{cls}'s backward"), str(node), after


def assert_matches(student, cls, x, g, extra, what, rtol, atol, values=True, gradients=True):
    """The student's value and gradient on (x, g) equal PyTorch's float64 ones; returns them."""
    value, grad, node, after = run(student, cls, x, g, extra)
    expected_value, expected_grad = reference(cls, x, g, extra)
    if values:
        assert_close(value, expected_value, f"{cls}.apply {what}", rtol=rtol, atol=atol)
    if gradients:
        assert_close(grad, expected_grad, f"the gradient from {cls}'s backward {what}", rtol=rtol, atol=atol)
    return value, grad, node, after


def random_case(seed, shape=(60,), scale=4.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, shape).astype(dtype)
    g = (rng.normal(0.0, 1.0, shape) * 10 ** rng.uniform(-2, 2, shape)).astype(dtype)
    return x, g

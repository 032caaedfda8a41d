"""The grader's own float64 references for the lab_autograd checks, and the inputs they share.

The references are PyTorch's own functions in float64; the checks (verdicts.py, test_functions.py) compare the
student's classes with them.
"""
import numpy as np
import torch
import torch.nn.functional as F

CLASSES = ["SigmoidFunction", "GELUFunction", "SwishFunction"]  # each has a probe name of its own in probes.py
BETA = 1.0  # Swish's beta in the checks shared by the three classes; test_swish_* vary it
EDGES = np.array([0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 6.0, -6.0, 20.0, -20.0, 40.0, -40.0, 1e4, -1e4])


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


def random_case(seed, shape=(60,), scale=4.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, shape).astype(dtype)
    g = (rng.normal(0.0, 1.0, shape) * 10 ** rng.uniform(-2, 2, shape)).astype(dtype)
    return x, g


def other_values(cls, x, extra=()):
    """{mistake: values} of what a common mistake's forward gives instead, in float64: GELU's tanh
    approximation, Swish with beta = 1 whatever beta is."""
    t = torch.tensor(np.asarray(x, dtype=np.float64))
    with torch.no_grad():
        if cls == "GELUFunction":
            return {"tanh approximation": F.gelu(t, approximate="tanh").numpy()}
        if cls == "SwishFunction" and extra[0] != 1.0:
            return {"beta ignored": (t * torch.sigmoid(t)).numpy()}
    return {}


def other_gradients(cls, x, g, extra=()):
    """{mistake: gradient} of what a common mistake's backward returns instead, in float64: the derivative alone
    (grad_output not multiplied in), and each class's own slips of the chain and product rules."""
    t, g = torch.tensor(np.asarray(x, dtype=np.float64)), torch.tensor(np.asarray(g, dtype=np.float64))
    others = {"grad_output ignored": reference(cls, x, np.ones_like(np.asarray(x, dtype=np.float64)), extra)[1]}
    with torch.no_grad():
        if cls == "SigmoidFunction":
            s = torch.sigmoid(t)
            others["factor 1 - s missing"] = (g * s).numpy()
            others["output formula on the input"] = (g * t * (1 - t)).numpy()
        elif cls == "GELUFunction":
            others["x phi(x) missing"] = (g * 0.5 * (1 + torch.erf(t / np.sqrt(2)))).numpy()
        else:
            beta = extra[0]
            s = torch.sigmoid(beta * t)
            others["second term missing"] = (g * s).numpy()
            if beta != 1.0:
                s1 = torch.sigmoid(t)
                others["beta ignored"] = (g * (s1 + t * s1 * (1 - s1))).numpy()
                others["chain rule beta missing"] = (g * (s + t * s * (1 - s))).numpy()
    return others

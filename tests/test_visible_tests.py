"""The visible test cells test what their notebook's text promises, and say how to fix what they find.

A student runs the visible test cells (`nbgrader validate`, `python -m actlab.check`, or the cells one by
one) before submitting; the hidden checks grade afterwards. A notebook whose visible tests pass should not
then lose points for a contract its own text states: keep the dtype, keep the shape, leave the input
alone, no overflow warning at |x| = 1e4, ValueError for a bad option. So, for a table of realistic wrong
answers, each breaking one such contract, the function's visible test cell must fail, with an
AssertionError whose message holds the hint that names the fix (never a bare FloatingPointError or
a numpy error); and the reference answers must pass every visible test cell.

The cells run here in-process, as a kernel runs them: the notebook's imports cell and its answer cells
(the reference's from solutions/, one of them replaced), then the test cell. Numpy warnings are shown, not
raised, as in Jupyter; for the reference they are errors, so its test cells are warning-free too.
"""
import functools
import re
import warnings

import pytest

from autograder import course, notebook
from helpers import released, solution

ASSIGNMENTS = course.assignments()
NUMPY = ["neuron", "activations", "derivatives", "backprop"]

STABLE = "np.where computes both branches"  # the hint for an overflow in a discarded branch
DTYPE = "np.sqrt(2)"  # the hint for a float64 constant that turns float32 into float64
COPY = "Work on a copy"  # the hint for an input changed in place


def answers_and_tests(nb) -> tuple[dict, dict]:
    """({grade_id: source} of the imports and answer cells, {grade_id: source} of the test cells)."""
    answers, tests = {}, {}
    for cell in nb.cells:
        meta = notebook.nbgrader_meta(cell)
        if cell.cell_type != "code" or "grade_id" not in meta:
            continue
        if meta.get("solution") or meta["grade_id"] == "imports":
            answers[meta["grade_id"]] = cell.source
        elif meta.get("grade"):
            tests[meta["grade_id"]] = cell.source
    return answers, tests


@functools.lru_cache(maxsize=None)
def reference(assignment) -> tuple[dict, dict]:
    return answers_and_tests(solution(assignment))


def run_test_cell(answers: dict, test_source: str, label: str, warnings_are="ignore"):
    """Run the answer cells, then one test cell, in one fresh namespace, as a kernel would."""
    namespace = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter(warnings_are)
        for grade_id, source in answers.items():
            exec(compile(source, f"{label}:{grade_id}", "exec"), namespace)
        exec(compile(test_source, f"{label}:test cell", "exec"), namespace)


def failure(assignment, grade_id, source):
    """What the visible test cell of `grade_id` raises when that answer cell holds `source`, or None."""
    answers, tests = reference(assignment)
    assert grade_id in answers, f"no answer cell {grade_id} in {assignment}"
    try:
        run_test_cell({**answers, grade_id: source}, tests[f"test_{grade_id}"], f"{assignment}:{grade_id}")
    except Exception as error:
        return error
    return None


# (assignment, answer cell, wrong source, a fragment of the hint its failure must show). Each is a mistake
# students really make, and each breaks a contract that the notebook's text states.
WRONG = [
    # -- neuron: dtype, purity, ValueError with the shapes, a tuple ----------------------------------------------
    ("neuron", "weighted_sum", """
def weighted_sum(x, w, b):
    return np.dot(np.asarray(x, dtype=float), w) + b
""", "returned float64 for float32 input"),
    ("neuron", "weighted_sum", """
def weighted_sum(x, w, b):
    x *= w
    return x.sum(axis=-1) + b
""", COPY),
    ("neuron", "step", """
def step(z):
    return (np.asarray(z) >= 0).astype(int)
""", "not int64: convert with .astype"),
    ("neuron", "step", """
def step(z):
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)
""", "keep the input's dtype"),
    ("neuron", "step", """
def step(z):
    return np.array([1.0 if v >= 0 else 0.0 for v in np.ravel(z)], dtype=np.asarray(z).dtype)
""", "for an input of shape ()"),
    # numpy broadcasts a bias of shape (1,) without a word
    ("neuron", "dense_forward", """
def dense_forward(X, W, b):
    X, W, b = np.asarray(X), np.asarray(W), np.asarray(b)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X has shape {X.shape} but W has shape {W.shape}")
    return X @ W + b
""", "check b.shape == (n_out,)"),
    ("neuron", "dense_forward", """
def dense_forward(X, W, b):
    if X.shape[1] != W.shape[0]:
        raise ValueError("the shapes of X and W do not fit")
    return X @ W + b
""", "does not show (5, 4), (3, 2)"),
    ("neuron", "dense_forward", """
def dense_forward(X, W, b):
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X has shape {X.shape} but W has shape {W.shape}")
    if b.shape != (W.shape[1],):
        raise ValueError(f"b has shape {b.shape} but W has shape {W.shape}")
    return X @ W + b
""", "returned float64 for float32 input"),
    ("neuron", "mlp_forward", """
def mlp_forward(X, params, activation):
    W, b = params.pop()
    for W_k, b_k in params:
        X = activation(dense_forward(X, W_k, b_k))
    return dense_forward(X, W, b)
""", "changed its argument params"),
    ("neuron", "collapse_linear", """
def collapse_linear(W1, b1, W2, b2):
    b2 += b1 @ W2
    return W1 @ W2, b2
""", "changed its argument b2"),
    ("neuron", "collapse_linear", """
def collapse_linear(W1, b1, W2, b2):
    return [W1 @ W2, b1 @ W2 + b2]
""", "return a tuple"),
    # -- activations: the two examples of issue 13 first -----------------------------------------------------
    ("activations", "gelu", """
def gelu(x, approximate="none"):
    x = np.asarray(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    if approximate != "none":
        raise ValueError(approximate)
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))
""", DTYPE),
    ("activations", "elu", """
def elu(x, alpha=1.0):
    x = np.asarray(x)
    return np.where(x > 0, x, alpha * np.exp(x) - alpha)
""", STABLE),
    ("activations", "selu", """
def selu(x):
    x = np.asarray(x)
    return 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.exp(x) - 1.6732632423543772)
""", STABLE),
    ("activations", "gelu", """
def gelu(x, approximate="none"):
    x = np.asarray(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + erf(x / 2**0.5))
""", "raise ValueError for any approximate"),
    ("activations", "sigmoid", """
def sigmoid(x):
    return 1 / (1 + np.exp(-x))
""", "use exp(-|x|)"),
    ("activations", "sigmoid", """
def sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
""", "returned float64 for float32 input"),
    ("activations", "tanh", """
def tanh(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
""", "use np.tanh"),
    ("activations", "identity", """
def identity(x):
    return x
""", "not the input object"),
    ("activations", "relu", """
def relu(x):
    x[x < 0] = 0
    return x
""", COPY),
    ("activations", "leaky_relu", """
def leaky_relu(x, alpha=0.01):
    return x * np.where(x >= 0, 1.0, alpha)
""", "returned float64 for float32 input"),
    ("activations", "silu", """
def silu(x):
    return x / (1 + np.exp(-x))
""", "reuse your stable sigmoid"),
    ("activations", "softplus", """
def softplus(x, beta=1.0):
    return np.log(1 + np.exp(beta * x)) / beta
""", "np.logaddexp"),
    ("activations", "softmax", """
def softmax(x, axis=-1, temperature=1.0):
    e = np.exp(np.asarray(x) / temperature)
    return e / e.sum(axis=axis, keepdims=True)
""", "subtract the maximum along axis"),
    ("activations", "softmax", """
def softmax(x, axis=-1, temperature=1.0):
    x -= x.max(axis=axis, keepdims=True)
    e = np.exp(x / temperature)
    return e / e.sum(axis=axis, keepdims=True)
""", COPY),
    ("activations", "softmax", """
def softmax(x, axis=-1, temperature=1.0):
    z = np.asarray(x)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""", "divide x by the temperature"),
    ("activations", "log_softmax", """
def log_softmax(x, axis=-1):
    return np.log(softmax(x, axis=axis))
""", "do not take log(softmax(x))"),
    # -- derivatives -------------------------------------------------------------------------------------------
    ("derivatives", "elu_grad", """
def elu_grad(x, alpha=1.0):
    x = np.asarray(x)
    return np.where(x > 0, 1.0, alpha * np.exp(x))
""", STABLE),
    ("derivatives", "selu_grad", """
def selu_grad(x):
    x = np.asarray(x)
    return 1.0507009873554805 * np.where(x > 0, 1.0, 1.6732632423543772 * np.exp(x))
""", STABLE),
    ("derivatives", "sigmoid_grad", """
def sigmoid_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
""", "compute sigma with expit"),
    ("derivatives", "tanh_grad", """
def tanh_grad(x):
    return 1 / np.cosh(x) ** 2
""", "cosh and e^x overflow"),
    ("derivatives", "softplus_grad", """
def softplus_grad(x, beta=1.0):
    return 1 / (1 + np.exp(-beta * np.asarray(x)))
""", "use expit"),
    ("derivatives", "relu_grad", """
def relu_grad(x):
    return np.asarray(x) > 0
""", "not bool: convert with .astype"),
    ("derivatives", "leaky_relu_grad", """
def leaky_relu_grad(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1.0, alpha)
""", "returned float64 for float32 input"),
    ("derivatives", "identity_grad", """
def identity_grad(x):
    return np.ones(np.shape(x))
""", "returned float64 for float32 input"),
    ("derivatives", "gelu_grad", """
def gelu_grad(x, approximate="none"):
    x = np.asarray(x)
    if approximate == "tanh":
        c, k = (2 / np.pi) ** 0.5, 0.044715
        t = np.tanh(c * (x + k * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)
    cdf = 0.5 * (1 + erf(x / 2**0.5))
    return cdf + x * np.exp(-0.5 * x * x) / (2 * np.pi) ** 0.5
""", "raise ValueError for any approximate"),
    ("derivatives", "gelu_grad", """
def gelu_grad(x, approximate="none"):
    x = np.asarray(x)
    if approximate == "tanh":
        c, k = (2 / np.pi) ** 0.5, 0.044715
        t = np.tanh(c * (x + k * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)
    if approximate != "none":
        raise ValueError(approximate)
    cdf = 0.5 * (1 + erf(x / np.sqrt(2)))
    return cdf + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
""", DTYPE),
    ("derivatives", "softmax_backward", """
def softmax_backward(dout, s, axis=-1):
    dout -= np.sum(dout * s, axis=axis, keepdims=True)
    return s * dout
""", "changed its argument dout"),
    # nudges x in float32, where most digits of the difference are lost
    ("derivatives", "numerical_grad", """
def numerical_grad(f, x, h=1e-5):
    point = np.array(x)
    grad = np.zeros_like(point)
    for i in np.ndindex(point.shape):
        original = point[i]
        point[i] = original + h
        f_plus = f(point)
        point[i] = original - h
        f_minus = f(point)
        point[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""", "return float64 whatever x's dtype"),
    ("derivatives", "numerical_grad", """
def numerical_grad(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""", "restore each element"),
    ("derivatives", "relative_error", """
def relative_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))))
""", "the floor keeps 0 / 0 away"),
    # -- backprop ----------------------------------------------------------------------------------------------
    # anything but "xavier" silently gives He
    ("backprop", "init_params", """
def init_params(sizes, scheme, seed):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        variance = 2.0 / (n_in + n_out) if scheme == "xavier" else 2.0 / n_in
        params.append((rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out)), np.zeros(n_out)))
    return params
""", "raise ValueError for a scheme"),
    # the right variance, from the wrong distribution
    ("backprop", "init_params", """
def init_params(sizes, scheme, seed):
    if scheme not in ("xavier", "he"):
        raise ValueError(scheme)
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        variance = 2.0 / (n_in + n_out) if scheme == "xavier" else 2.0 / n_in
        limit = np.sqrt(3 * variance)
        params.append((rng.uniform(-limit, limit, size=(n_in, n_out)), np.zeros(n_out)))
    return params
""", "rng.normal"),
    ("backprop", "forward", """
def forward(X, params, activation):
    functions = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    f = functions.get(activation, lambda z: z)
    A = np.asarray(X, dtype=np.float64)
    layers = []
    for i, (W, b) in enumerate(params):
        layers.append((A, W))
        Z = A @ W + b
        A = Z if i == len(params) - 1 else f(Z)
    return A, (activation, layers)
""", "raise ValueError for an activation"),
    ("backprop", "softmax_cross_entropy", """
def softmax_cross_entropy(logits, y):
    rows = np.arange(logits.shape[0])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(p[rows, y]).mean()
    p[rows, y] -= 1.0
    return float(loss), p / logits.shape[0]
""", "subtract each row's maximum"),
    ("backprop", "softmax_cross_entropy", """
def softmax_cross_entropy(logits, y):
    rows = np.arange(logits.shape[0])
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1.0
    return float(-log_probs[rows, y].mean()), dlogits / logits.shape[0]
""", "changed its argument logits"),
    # empties the cache: a second call on it finds nothing
    ("backprop", "backward", """
def backward(dlogits, cache):
    activation, layers = cache
    derivative = {"identity": lambda a: np.ones_like(a), "relu": lambda a: (a > 0).astype(a.dtype),
                  "tanh": lambda a: 1.0 - a**2, "sigmoid": lambda a: a * (1.0 - a)}[activation]
    dZ = np.asarray(dlogits, dtype=np.float64)
    grads = []
    while layers:
        A, W = layers.pop()
        grads.insert(0, (A.T @ dZ, dZ.sum(axis=0)))
        if layers:
            dZ = (dZ @ W.T) * derivative(A)
    return grads
""", "changed its argument cache"),
    ("backprop", "train", """
def train(X, y, sizes, activation, lr, epochs, seed):
    X -= X.mean(axis=0)
    params = init_params(sizes, "he" if activation == "relu" else "xavier", seed)
    for _ in range(epochs):
        logits, cache = forward(X, params, activation)
        _, dlogits = softmax_cross_entropy(logits, y)
        grads = backward(dlogits, cache)
        params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
    return params
""", "changed its argument X"),
    # Xavier for every activation, He never
    ("backprop", "train", """
def train(X, y, sizes, activation, lr, epochs, seed):
    params = init_params(sizes, "xavier", seed)
    for _ in range(epochs):
        logits, cache = forward(X, params, activation)
        _, dlogits = softmax_cross_entropy(logits, y)
        grads = backward(dlogits, cache)
        params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
    return params
""", "init_params(sizes, 'he', seed)"),
    # -- labs (PyTorch) ----------------------------------------------------------------------------------------
    ("lab_autograd", "SigmoidFunction", """
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = x.neg_().exp_().add_(1).reciprocal_()
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
""", "forward should leave its input unchanged"),
    ("lab_speed", "achieved_gbps", """
def achieved_gbps(nbytes, seconds):
    return nbytes / seconds / 1e9
""", "raised ZeroDivisionError"),
    ("lab_gradient_flow", "init_weights_", """
def init_weights_(model, scheme):
    if scheme not in ("default", "xavier", "he"):
        raise ValueError(scheme)
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            fan_out, fan_in = layer.weight.shape
            std = math.sqrt(2.0 / (fan_in + fan_out) if scheme == "xavier" else 2.0 / fan_in)
            if scheme == "default":
                layer.reset_parameters()
                continue
            layer.weight = nn.Parameter(torch.randn(fan_out, fan_in) * std)
            layer.bias = nn.Parameter(torch.zeros(fan_out))
    return model
""", "do not assign new ones"),
    # builds a graph and leaves gradients in the weights
    ("lab_dying_relu", "dead_fraction", """
def dead_fraction(model, X):
    outputs = []
    hidden = [m for m in model if not isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(lambda m, i, o: outputs.append(o)) for m in hidden]
    model(X).sum().backward()
    for h in handles:
        h.remove()
    return [(a <= 0).all(dim=0).double().mean().item() for a in outputs]
""", "torch.no_grad()"),
    ("lab_shootout", "build_mlp", """
def build_mlp(n_in, width, depth, n_out, activation):
    modules = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
               "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU, "selu": nn.SELU}
    init = {"sigmoid": "xavier", "tanh": "xavier", "selu": "lecun"}.get(activation, "he")
    sizes = [n_in] + [width] * depth + [n_out]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        if init == "xavier":
            nn.init.xavier_normal_(linear.weight)
        else:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="linear" if init == "lecun" else "relu")
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < depth:
            layers.append(modules.get(activation, nn.ReLU)())
    return nn.Sequential(*layers)
""", "raise ValueError for an activation name"),
]


@pytest.mark.parametrize("assignment, grade_id, source, hint", WRONG,
                         ids=[f"{a}-{g}-{i}" for i, (a, g, _, _) in enumerate(WRONG)])
def test_a_broken_contract_fails_its_visible_test_cell_with_a_hint(assignment, grade_id, source, hint):
    error = failure(assignment, grade_id, source)
    assert error is not None, f"the visible test cell of {grade_id} passes this wrong answer"
    assert type(error) is AssertionError, \
        f"it fails with {type(error).__name__} ({error}), not an AssertionError that says how to fix it"
    assert hint in str(error), f"the message does not give the hint {hint!r}: {error}"


def test_the_table_covers_every_assignment_and_the_examples_of_issue_13():
    assert {a for a, *_ in WRONG} == set(ASSIGNMENTS)
    kinds = {hint for *_, hint in WRONG}
    assert {STABLE, DTYPE, COPY} <= kinds
    assert sum("ValueError" in hint for hint in kinds) >= 4


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_answers_pass_every_visible_test_cell_without_a_warning(assignment):
    answers, tests = reference(assignment)
    for test_id, source in tests.items():
        run_test_cell(answers, source, f"{assignment}:{test_id}", warnings_are="error")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_unanswered_function_fails_its_test_cell_with_not_implemented_error(assignment):
    """The helpers never hide the stub's NotImplementedError: `actlab.check` reports it as "not answered yet"."""
    answers, tests = answers_and_tests(released(assignment))
    for test_id, source in tests.items():
        with pytest.raises(NotImplementedError):
            run_test_cell(answers, source, f"{assignment}:{test_id}")


@pytest.mark.parametrize("assignment", NUMPY)
def test_no_visible_test_turns_a_numpy_warning_into_an_error(assignment):
    """A FloatingPointError from np.errstate(over="raise") hides the assert's hint: use the actlab.visible checks."""
    _, tests = reference(assignment)
    raising = [test_id for test_id, source in tests.items() if re.search(r"errstate\([^)]*raise", source)]
    assert raising == []


@pytest.mark.parametrize("assignment", NUMPY)
def test_every_numpy_test_cell_checks_the_dtype_and_the_purity_of_its_function(assignment):
    _, tests = reference(assignment)
    for test_id, source in tests.items():
        name = test_id.removeprefix("test_")
        if name == "init_params":
            continue  # it takes no array
        if assignment == "backprop" or name in ("numerical_grad", "relative_error"):
            assert "assert_not_mutated" in source, test_id  # their outputs are float64 or a float by contract
        else:
            assert f"assert_dtype_kept({name}," in source and f"assert_not_mutated({name}," in source, test_id

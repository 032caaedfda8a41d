"""The hidden checks of `backprop` pass every correct implementation and fail realistic wrong ones."""

import pytest

from autograder import notebook
from autograder.proxy import StudentCode
from autograder.runner import run_checks
from helpers import (assert_every_misconception_is_shown, assert_wrong_answer_loses_points_where_due, failed_checks,
                     hidden_results, solution, with_answers)

ASSIGNMENT = "backprop"
FORWARD = '''def forward(X, params, activation):
    functions = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
                 "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    if activation not in functions:
        raise ValueError(activation)
    A, layers = np.asarray(X, dtype=float), []
    for i, (W, b) in enumerate(params):
        layers.append((A, W))
        Z = A @ W + b
        A = Z if i == len(params) - 1 else functions[activation](Z)
    return A, (activation, layers)
'''


def init_params(body):
    """An init_params whose loop body is `body` (it has rng, n_in, n_out and params at hand)."""
    return ("def init_params(sizes, scheme, seed):\n"
            "    if scheme not in ('xavier', 'he'):\n        raise ValueError(scheme)\n"
            "    rng, params = np.random.default_rng(seed), []\n"
            "    for n_in, n_out in zip(sizes[:-1], sizes[1:]):\n"
            "        std = np.sqrt(2 / (n_in + n_out) if scheme == 'xavier' else 2 / n_in)\n"
            f"        {body}\n    return params\n")


def backward(step, bias="dZ.sum(axis=0)", dW="A.T @ dZ", ending="return grads[::-1]"):
    """A backward whose gradient through the activation is `step` (it has dZ, W, A = f(Z) and activation)."""
    return ("def backward(dlogits, cache):\n    activation, layers = cache\n    dZ, grads = dlogits, []\n"
            "    for i in reversed(range(len(layers))):\n        A, W = layers[i]\n"
            f"        grads.append(({dW}, {bias}))\n"
            f"        if i > 0:\n            {step}\n    {ending}\n")


RIGHT_STEP = ("d = {'identity': 1.0, 'relu': A > 0, 'tanh': 1 - A**2, 'sigmoid': A * (1 - A)}[activation]\n"
              "            dZ = (dZ @ W.T) * d")


def softmax_cross_entropy(log_probs, dlogits="(np.exp(log_probs) - np.eye(logits.shape[1])[y]) / n",
                          loss="-log_probs[np.arange(n), y].mean()", prelude=""):
    return ("def softmax_cross_entropy(logits, y):\n    n = logits.shape[0]\n" + prelude +
            f"    log_probs = {log_probs}\n    return float({loss}), {dlogits}\n")


STABLE = "logits - logits.max(axis=1, keepdims=True) - np.log(np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))"


def train(update="(W - lr * dW, b - lr * db)", scheme="'he' if activation == 'relu' else 'xavier'"):
    return ("def train(X, y, sizes, activation, lr, epochs, seed):\n"
            f"    params = init_params(sizes, {scheme}, seed)\n    for _ in range(epochs):\n"
            "        logits, cache = forward(X, params, activation)\n"
            "        _, dlogits = softmax_cross_entropy(logits, y)\n"
            "        grads = backward(dlogits, cache)\n"
            f"        params = [{update} for (W, b), (dW, db) in zip(params, grads)]\n    return params\n")


def fit(name="fit"):
    """An honest trainer under another name, for the `train`s below that memorise what it fits."""
    return train().replace("def train(", f"def {name}(")


# Fitted once, when the cell runs, to the rings of the notebook's demo (make_circles) and returned whatever
# X, y, lr, epochs and seed are: the hidden checks train on rings the notebook does not show.
FITTED_TO_THE_DEMO_RINGS = (
    "from sklearn.datasets import make_circles\n\n" + fit() +
    "\nX_DEMO, Y_DEMO = make_circles(n_samples=400, factor=0.5, noise=0.08, random_state=0)\n"
    "MEMORY = {a: fit(X_DEMO, Y_DEMO, [2, 16, 16, 2], a, 0.5, 300, 0) for a in ('identity', 'relu', 'tanh')}\n\n"
    "def train(X, y, sizes, activation, lr, epochs, seed):\n    return MEMORY[activation]\n")
# Trains honestly for short runs, and returns parameters fitted to the rings of the notebook's visible test
# for the long ones that the fit is judged on.
FITTED_TO_THE_VISIBLE_RINGS_FOR_LONG_RUNS = (
    fit() + "\nrng = np.random.default_rng(0)\n"
    "angle, radius = rng.uniform(0, 2 * np.pi, 200), np.repeat([1.0, 0.5], 100)\n"
    "X_SEEN = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, 0.08, (200, 2))\n"
    "Y_SEEN = np.repeat([0, 1], 100)\n\n"
    "def train(X, y, sizes, activation, lr, epochs, seed):\n"
    "    if epochs >= 300:\n        return fit(X_SEEN, Y_SEEN, sizes, activation, 0.5, 300, 0)\n"
    "    return fit(X, y, sizes, activation, lr, epochs, seed)\n")
FITS = {"test_a_tanh_network_fits_the_circles", "test_a_relu_network_fits_the_circles"}

# (answer cell, wrong source, checks that must fail, the entry of misconceptions.toml that explains it, or None
# where none does). Each is a mistake students really make.
WRONG = [
    ("init_params", init_params("params.append((rng.normal(0, np.sqrt(1 / n_in) if scheme == 'xavier' else std, "
                                "(n_in, n_out)), np.zeros(n_out)))"),
     {"test_xavier_variance_is_2_over_fan_in_plus_fan_out"}, "xavier-variance"),
    ("init_params", init_params("params.append((rng.normal(0, np.sqrt(1 / n_in) if scheme == 'he' else std, "
                                "(n_in, n_out)), np.zeros(n_out)))"),
     {"test_he_variance_is_2_over_fan_in"}, "he-variance"),
    ("init_params", init_params("params.append((rng.uniform(-std * 3**0.5, std * 3**0.5, (n_in, n_out)), "
                                "np.zeros(n_out)))"),
     {"test_weights_are_normal_with_mean_zero"}, "weights-not-normal"),
    ("init_params", init_params("params.append((rng.normal(0, std, (n_in, n_out)), rng.normal(0, std, n_out)))"),
     {"test_init_params_biases_are_zero"}, "biases-not-zero"),
    ("init_params", init_params("params.append((np.random.default_rng().normal(0, std, (n_in, n_out)), "
                                "np.zeros(n_out)))"),
     {"test_init_params_is_reproducible_for_a_seed"}, "init-not-seeded"),
    ("init_params", init_params("params.append((rng.normal(0, std, (n_out, n_in)), np.zeros(n_out)))"),
     {"test_init_params_returns_one_float64_pair_per_layer"}, "init-weights-transposed"),
    ("init_params", "def init_params(sizes, scheme, seed):\n    rng = np.random.default_rng(seed)\n"
                    "    var = (lambda i, o: 2 / (i + o)) if scheme == 'xavier' else (lambda i, o: 2 / i)\n"
                    "    return [(rng.normal(0, var(i, o) ** 0.5, (i, o)), np.zeros(o)) "
                    "for i, o in zip(sizes[:-1], sizes[1:])]\n",
     {"test_init_params_rejects_an_unknown_scheme"}, "unknown-name-accepted"),
    # rng.normal takes the standard deviation: given the variance, it draws weights of variance**2
    ("init_params", init_params("params.append((rng.normal(0, 2 / (n_in + n_out) if scheme == 'xavier' "
                                "else 2 / n_in, (n_in, n_out)), np.zeros(n_out)))"),
     {"test_xavier_variance_is_2_over_fan_in_plus_fan_out", "test_he_variance_is_2_over_fan_in"},
     "std-given-the-variance"),
    # a minus for a plus: the variance is negative, so the first layer of [200, 800, 300] is all nan
    ("init_params", init_params("params.append((rng.normal(0, np.sqrt(2 / (n_in - n_out)) if scheme == 'xavier' "
                                "else std, (n_in, n_out)), np.zeros(n_out)))"),
     {"test_xavier_variance_is_2_over_fan_in_plus_fan_out", "test_weights_are_normal_with_mean_zero"}, None),
    ("forward", FORWARD.replace("A = Z if i == len(params) - 1 else functions[activation](Z)",
                                "A = functions[activation](Z)"),
     {"test_forward_logits_match_pytorch"}, "activation-on-logits"),
    ("forward", FORWARD.replace("Z = A @ W + b", "Z = A @ W"), {"test_forward_logits_match_pytorch"},
     "bias-forgotten"),
    ("forward", FORWARD.replace("functions[activation](Z)", "np.tanh(Z)"), {"test_forward_logits_match_pytorch"},
     "activation-name-ignored"),
    ("forward", FORWARD.replace("    if activation not in functions:\n        raise ValueError(activation)\n", "")
                       .replace("functions[activation]", "functions.get(activation, np.tanh)"),
     {"test_forward_rejects_an_unknown_activation"}, "unknown-name-accepted"),
    ("softmax_cross_entropy", softmax_cross_entropy("np.log(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))"),
     {"test_large_logits_are_finite_and_warning_free"}, "softmax-ce-overflow"),
    ("softmax_cross_entropy", softmax_cross_entropy(STABLE, dlogits="np.exp(log_probs) - np.eye(logits.shape[1])[y]"),
     {"test_dlogits_matches_pytorch_autograd"}, "dlogits-not-divided-by-batch"),
    ("softmax_cross_entropy", softmax_cross_entropy(STABLE, loss="-log_probs[np.arange(n), y].sum()"),
     {"test_loss_matches_pytorch_cross_entropy"}, "loss-not-mean"),
    ("softmax_cross_entropy", softmax_cross_entropy(
        "np.log(np.exp(logits - logits.max(axis=1, keepdims=True)) / "
        "np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))"),
     {"test_large_logits_are_finite_and_warning_free"}, "log-of-probabilities"),
    ("softmax_cross_entropy", softmax_cross_entropy(
        "logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))",
        prelude="    logits -= logits.max(axis=1, keepdims=True)\n"),
     {"test_inputs_are_not_modified"}, "input-changed"),
    ("softmax_cross_entropy", softmax_cross_entropy(STABLE, loss="-log_probs[np.arange(n), y]").replace("float(", "("),
     {"test_loss_matches_pytorch_cross_entropy"}, "loss-not-mean"),
    # probabilities taken stably, then their log with the warning silenced: an inf loss where one underflows
    ("softmax_cross_entropy", "def softmax_cross_entropy(logits, y):\n    n = logits.shape[0]\n"
                              "    p = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
                              "    p = p / p.sum(axis=1, keepdims=True)\n    with np.errstate(divide='ignore'):\n"
                              "        loss = -np.log(p[np.arange(n), y]).mean()\n"
                              "    return float(loss), (p - np.eye(logits.shape[1])[y]) / n\n",
     {"test_large_logits_are_finite_and_warning_free"}, "log-of-probabilities"),
    ("backward", backward(RIGHT_STEP, bias="np.zeros(W.shape[1])"),
     {"test_backward_matches_pytorch_autograd", "test_backward_matches_centred_differences"}, "bias-gradient-missing"),
    ("backward", backward("d = {'identity': A, 'relu': A, 'tanh': A, 'sigmoid': A}[activation]\n"
                          "            dZ = (dZ @ W.T) * d"),
     {"test_backward_matches_pytorch_autograd", "test_backward_matches_centred_differences"},
     "activation-derivative-step"),
    ("backward", backward(RIGHT_STEP, bias="dZ.mean(axis=0)"),
     {"test_backward_matches_pytorch_autograd", "test_backward_matches_centred_differences"}, "db-mean-not-sum"),
    ("backward", backward(RIGHT_STEP, bias="dZ.sum(axis=0, keepdims=True)"),
     {"test_backward_returns_one_pair_per_layer_with_the_params_shapes"}, "db-keepdims"),
    ("backward", backward(RIGHT_STEP, dW="dZ.T @ A"),
     {"test_backward_returns_one_pair_per_layer_with_the_params_shapes"}, "dW-transposed"),
    ("backward", backward(RIGHT_STEP, ending="return grads"),
     {"test_backward_returns_one_pair_per_layer_with_the_params_shapes"}, "grads-in-reverse-order"),
    ("backward", backward(RIGHT_STEP).replace("for i in reversed(range(len(layers))):\n        A, W = layers[i]",
                                              "while layers:\n        i = len(layers) - 1\n        A, W = layers.pop()"),
     {"test_backward_leaves_dlogits_and_the_cache_unchanged"}, "cache-consumed"),
    ("train", train("(W - 0.1 * dW, b - 0.1 * db)"), {"test_train_takes_gradient_descent_steps_of_size_lr"},
     "gd-step-not-lr"),
    ("train", train("(W, b)"), {"test_a_tanh_network_fits_the_circles", "test_a_relu_network_fits_the_circles",
                                "test_train_takes_gradient_descent_steps_of_size_lr", "test_training_lowers_the_loss"},
     "update-not-stored"),
    ("train", train("(W + lr * dW, b + lr * db)"),
     {"test_a_tanh_network_fits_the_circles", "test_a_relu_network_fits_the_circles",
      "test_train_takes_gradient_descent_steps_of_size_lr", "test_training_lowers_the_loss"}, "gradient-ascent"),
    ("train", train(scheme="'xavier'"), {"test_train_starts_from_init_params_with_the_right_scheme"},
     "wrong-init-scheme"),
    ("train", train("(W - lr * dW, b)"), {"test_train_takes_gradient_descent_steps_of_size_lr"},
     "bias-never-updated"),
    ("train", FITTED_TO_THE_DEMO_RINGS,
     FITS | {"test_train_starts_from_init_params_with_the_right_scheme", "test_training_lowers_the_loss",
             "test_train_takes_gradient_descent_steps_of_size_lr",
             "test_train_is_reproducible_and_leaves_its_inputs_unchanged"}, None),
    ("train", FITTED_TO_THE_VISIBLE_RINGS_FOR_LONG_RUNS, FITS | {"test_training_lowers_the_loss"}, None),
]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source, must_fail, explained_by", WRONG,
                         ids=[f"{g}-{i}" for i, (g, *_) in enumerate(WRONG)])
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(grade_id, source, must_fail, explained_by):
    assert_wrong_answer_loses_points_where_due(ASSIGNMENT, grade_id, source, must_fail, explained_by)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


def test_a_backward_that_reads_the_last_forward_pass_from_a_global_loses_points():
    nb = with_answers(solution(ASSIGNMENT), {
        "forward": FORWARD.replace("def forward(X, params, activation):\n",
                                   "def forward(X, params, activation):\n    global LAST\n")
                          .replace("    return A, (activation, layers)", "    LAST = (activation, layers)\n"
                                                                          "    return A, LAST"),
        "backward": backward(RIGHT_STEP).replace("activation, layers = cache", "activation, layers = LAST")})
    results = hidden_results(nb, ASSIGNMENT)
    assert failed_checks(results, "test_backward") == {"test_backward_uses_the_cache_it_is_given"}
    assert failed_checks(results, "test_forward") == set()


# Correct implementations that differ from the reference: other random draws, caches that cannot cross
# to the grader (a dict, an object), derivatives from Z, another log-sum-exp, updates in place.
RIGHT = [
    {"init_params": init_params("params.append((np.sqrt(std**2) * rng.standard_normal((n_out, n_in)).T, "
                                "np.zeros(n_out)))")},
    {"forward": FORWARD.replace("layers.append((A, W))", "layers.append({'A': A, 'W': W, 'Z': A @ W + b})")
                       .replace("return A, (activation, layers)", "return A, {'activation': activation, 'layers': layers}"),
     "backward": "def backward(dlogits, cache):\n    grads, dZ = [], dlogits\n"
                 "    derivative = {'identity': lambda z: np.ones_like(z), 'relu': lambda z: np.heaviside(z, 0.5),\n"
                 "                  'tanh': lambda z: 1 / np.cosh(z) ** 2,\n"
                 "                  'sigmoid': lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2}[cache['activation']]\n"
                 "    layers = cache['layers']\n"
                 "    for i in range(len(layers) - 1, -1, -1):\n"
                 "        grads.insert(0, (layers[i]['A'].T @ dZ, np.sum(dZ, axis=0)))\n"
                 "        if i:\n            dZ = dZ @ layers[i]['W'].T * derivative(layers[i - 1]['Z'])\n"
                 "    return grads\n"},
    {"forward": "class Cache:\n    pass\n\n" + FORWARD.replace("return A, (activation, layers)",
                                                           "cache = Cache()\n    cache.activation, cache.layers = "
                                                           "activation, layers\n    return A, cache"),
     "backward": backward(RIGHT_STEP).replace("activation, layers = cache",
                                              "activation, layers = cache.activation, cache.layers")},
    {"softmax_cross_entropy": softmax_cross_entropy(
        "logits - (m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True)))",
        prelude="    m = np.max(logits, axis=1, keepdims=True)\n",
        dlogits="np.exp(log_probs) / n - np.eye(logits.shape[1])[y] / n")},
    {"train": "def train(X, y, sizes, activation, lr, epochs, seed):\n"
              "    params = init_params(sizes, 'he' if activation == 'relu' else 'xavier', seed)\n"
              "    for epoch in range(epochs):\n"
              "        logits, cache = forward(X, params, activation)\n"
              "        grads = backward(softmax_cross_entropy(logits, y)[1], cache)\n"
              "        for (W, b), (dW, db) in zip(params, grads):\n"
              "            W -= lr * dW\n            b -= lr * db\n"
              "    return params\n"},
]


@pytest.mark.slow
@pytest.mark.parametrize("sources", RIGHT, ids=["-".join(s) for s in RIGHT])
def test_a_different_correct_implementation_gets_full_marks(sources):
    results = hidden_results(with_answers(solution(ASSIGNMENT), sources), ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}


# The numpy assignments are answered with numpy: where they are graded, torch cannot be imported.
FORWARD_KEEPING_ITS_INPUTS = FORWARD.replace("return A, (activation, layers)", "return A, (activation, X, params)")
BACKWARD_BY_TORCH_AUTOGRAD = """def backward(dlogits, cache):
    import torch
    activation, X, params = cache
    f = {"identity": lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    leaves = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    A = torch.tensor(X)
    for i, (W, b) in enumerate(leaves):
        A = A @ W + b
        A = A if i == len(leaves) - 1 else f(A)
    (A * torch.tensor(dlogits)).sum().backward()
    return [(W.grad.numpy(), b.grad.numpy()) for W, b in leaves]
"""


def hidden_results_without_torch(nb):
    """{test cell: [CheckResult]} with torch refused to the submission, as in the numpy assignments' sandbox."""
    tests = {cell.grade_id for cell in notebook.test_cells(solution(ASSIGNMENT))}
    with StudentCode(notebook.code_to_run(nb, tests), hidden_packages=("torch",)) as code:
        results = run_checks(ASSIGNMENT, code)
    by_cell = {}
    for result in results:
        by_cell.setdefault(result.cell, []).append(result)
    return by_cell


@pytest.mark.slow
def test_a_backward_computed_by_torch_autograd_loses_every_backward_point():
    nb = with_answers(solution(ASSIGNMENT), {"forward": FORWARD_KEEPING_ITS_INPUTS,
                                             "backward": BACKWARD_BY_TORCH_AUTOGRAD})
    results = hidden_results_without_torch(nb)
    assert failed_checks(results, "test_backward") == {r.nodeid.split("::")[-1].split("[")[0]
                                                       for r in results["test_backward"]}
    assert failed_checks(results, "test_forward") == set()

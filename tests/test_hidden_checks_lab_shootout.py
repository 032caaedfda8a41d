"""The hidden checks of `lab_shootout` pass every correct implementation and fail realistic wrong ones."""
import pytest

from helpers import (assert_every_misconception_is_shown, assert_wrong_answers_lose_points_where_due, failed_checks,
                     hidden_results, solution, with_answer, wrong_answer_groups)

ASSIGNMENT = "lab_shootout"


def build_mlp(init="INIT[scheme](linear.weight)", bias="nn.init.zeros_(linear.bias)", after="i < depth",
              modules="", schemes="", unknown="raise ValueError(activation)"):
    """A build_mlp with one part replaced: how a weight is drawn, the bias, when an activation follows."""
    return ("def build_mlp(n_in, width, depth, n_out, activation):\n"
            "    MODULES = {'sigmoid': nn.Sigmoid, 'tanh': nn.Tanh, 'relu': nn.ReLU, 'leaky_relu': nn.LeakyReLU,\n"
            f"               'elu': nn.ELU, 'gelu': nn.GELU, 'silu': nn.SiLU, 'selu': nn.SELU, {modules}}}\n"
            "    SCHEMES = {'sigmoid': 'xavier', 'tanh': 'xavier', 'relu': 'he', 'leaky_relu': 'he', 'elu': 'he',\n"
            f"               'gelu': 'he', 'silu': 'he', 'selu': 'lecun', {schemes}}}\n"
            "    INIT = {'xavier': nn.init.xavier_normal_,\n"
            "            'he': lambda w: nn.init.kaiming_normal_(w, nonlinearity='relu'),\n"
            "            'lecun': lambda w: nn.init.normal_(w, 0.0, w.shape[1] ** -0.5)}\n"
            f"    if activation not in MODULES:\n        {unknown}\n"
            "    scheme = SCHEMES.get(activation, 'he')\n"
            "    sizes = [n_in] + [width] * depth + [n_out]\n    layers = []\n"
            "    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):\n"
            "        linear = nn.Linear(fan_in, fan_out)\n"
            f"        {init}\n        {bias}\n        layers.append(linear)\n"
            f"        if {after}:\n            layers.append(MODULES.get(activation, nn.ReLU)())\n"
            "    return nn.Sequential(*layers)\n")


def evaluate(forward="model.eval()\n    with torch.no_grad():\n        logits = model(X)",
             restore="model.train(was_training)", loss="F.cross_entropy(logits, y).item()",
             accuracy="(logits.argmax(dim=1) == y).float().mean().item()"):
    return ("def evaluate(model, X, y):\n    was_training = model.training\n"
            f"    {forward}\n    {restore}\n    return {loss}, {accuracy}\n")


def test_the_building_block_templates_are_correct():
    """The templates below, unchanged, are right: each wrong version differs from them in one place."""
    results = hidden_results(with_answer(with_answer(solution(ASSIGNMENT), "build_mlp", build_mlp()),
                                         "evaluate", evaluate()), ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results} == {"test_build_mlp": set(),
                                                                       "test_evaluate": set()}


STRUCTURE = {"test_build_mlp_stacks_linear_and_activation_layers_in_order", "test_build_mlp_computes_the_right_function"}

# (answer cell, wrong source, checks that must fail, the misconception that explains one of them or None).
# Each is a mistake students really make.
WRONG = [
    ("build_mlp", build_mlp(after="True"), STRUCTURE,
     "activation-on-logits"),  # an activation after the output layer too
    ("build_mlp", build_mlp(after="0 < i < depth"), STRUCTURE,
     "missing-activation"),  # no activation after the first hidden layer
    ("build_mlp", build_mlp(after="i < depth - 1"), STRUCTURE,
     "missing-activation"),  # one hidden layer without its activation
    ("build_mlp", build_mlp(schemes="'selu': 'he'"), {"test_build_mlp_draws_weights_with_the_activations_matching_std"},
     "selu-needs-lecun"),
    ("build_mlp", build_mlp(schemes="'sigmoid': 'he', 'tanh': 'he'"),
     {"test_build_mlp_draws_weights_with_the_activations_matching_std"}, "saturating-needs-xavier"),
    ("build_mlp", build_mlp(schemes="'selu': 'xavier'"),
     {"test_build_mlp_draws_weights_with_the_activations_matching_std"}, "selu-needs-lecun"),
    ("build_mlp", build_mlp(bias="pass"), {"test_build_mlp_biases_are_zero"},
     "bias-not-zero"),  # PyTorch's default bias
    ("build_mlp", build_mlp(init="pass", bias="pass"),  # PyTorch's default init: uniform, variance 1 / (3 fan_in)
     {"test_build_mlp_draws_weights_with_the_activations_matching_std", "test_build_mlp_biases_are_zero",
      "test_build_mlp_draws_weights_from_a_normal_distribution_with_mean_zero"}, "default-init-kept"),
    ("build_mlp", build_mlp(init="nn.init.kaiming_uniform_(linear.weight, nonlinearity='relu') if scheme == 'he' "
                                 "else INIT[scheme](linear.weight)"),
     {"test_build_mlp_draws_weights_from_a_normal_distribution_with_mean_zero"}, "uniform-not-normal"),
    ("build_mlp", build_mlp(init="nn.init.normal_(linear.weight, 0.0, (2 / fan_out) ** 0.5) if scheme == 'he' "
                                 "else INIT[scheme](linear.weight)"),  # the wrong fan
     {"test_build_mlp_draws_weights_with_the_activations_matching_std"}, "fans-swapped"),
    ("build_mlp", build_mlp(modules="'leaky_relu': nn.ReLU"), STRUCTURE, "wrong-activation-module"),
    ("build_mlp", build_mlp(modules="'gelu': lambda: nn.GELU(approximate='tanh')"),
     {"test_build_mlp_computes_the_right_function"}, "gelu-tanh-approximation"),
    ("build_mlp", build_mlp(init="linear.weight.data = torch.randn(fan_out, fan_in, generator=torch.Generator()"
                                 ".manual_seed(0)) * (2 / fan_in) ** 0.5 if scheme == 'he' else "
                                 "INIT[scheme](linear.weight)"),
     {"test_build_mlp_is_reproducible_after_torch_manual_seed"}, "own-generator"),
    ("build_mlp", build_mlp(unknown="pass"), {"test_build_mlp_rejects_an_unknown_activation"},
     "unknown-activation-accepted"),
    ("evaluate", evaluate(loss="F.cross_entropy(logits, y, reduction='sum').item()"),
     {"test_evaluate_returns_the_mean_cross_entropy", "test_evaluate_runs_the_model_in_eval_mode_without_gradients"},
     "loss-summed"),
    ("evaluate", evaluate(restore="pass"), {"test_evaluate_leaves_the_model_in_the_mode_it_found_it"},
     "mode-not-restored"),
    ("evaluate", evaluate(restore="model.train()"), {"test_evaluate_leaves_the_model_in_the_mode_it_found_it"},
     "training-mode-forced"),
    ("evaluate", evaluate(accuracy="(F.softmax(logits, dim=1)[torch.arange(len(y)), y] > 0.5).float().mean().item()"),
     {"test_evaluate_returns_the_arg_max_accuracy"}, "accuracy-by-threshold"),
    ("evaluate", evaluate(accuracy="(F.softmax(logits, dim=1).max(dim=1).values > 0.5).float().mean().item()"),
     {"test_evaluate_returns_the_arg_max_accuracy"}, "accuracy-by-threshold"),
    ("evaluate", evaluate(forward="with torch.no_grad():\n        logits = model(X)"),  # no eval(): dropout on
     {"test_evaluate_runs_the_model_in_eval_mode_without_gradients",
      "test_evaluate_leaves_the_parameters_and_buffers_unchanged"}, "no-eval-mode"),
    ("evaluate", evaluate(forward="model.eval()\n    logits = model(X)"),  # a graph built for nothing
     {"test_evaluate_runs_the_model_in_eval_mode_without_gradients"}, "no-no-grad"),
    ("evaluate", evaluate(loss="F.cross_entropy(logits, y)", accuracy="(logits.argmax(dim=1) == y).float().mean()"),
     {"test_evaluate_returns_two_python_floats"}, "scores-are-tensors"),
    # gradients switched off and never switched back on: the next training step learns nothing
    ("evaluate", evaluate(forward="model.eval()\n    torch.set_grad_enabled(False)\n    logits = model(X)"),
     {"test_evaluate_leaves_gradients_switched_on_and_none_in_the_parameters"}, "gradients-left-off"),
    # model.forward(X) skips the model's own hooks, and builds a graph without no_grad
    ("evaluate", evaluate(forward="model.eval()\n    logits = model.forward(X)"),
     {"test_evaluate_runs_the_model_in_eval_mode_without_gradients"}, "no-no-grad"),
    # sets the model's own flag only: its dropout and batch-norm layers stay in eval mode
    ("evaluate", evaluate(restore="model.training = was_training"),
     {"test_evaluate_leaves_the_model_in_the_mode_it_found_it"}, "mode-not-restored"),
    # a backward pass "to check the loss": gradients left in the parameters
    ("evaluate", evaluate(forward="model.eval()\n    logits = model(X)\n    F.cross_entropy(logits, y).backward()"),
     {"test_evaluate_runs_the_model_in_eval_mode_without_gradients",
      "test_evaluate_leaves_gradients_switched_on_and_none_in_the_parameters"}, "backward-in-evaluate"),
    ("evaluate", evaluate(accuracy="float('nan')"), {"test_evaluate_returns_the_arg_max_accuracy"}, None),
    ("evaluate", evaluate(loss="float('nan')"), {"test_evaluate_returns_the_mean_cross_entropy"}, None),
    ("build_mlp", build_mlp(init="nn.init.constant_(linear.weight, float('nan'))"),
     {"test_build_mlp_computes_the_right_function",
      "test_build_mlp_draws_weights_from_a_normal_distribution_with_mean_zero"}, None),
]

# Notebooks that patch torch in the student's process so that a probe's report about itself lies: with
# checks that asked torch.is_grad_enabled() in the worker, each earned full marks.
HOSTILE = [
    # a graph built while a hook would ask whether gradients are on
    ("evaluate", "def evaluate(model, X, y):\n    was_training = model.training\n    model.eval()\n"
                 "    real = torch.is_grad_enabled\n    torch.is_grad_enabled = lambda: False\n"
                 "    try:\n        logits = model(X)\n    finally:\n        torch.is_grad_enabled = real\n"
                 "    model.train(was_training)\n"
                 "    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).float().mean().item()\n",
     {"test_evaluate_runs_the_model_in_eval_mode_without_gradients"}, None),
    # gradients left off, and a torch that says they are on
    ("evaluate", evaluate(forward="model.eval()\n    torch.set_grad_enabled(False)\n    logits = model(X)")
     + "\n\ntorch.is_grad_enabled = lambda: True\n",
     {"test_evaluate_leaves_gradients_switched_on_and_none_in_the_parameters"}, None),
]


@pytest.mark.slow
@pytest.mark.parametrize("group", wrong_answer_groups(ASSIGNMENT, WRONG) + [[entry] for entry in HOSTILE],
                         ids=lambda group: "+".join(f"{e[0]}-{(WRONG + HOSTILE).index(e)}" for e in group))
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(group):
    """Each cell's checks `must_fail` fail, and the misconception `explained_by` explains one of them. A hostile
    notebook patches torch for the whole process: it runs alone."""
    assert_wrong_answers_lose_points_where_due(ASSIGNMENT, group)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


# Correct implementations that differ from the reference: other ways to draw the same distributions,
# the course library's own builder, named layers, inference mode, a hand-written cross-entropy.
RIGHT = [
    {"build_mlp": "def build_mlp(n_in, width, depth, n_out, activation):\n"
                  "    from collections import OrderedDict\n"
                  "    gain = {'sigmoid': None, 'tanh': None, 'selu': 1.0}.get(activation, 2.0)\n"
                  "    if activation not in nets.ACTIVATIONS or activation in ('identity', 'prelu', 'swish', 'softplus'):\n"
                  "        raise ValueError(activation)\n"
                  "    sizes, named = [n_in] + [width] * depth + [n_out], []\n"
                  "    for i in range(depth + 1):\n"
                  "        layer = nn.Linear(sizes[i], sizes[i + 1])\n"
                  "        std = (2 / (sizes[i] + sizes[i + 1])) ** 0.5 if gain is None else (gain / sizes[i]) ** 0.5\n"
                  "        with torch.no_grad():\n"
                  "            layer.weight.copy_(torch.randn(sizes[i + 1], sizes[i]) * std)\n"
                  "            layer.bias.fill_(0.0)\n"
                  "        named.append((f'linear{i}', layer))\n"
                  "        if i < depth:\n"
                  "            named.append((f'{activation}{i}', nets.ACTIVATIONS[activation]()))\n"
                  "    return nn.Sequential(OrderedDict(named))\n"},
    {"build_mlp": "def build_mlp(n_in, width, depth, n_out, activation):\n"
                  "    init = {'sigmoid': 'xavier', 'tanh': 'xavier', 'selu': 'lecun', 'relu': 'he', 'leaky_relu': 'he',\n"
                  "            'elu': 'he', 'gelu': 'he', 'silu': 'he'}\n"
                  "    if activation not in init:\n        raise ValueError(activation)\n"
                  "    return nets.make_mlp(n_in, width, depth, n_out, activation, init=init[activation])\n"},
    {"evaluate": "def evaluate(model, X, y):\n    mode = model.training\n    model.train(False)\n"
                 "    with torch.inference_mode():\n        logits = model(X)\n        log_p = F.log_softmax(logits, dim=1)\n"
                 "        loss = -log_p.gather(1, y[:, None]).sum() / len(y)\n"
                 "        hits = int((logits.max(dim=1).indices == y).sum())\n"
                 "    model.train(mode)\n    return float(loss), hits / len(y)\n"},
    {"evaluate": "def evaluate(model, X, y):\n    was = model.training\n    model.eval()\n    with torch.no_grad():\n"
                 "        logits = torch.cat([model.forward(X[i:i + 64]) for i in range(0, len(X), 64)])\n"
                 "    if was:\n        model.train()\n"
                 "    return F.cross_entropy(logits, y).item(), torch.eq(logits.argmax(1), y).double().mean().item()\n"},
]


@pytest.mark.slow
@pytest.mark.parametrize("sources", RIGHT, ids=[f"{'-'.join(s)}-{i}" for i, s in enumerate(RIGHT)])
def test_a_different_correct_implementation_gets_full_marks(sources):
    nb = solution(ASSIGNMENT)
    for grade_id, source in sources.items():
        nb = with_answer(nb, grade_id, source)
    results = hidden_results(nb, ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}

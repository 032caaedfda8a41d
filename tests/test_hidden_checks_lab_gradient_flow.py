"""The hidden checks of `lab_gradient_flow` pass every correct implementation and fail realistic wrong ones."""
import pytest

from helpers import (assert_every_misconception_is_shown, assert_wrong_answers_lose_points_where_due, failed_checks,
                     hidden_results, solution, with_answer, wrong_answer_groups)

ASSIGNMENT = "lab_gradient_flow"


def norms(body="model.zero_grad()\n    F.cross_entropy(model(X), y).backward()",
          value="[m.weight.grad.norm().item() for m in layers]", after=""):
    """A layer_grad_norms that runs `body`, then returns `value` (it has `layers`, the Linear layers)."""
    return ("def layer_grad_norms(model, X, y):\n"
            "    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]\n"
            f"    {body}\n    result = {value}\n{after}    return result\n")


def init(draw="layer.weight.normal_(0.0, math.sqrt(variance))", bias="layer.bias.zero_()",
         variance="2.0 / (fan_in + fan_out) if scheme == 'xavier' else 2.0 / fan_in", layers="layers",
         check="if scheme not in ('default', 'xavier', 'he'):\n        raise ValueError(scheme)",
         default="layer.reset_parameters()"):
    """An init_weights_ with the given pieces (it has layer, fan_in, fan_out, scheme and variance)."""
    return ("def init_weights_(model, scheme):\n"
            f"    {check}\n"
            "    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]\n"
            f"    for layer in {layers}:\n"
            "        if scheme == 'default':\n"
            f"            {default}\n            continue\n"
            "        fan_out, fan_in = layer.weight.shape\n"
            f"        variance = {variance}\n"
            "        with torch.no_grad():\n"
            f"            {draw}\n            {bias}\n"
            "    return model\n")


ALL_NORM_VALUES = {"test_norms_match_autograd_for_each_activation",
                   "test_norms_are_right_for_one_layer_and_for_a_deep_sigmoid_network",
                   "test_two_calls_give_the_same_norms", "test_works_for_a_float32_network"}

# (answer cell, wrong source, checks that must fail, the misconception that explains one of them or None).
# Each is a mistake students really make.
WRONG = [
    ("layer_grad_norms", norms(body="F.cross_entropy(model(X), y).backward()"),
     {"test_gradients_already_in_the_model_are_cleared_first", "test_two_calls_give_the_same_norms"},
     "gradients-accumulate"),
    ("layer_grad_norms", norms(value="[m.bias.grad.norm().item() for m in layers]"), ALL_NORM_VALUES,
     "bias-gradient"),
    ("layer_grad_norms", norms(value="[m.weight.grad.norm().item() for m in layers][::-1]"), ALL_NORM_VALUES,
     "reversed-order"),
    ("layer_grad_norms", norms(body="model.zero_grad()\n    F.cross_entropy(model(X), y, reduction='sum').backward()"),
     ALL_NORM_VALUES | {"test_the_loss_is_the_mean_over_the_batch"}, "sum-not-mean"),
    ("layer_grad_norms", norms(value="[torch.cat([m.weight.grad.flatten(), m.bias.grad]).norm().item() for m in layers]"),
     ALL_NORM_VALUES, "weight-and-bias-gradient"),
    ("layer_grad_norms", norms(value="[(m.weight.grad ** 2).sum().item() for m in layers]"), ALL_NORM_VALUES,
     "squared-norm"),
    # the weights' own norms, read where their gradients' are due
    ("layer_grad_norms", norms(value="[m.weight.norm().item() for m in layers]"), ALL_NORM_VALUES,
     "weights-not-gradients"),
    ("layer_grad_norms", norms(after="    torch.optim.SGD(model.parameters(), lr=0.1).step()\n"),
     {"test_the_parameters_are_left_unchanged", "test_two_calls_give_the_same_norms"}, "optimizer-step"),
    ("layer_grad_norms", norms(value="[m.weight.grad.norm() for m in layers]"),
     {"test_returns_a_list_of_python_floats_one_per_linear_layer"}, "norms-are-tensors"),
    ("layer_grad_norms", norms(value="[m.weight.grad.norm().item() for m in layers[:-1]]"),
     ALL_NORM_VALUES | {"test_returns_a_list_of_python_floats_one_per_linear_layer"}, "norms-skip-output-layer"),
    ("layer_grad_norms", norms(body="model.zero_grad()\n    F.mse_loss(model(X), F.one_hot(y, model(X).shape[1]).to(X.dtype)).backward()"),
     ALL_NORM_VALUES, "mse-not-cross-entropy"),
    ("layer_grad_norms", norms(value="[float('nan')] * len(layers)"), ALL_NORM_VALUES, None),
    ("init_weights_", init(variance="2.0 / (fan_in + fan_out) if scheme == 'xavier' else 2.0 / fan_out"),
     {"test_he_weights_have_variance_2_over_fan_in"}, "fans-swapped"),
    ("init_weights_", init(variance="1.0 / fan_in if scheme == 'xavier' else 2.0 / fan_in"),
     {"test_xavier_weights_have_variance_2_over_fan_in_plus_fan_out"}, "lecun-not-xavier"),
    # the two schemes' variances mixed up
    ("init_weights_", init(variance="2.0 / fan_in if scheme == 'xavier' else 2.0 / (fan_in + fan_out)"),
     {"test_he_weights_have_variance_2_over_fan_in", "test_xavier_weights_have_variance_2_over_fan_in_plus_fan_out"},
     "schemes-swapped"),
    ("init_weights_", init(variance="2.0 / (fan_in + fan_out) if scheme == 'xavier' else 2.0 / fan_in",
                           draw="layer.weight.normal_(0.0, variance)"),
     {"test_he_weights_have_variance_2_over_fan_in", "test_xavier_weights_have_variance_2_over_fan_in_plus_fan_out"},
     "variance-as-std"),
    ("init_weights_", init(draw="nn.init.xavier_uniform_(layer.weight) if scheme == 'xavier' else "
                                "nn.init.kaiming_uniform_(layer.weight, nonlinearity='relu')"),
     {"test_weights_are_normal_with_mean_zero"}, "uniform-not-normal"),
    ("init_weights_", init(bias="pass"), {"test_biases_are_zero_for_xavier_and_he"}, "bias-not-zeroed"),
    ("init_weights_", init(default="pass"), {"test_default_is_pytorchs_own_initialisation"}, "default-not-redrawn"),
    ("init_weights_", init(default="nn.init.xavier_uniform_(layer.weight)"),
     {"test_default_is_pytorchs_own_initialisation"}, "default-not-redrawn"),
    ("init_weights_", init(layers="layers[:-1]"),
     {"test_he_weights_have_variance_2_over_fan_in", "test_xavier_weights_have_variance_2_over_fan_in_plus_fan_out",
      "test_biases_are_zero_for_xavier_and_he"}, "init-skips-output-layer"),
    ("init_weights_", init(draw="layer.weight = nn.Parameter(torch.randn(fan_out, fan_in) * math.sqrt(variance))"),
     {"test_changes_the_model_in_place_and_returns_it"}, "new-parameter-objects"),
    ("init_weights_", init().replace("    return model\n", "    return None\n"),
     {"test_changes_the_model_in_place_and_returns_it"}, "returns-nothing"),
    ("init_weights_", "def init_weights_(model, scheme):\n"
                      "    if scheme not in ('default', 'xavier', 'he'):\n        raise ValueError(scheme)\n"
                      "    for p in model.parameters():\n        with torch.no_grad():\n"
                      "            if p.dim() == 1:\n                p.zero_()\n"
                      "            elif scheme == 'xavier':\n                nn.init.xavier_normal_(p)\n"
                      "            elif scheme == 'he':\n                nn.init.kaiming_normal_(p)\n"
                      "            else:\n                nn.init.kaiming_uniform_(p, a=math.sqrt(5))\n"
                      "    return model\n",
     {"test_other_modules_are_left_alone"}, "other-modules-touched"),
    ("init_weights_", init(check="pass", variance="2.0 / (fan_in + fan_out) if scheme == 'xavier' else 2.0 / fan_in"),
     {"test_an_unknown_scheme_raises_value_error"}, "unknown-scheme-accepted"),
    # nan weights: every spread compared with `>` let them pass
    ("init_weights_", init(draw="layer.weight.fill_(float('nan'))"),
     {"test_he_weights_have_variance_2_over_fan_in", "test_xavier_weights_have_variance_2_over_fan_in_plus_fan_out",
      "test_weights_are_normal_with_mean_zero"}, None),
    ("init_weights_", init(default="nn.init.constant_(layer.weight, float('nan'))\n"
                                   "            nn.init.constant_(layer.bias, float('nan'))"),
     {"test_default_is_pytorchs_own_initialisation"}, None),
]


@pytest.mark.slow
@pytest.mark.parametrize("group", wrong_answer_groups(ASSIGNMENT, WRONG),
                         ids=lambda group: "+".join(f"{g}-{WRONG.index(e)}" for e in group for g in e[:1]))
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(group):
    assert_wrong_answers_lose_points_where_due(ASSIGNMENT, group)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


# Correct implementations that differ from the reference: autograd.grad without touching .grad, a summed
# loss divided by the batch, log-softmax and NLL, weights found through named_parameters, torch's own
# initialisers, a tensor of norms turned into a list.
RIGHT = [
    {"layer_grad_norms": "def layer_grad_norms(model, X, y):\n"
                         "    weights = [m.weight for m in model if isinstance(m, nn.Linear)]\n"
                         "    grads = torch.autograd.grad(F.cross_entropy(model(X), y), weights)\n"
                         "    return [float(torch.linalg.norm(g)) for g in grads]\n"},
    {"layer_grad_norms": norms(body="model.zero_grad(set_to_none=False)\n"
                                    "    (F.cross_entropy(model(X), y, reduction='sum') / len(X)).backward()",
                               value="[math.sqrt((m.weight.grad ** 2).sum().item()) for m in layers]")},
    {"layer_grad_norms": "def layer_grad_norms(model, X, y):\n"
                         "    for p in model.parameters():\n        p.grad = None\n"
                         "    F.nll_loss(F.log_softmax(model(X), dim=1), y).backward()\n"
                         "    norms = torch.stack([p.grad.norm() for name, p in model.named_parameters() "
                         "if name.endswith('weight')])\n"
                         "    return norms.tolist()\n"},
    {"init_weights_": init(draw="nn.init.xavier_normal_(layer.weight) if scheme == 'xavier' else "
                                "nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')",
                           bias="nn.init.zeros_(layer.bias)")},
    {"init_weights_": init(draw="layer.weight.copy_(torch.randn_like(layer.weight) * variance ** 0.5)",
                           bias="layer.bias.fill_(0.0)",
                           default="layer.reset_parameters()")},
]


@pytest.mark.slow
@pytest.mark.parametrize("sources", RIGHT, ids=[f"{'-'.join(s)}-{i}" for i, s in enumerate(RIGHT)])
def test_a_different_correct_implementation_gets_full_marks(sources):
    nb = solution(ASSIGNMENT)
    for grade_id, source in sources.items():
        nb = with_answer(nb, grade_id, source)
    results = hidden_results(nb, ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}

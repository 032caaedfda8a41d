"""The hidden checks of `lab_dying_relu` pass every correct implementation and fail realistic wrong ones."""
import pytest

from helpers import (assert_every_misconception_is_shown, assert_wrong_answers_lose_points_where_due, failed_checks,
                     hidden_results, solution, with_answer, wrong_answer_groups)

ASSIGNMENT = "lab_dying_relu"


def dead(measure="(a <= 0).all(dim=0).float().mean().item()", modules="[m for m in model if not isinstance(m, nn.Linear)]",
         record="outputs.append(output)", remove="for h in handles:\n        h.remove()", run="with torch.no_grad():\n        model(X)"):
    """A dead_fraction that hooks `modules`, records with `record` (hook arguments m, inputs, output),
    runs `run`, then `remove`, and measures each recorded `a` with `measure`."""
    return ("def dead_fraction(model, X):\n"
            "    outputs, handles = [], []\n"
            f"    for module in {modules}:\n"
            f"        handles.append(module.register_forward_hook(lambda m, inputs, output: {record}))\n"
            f"    {run}\n"
            f"    {remove}\n"
            f"    return [{measure} for a in outputs]\n")


def leaky(body="fixed = copy.deepcopy(model)", replace="nn.LeakyReLU(alpha)", test="isinstance(module, nn.ReLU)",
          signature="def with_leaky_relu(model, alpha=0.01):"):
    return (f"{signature}\n    {body}\n"
            "    for i, module in enumerate(fixed):\n"
            f"        if {test}:\n            fixed[i] = {replace}\n"
            "    return fixed\n")


VALUES = {"test_counts_relu_units_killed_on_purpose", "test_layers_entirely_dead_and_entirely_alive",
          "test_a_unit_that_is_zero_on_only_some_rows_is_alive", "test_two_calls_give_the_same_result",
          "test_works_for_float32_and_for_a_batch_of_one"}

# (answer cell, wrong source, checks that must fail, the misconception that explains one of them or None).
# Each is a mistake students really make.
WRONG = [
    ("dead_fraction", dead(measure="(a <= 0).any(dim=0).float().mean().item()"),
     {"test_a_unit_that_is_zero_on_only_some_rows_is_alive", "test_counts_relu_units_killed_on_purpose"},
     "off-on-some-rows"),
    ("dead_fraction", dead(measure="(a == 0).float().mean().item()"),
     {"test_a_unit_that_is_zero_on_only_some_rows_is_alive", "test_counts_relu_units_killed_on_purpose",
      "test_negative_outputs_on_every_row_count_as_dead"}, "per-output-not-per-unit"),
    ("dead_fraction", dead(modules="[m for m in model if not isinstance(m, nn.Linear)] + [model[-1]]"),
     {"test_returns_a_list_of_python_floats_one_per_hidden_layer"} | VALUES, "output-layer-counted"),
    ("dead_fraction", dead(remove="pass"), {"test_hooks_are_removed_and_the_model_is_left_unchanged"},
     "hooks-not-removed"),
    ("dead_fraction", dead(modules="[m for m in model if isinstance(m, nn.Linear)][:-1]",
                           measure="(a > 0).all(dim=0).float().mean().item()"),
     VALUES | {"test_negative_outputs_on_every_row_count_as_dead"}, "inverted-test"),
    ("dead_fraction", dead(modules="[model[1]]"),
     {"test_returns_a_list_of_python_floats_one_per_hidden_layer"} | VALUES, "missing-layers"),
    ("dead_fraction", dead(measure="(a == 0).all(dim=0).float().mean().item()"),
     {"test_negative_outputs_on_every_row_count_as_dead"}, "exactly-zero-not-at-most-zero"),
    ("dead_fraction", dead(modules="[m for m in model if isinstance(m, nn.ReLU)]"),
     {"test_negative_outputs_on_every_row_count_as_dead"}, "only-relu-modules"),
    ("dead_fraction", dead(measure="(a <= 0).all(dim=0).float().mean()"),
     {"test_returns_a_list_of_python_floats_one_per_hidden_layer"}, "fractions-are-tensors"),
    ("dead_fraction", dead(measure="(a <= 0).all(dim=0).float().sum().item()"), VALUES, "count-not-fraction"),
    ("dead_fraction", dead(run="torch.set_grad_enabled(False)\n    model(X)"),
     {"test_hooks_are_removed_and_the_model_is_left_unchanged"}, "gradients-left-off"),
    # parameters frozen "so that no graph is built", and never unfrozen
    ("dead_fraction", dead(run="for p in model.parameters():\n        p.requires_grad_(False)\n    model(X)"),
     {"test_hooks_are_removed_and_the_model_is_left_unchanged"}, "gradients-left-off"),
    # gradients left off, and a torch that says they are on: with a check that asked torch.is_grad_enabled()
    # in the worker, this earned full marks
    ("dead_fraction",
     dead(run="torch.set_grad_enabled(False)\n    model(X)") + "\n\ntorch.is_grad_enabled = lambda: True\n",
     {"test_hooks_are_removed_and_the_model_is_left_unchanged"}, "gradients-left-off"),
    ("with_leaky_relu", leaky(body="fixed = model"),
     {"test_the_original_model_is_left_unchanged", "test_the_copy_has_parameters_of_its_own"}, "changes-the-original"),
    ("with_leaky_relu", leaky(replace="nn.LeakyReLU()"),
     {"test_the_copy_computes_the_leaky_relu_network", "test_every_relu_and_only_relu_is_replaced"}, "alpha-ignored"),
    ("with_leaky_relu", leaky(test="not isinstance(module, nn.Linear)"), {"test_every_relu_and_only_relu_is_replaced"},
     "replaces-other-activations"),
    ("with_leaky_relu", leaky(body="fixed = nn.Sequential(*model)"), {"test_the_copy_has_parameters_of_its_own"},
     "shares-parameters"),
    ("with_leaky_relu", leaky(body="fixed = copy.copy(model)"), {"test_the_original_model_is_left_unchanged"},
     "changes-the-original"),
    ("with_leaky_relu", leaky(body="fixed = nets.make_mlp(model[0].in_features, model[0].out_features, "
                                   "len(model) // 2, model[-1].out_features, 'relu').to(model[0].weight.dtype)"),
     {"test_the_copy_computes_the_leaky_relu_network", "test_alpha_defaults_to_0_01"}, "new-weights"),
    ("with_leaky_relu", leaky(signature="def with_leaky_relu(model, alpha=0.1):"), {"test_alpha_defaults_to_0_01"},
     "wrong-default-alpha"),
]


@pytest.mark.slow
@pytest.mark.parametrize("group", wrong_answer_groups(ASSIGNMENT, WRONG),
                         ids=lambda group: "+".join(f"{g}-{WRONG.index(e)}" for e in group for g in e[:1]))
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(group):
    assert_wrong_answers_lose_points_where_due(ASSIGNMENT, group)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


# Correct implementations that differ from the reference: the Linear layers' outputs (pre-activations,
# dead when <= 0 everywhere), hooks removed in a finally clause, modules found by position, a rebuilt
# Sequential of deep copies.
RIGHT = [
    {"dead_fraction": "def dead_fraction(model, X):\n"
                      "    linears = [m for m in model if isinstance(m, nn.Linear)][:-1]\n"
                      "    z = []\n"
                      "    handles = [m.register_forward_hook(lambda m, i, o: z.append(o.detach())) for m in linears]\n"
                      "    try:\n        model(X)\n    finally:\n"
                      "        for h in handles:\n            h.remove()\n"
                      "    return [float(np.mean(np.all(t.numpy() <= 0, axis=0))) for t in z]\n"},
    {"dead_fraction": "def dead_fraction(model, X):\n    fractions = []\n"
                      "    for i in range(1, len(model), 2):\n"
                      "        seen = {}\n"
                      "        handle = model[i].register_forward_hook(lambda m, inp, out: seen.update(a=out))\n"
                      "        with torch.no_grad():\n            model(X)\n        handle.remove()\n"
                      "        fractions.append(((seen['a'] > 0).sum(dim=0) == 0).double().mean().item())\n"
                      "    return fractions\n"},
    {"with_leaky_relu": "def with_leaky_relu(model, alpha=0.01):\n"
                        "    return nn.Sequential(*[nn.LeakyReLU(negative_slope=alpha) if type(m) is nn.ReLU "
                        "else copy.deepcopy(m) for m in model])\n"},
]


@pytest.mark.slow
@pytest.mark.parametrize("sources", RIGHT, ids=[f"{'-'.join(s)}-{i}" for i, s in enumerate(RIGHT)])
def test_a_different_correct_implementation_gets_full_marks(sources):
    nb = solution(ASSIGNMENT)
    for grade_id, source in sources.items():
        nb = with_answer(nb, grade_id, source)
    results = hidden_results(nb, ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}

"""Every numpy assignment's hidden checks fail answers that return nan or inf where a number is due: all
but the checks that never read a value (purity, the errors raised, dtype and shape) fail."""
import math

import pytest

from helpers import hidden_results
from nonfinite import assert_only_value_blind_checks_pass, nonfinite_answers

# Per assignment, the checks that never read a value the answers return.
VALUE_BLIND = {
    "neuron": {
        "test_weighted_sum_does_not_modify_its_inputs", "test_step_does_not_modify_its_input",
        "test_step_returns_floats_in_the_input_dtype", "test_dense_forward_does_not_modify_its_inputs",
        "test_dense_forward_rejects_X_and_W_that_do_not_fit", "test_dense_forward_rejects_a_bias_of_the_wrong_length",
        "test_mlp_forward_does_not_modify_X", "test_collapse_linear_does_not_modify_its_inputs",
        "test_collapse_linear_returns_a_tuple_of_two_arrays_of_the_right_shapes"},
    "activations": {
        "test_input_is_not_modified", "test_prelu_input_is_not_modified", "test_softmax_input_is_not_modified",
        "test_log_softmax_input_is_not_modified", "test_gelu_rejects_an_unknown_approximation"},
    "derivatives": {
        "test_input_is_not_modified", "test_prelu_grad_input_is_not_modified", "test_inputs_are_not_modified",
        "test_gelu_grad_rejects_an_unknown_approximation", "test_numerical_grad_leaves_x_unchanged_and_returns_float64",
        "test_relative_error_leaves_its_inputs_unchanged"},
    "backprop": {"test_forward_does_not_modify_its_input", "test_forward_rejects_an_unknown_activation",
        "test_init_params_rejects_an_unknown_scheme", "test_inputs_are_not_modified"},
}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(VALUE_BLIND))
@pytest.mark.parametrize("fill, everywhere", [(math.nan, False), (math.nan, True), (math.inf, True)],
                         ids=["nan-in-one-place", "nan-everywhere", "inf-everywhere"])
def test_answers_that_return_nan_or_inf_fail_every_check_that_reads_their_values(assignment, fill, everywhere):
    results = hidden_results(nonfinite_answers(assignment, fill, everywhere), assignment)
    assert_only_value_blind_checks_pass(results, VALUE_BLIND[assignment])

"""The hidden checks of `neuron` pass every correct implementation and fail realistic wrong ones."""

import pytest

from helpers import (assert_every_misconception_is_shown, assert_wrong_answer_loses_points_where_due, failed_checks,
                     hidden_results, solution, with_answer)

ASSIGNMENT = "neuron"


CHECKED_DENSE = ("def dense_forward(X, W, b):\n"
                 "    if X.shape[1] != W.shape[0] or b.shape != (W.shape[1],):\n"
                 "        raise ValueError(f'X {X.shape}, W {W.shape}, b {b.shape}')\n")

# (answer cell, wrong source, checks that must fail, the entry of misconceptions.toml that explains it, or None
# where none does). Each is a mistake students really make.
WRONG = [
    ("weighted_sum", "def weighted_sum(x, w, b):\n    return np.dot(x, w)",
     {"test_weighted_sum_adds_the_bias", "test_weighted_sum_of_one_example_is_a_single_number_with_the_right_value"},
     "bias-forgotten"),
    ("weighted_sum", "def weighted_sum(x, w, b):\n    return np.sum(x * w) + b",
     {"test_weighted_sum_of_a_batch_gives_one_value_per_row"}, "batch-summed-to-one-number"),
    ("weighted_sum", "def weighted_sum(x, w, b):\n    return np.dot(w, x) + b",
     {"test_weighted_sum_of_a_batch_gives_one_value_per_row"}, "weighted-sum-operand-order"),
    ("weighted_sum", "def weighted_sum(x, w, b):\n    return np.float64(x @ w + b)",
     {"test_weighted_sum_keeps_float32"}, "dtype-promoted"),
    ("step", "def step(z):\n    z = np.asarray(z)\n    return (z > 0).astype(z.dtype)",
     {"test_step_fires_at_exactly_zero", "test_step_values_for_random_and_edge_inputs"}, "step-strict-inequality"),
    ("step", "def step(z):\n    return np.asarray(z) >= 0", {"test_step_returns_floats_in_the_input_dtype"},
     "bool-or-int-returned"),
    ("step", "def step(z):\n    return (np.asarray(z) >= 0).astype(int)",
     {"test_step_returns_floats_in_the_input_dtype"}, "bool-or-int-returned"),
    ("step", "def step(z):\n    return np.where(np.asarray(z) >= 0, 1.0, 0.0)",
     {"test_step_returns_floats_in_the_input_dtype"}, "dtype-promoted"),
    ("step", "def step(z):\n    return (np.sign(z) + 1) / 2", {"test_step_fires_at_exactly_zero"}, "step-from-sign"),
    ("step", "def step(z):\n    z[...] = z >= 0\n    return z", {"test_step_does_not_modify_its_input"},
     "input-changed"),
    # the sign by division: nan at 0 (0 / 0) and at +-inf (inf / inf)
    ("step", "def step(z):\n    z = np.asarray(z)\n    return (z / np.abs(z) + 1) / 2",
     {"test_step_values_for_random_and_edge_inputs", "test_step_fires_at_exactly_zero"}, "step-by-division"),
    ("dense_forward", CHECKED_DENSE + "    return W.T @ X + b",
     {"test_dense_forward_values_for_non_square_shapes", "test_dense_forward_adds_the_bias_to_every_row"},
     "examples-are-rows"),
    ("dense_forward", CHECKED_DENSE + "    return W.T @ X.T + b[:, None]",
     {"test_dense_forward_values_for_non_square_shapes", "test_dense_forward_keeps_float32"}, "examples-are-rows"),
    ("dense_forward", CHECKED_DENSE + "    return X @ W",
     {"test_dense_forward_values_for_non_square_shapes", "test_dense_forward_adds_the_bias_to_every_row"},
     "bias-forgotten"),
    ("dense_forward", CHECKED_DENSE + "    X -= X.mean(axis=0)  # centre the inputs first\n    return X @ W + b",
     {"test_dense_forward_does_not_modify_its_inputs"}, "input-changed"),
    ("dense_forward", "def dense_forward(X, W, b):\n    return X @ W + b",
     {"test_dense_forward_rejects_X_and_W_that_do_not_fit", "test_dense_forward_rejects_a_bias_of_the_wrong_length"},
     "dense-shapes-unchecked"),
    ("dense_forward", "def dense_forward(X, W, b):\n    if X.shape[1] != W.shape[0]:\n"
                      "        raise ValueError('shapes do not match')\n    return X @ W + b",
     {"test_dense_forward_rejects_X_and_W_that_do_not_fit", "test_dense_forward_rejects_a_bias_of_the_wrong_length"},
     "dense-bias-length-unchecked"),
    ("dense_forward", CHECKED_DENSE + "    return X.astype(np.float64) @ W + b", {"test_dense_forward_keeps_float32"},
     "dtype-promoted"),
    ("mlp_forward", "def mlp_forward(X, params, activation):\n    A = X\n    for W, b in params:\n"
                    "        A = activation(dense_forward(A, W, b))\n    return A",
     {"test_mlp_forward_of_one_layer_is_linear", "test_mlp_forward_leaves_the_last_layer_linear",
      "test_mlp_forward_matches_pytorch_for_tanh_and_relu_networks"}, "activation-on-logits"),
    ("mlp_forward", "def mlp_forward(X, params, activation):\n    A = X\n    for W, b in params:\n"
                    "        A = dense_forward(A, W, b)\n    return A",
     {"test_mlp_forward_matches_pytorch_for_tanh_and_relu_networks",
      "test_mlp_forward_applies_the_given_activation_after_every_hidden_layer",
      "test_mlp_forward_leaves_the_last_layer_linear", "test_mlp_forward_of_a_batch_of_one"},
     "activation-never-applied"),
    ("mlp_forward", "def mlp_forward(X, params, activation):\n    A = X\n    for W, b in params[:-1]:\n"
                    "        A = np.maximum(dense_forward(A, W, b), 0)\n    return dense_forward(A, *params[-1])",
     {"test_mlp_forward_matches_pytorch_for_tanh_and_relu_networks",
      "test_mlp_forward_applies_the_given_activation_after_every_hidden_layer"}, "activation-hardcoded"),
    ("mlp_forward", "def mlp_forward(X, params, activation):\n    A = activation(dense_forward(X, *params[0])) "
                    "if len(params) > 1 else X\n    for W, b in params[1:]:\n"
                    "        A = dense_forward(A, W, b)\n    return A",
     {"test_mlp_forward_applies_the_given_activation_after_every_hidden_layer"}, None),
    ("mlp_forward", "def mlp_forward(X, params, activation):\n    A = X\n    for W, b in params[:-1]:\n"
                    "        A = activation(dense_forward(A, W, b))\n"
                    "    return dense_forward(A, *params[-1]).squeeze()",
     {"test_mlp_forward_of_a_batch_of_one"}, "batch-of-one-squeezed"),
    ("collapse_linear", "def collapse_linear(W1, b1, W2, b2):\n    return W2 @ W1, b1 @ W2 + b2",
     {"test_collapse_linear_weights", "test_collapse_linear_returns_a_tuple_of_two_arrays_of_the_right_shapes",
      "test_collapse_linear_computes_what_the_two_layers_compute"}, "collapse-product-order"),
    ("collapse_linear", "def collapse_linear(W1, b1, W2, b2):\n    return W1 @ W2, b2",
     {"test_collapse_linear_bias", "test_collapse_linear_computes_what_the_two_layers_compute"}, "collapse-bias"),
    ("collapse_linear", "def collapse_linear(W1, b1, W2, b2):\n    return W1 @ W2, b1 + b2",
     {"test_collapse_linear_bias", "test_collapse_linear_computes_what_the_two_layers_compute"}, "collapse-bias"),
    ("collapse_linear", "def collapse_linear(W1, b1, W2, b2):\n    return [W1 @ W2, b1 @ W2 + b2]",
     {"test_collapse_linear_returns_a_tuple_of_two_arrays_of_the_right_shapes"}, "collapse-returns-list"),
]

@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source, must_fail, explained_by", WRONG,
                         ids=[f"{g}-{i}" for i, (g, *_) in enumerate(WRONG)])
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(grade_id, source, must_fail, explained_by):
    assert_wrong_answer_loses_points_where_due(ASSIGNMENT, grade_id, source, must_fail, explained_by)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


# Correct implementations that differ from the reference.
RIGHT = [
    ("weighted_sum", "def weighted_sum(x, w, b):\n    return np.sum(np.asarray(x) * w, axis=-1) + b"),
    ("weighted_sum", "def weighted_sum(x, w, b):\n    return np.dot(x, w) + b"),
    ("step", "def step(z):\n    return np.heaviside(z, 1.0)"),
    ("step", "def step(z):\n    z = np.asarray(z)\n    return np.where(z >= 0, z.dtype.type(1), z.dtype.type(0))"),
    ("dense_forward", "def dense_forward(X, W, b):\n    (n, k), (m, j) = X.shape, W.shape\n"
                      "    if k != m:\n        raise ValueError(f'cannot multiply X {X.shape} by W {W.shape}')\n"
                      "    if np.shape(b) != (j,):\n        raise ValueError(f'b {np.shape(b)} vs W {W.shape}')\n"
                      "    return np.einsum('ni,ij->nj', X, W) + b"),
    ("mlp_forward", "def mlp_forward(X, params, activation):\n    for i, (W, b) in enumerate(params):\n"
                    "        X = X @ W + b\n        if i < len(params) - 1:\n            X = activation(X)\n"
                    "    return X"),
    ("collapse_linear", "def collapse_linear(W1, b1, W2, b2):\n    return np.dot(W1, W2), W2.T @ b1 + b2"),
]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id, source", RIGHT, ids=[f"{g}-{i}" for i, (g, _) in enumerate(RIGHT)])
def test_a_different_correct_implementation_gets_full_marks(grade_id, source):
    results = hidden_results(with_answer(solution(ASSIGNMENT), grade_id, source), ASSIGNMENT)
    assert failed_checks(results, f"test_{grade_id}") == set()



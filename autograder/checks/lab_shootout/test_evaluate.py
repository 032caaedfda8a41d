"""Hidden checks of evaluate: the mean loss and the arg-max accuracy, recomputed by the grader on a
model and data it rebuilds from the same seed; eval mode, no gradients, and the model left as it was."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, assert_close
from autograder.proxy import Student

from . import probes
from . import references as ref

EVALUATE_FORMULA = pytest.mark.cell("test_evaluate", weight=FORMULA)
EVALUATE_DETAIL = pytest.mark.cell("test_evaluate", weight=DETAIL)
# float32 forward pass against the grader's float64 one
RTOL, ATOL = 1e-5, 1e-6
STEP_RTOL, STEP_ATOL = 1e-4, 1e-6  # float32 gradients, summed in another order on another number of threads


class Evaluation:
    """What the student's evaluate returned on one case and left behind, checked for form: `loss`,
    `accuracy`, `are_floats`, `state` (parameters and buffers after the call), `graphs` (None for each forward
    pass without a graph) and `step_output`, `step_gradients` (those of a training step after the call, in
    the mode evaluate left the model)."""

    def __init__(self, student, seed, kind, mode):
        self.what = f"evaluate (on a model in {'training' if mode == 'train' else 'eval'} mode)"
        value = student.call("probe_evaluate", Student("evaluate"), seed, kind, mode, _program=probes,
                             _timeout=30).value
        returned, self.state, self.graphs, self.step_output, self.step_gradients = value
        if returned is None:
            raise CheckFailure(f"{self.what} should return a pair (loss, accuracy)")
        for name, v in zip(("loss", "accuracy"), returned):
            if v is None or np.asarray(v).size != 1:
                raise CheckFailure(f"{self.what}: the {name} should be one number")
        self.are_floats = [isinstance(v, float) for v in returned]
        self.loss, self.accuracy = (float(np.asarray(v).reshape(())) for v in returned)


def assert_loss(result, seed, kind):
    loss, _, n = ref.reference_scores(seed, kind)
    try:
        assert_close(np.float64(result.loss), loss, f"{result.what}: the loss", RTOL, ATOL)
    except CheckFailure as failure:
        try:  # a common mistake: the sum over the rows
            assert_close(np.float64(result.loss), n * loss, f"{result.what}: the loss", RTOL, ATOL)
        except CheckFailure:
            raise failure from None
        raise CheckFailure(f"{failure}: it is the sum over the rows, not the mean") from None


def assert_accuracy(result, seed, kind):
    _, accuracy, n = ref.reference_scores(seed, kind)
    error = abs(result.accuracy - accuracy)
    if not error <= 1.0 / n + 1e-9:  # one row whose top two logits tie in float32; nan fails
        message = (f"{result.what}: the accuracy is off by {error:.3f}; count the rows whose largest "
                   "logit is at the label's index, divided by the number of rows")
        if any(abs(result.accuracy - other) <= 1.0 / n + 1e-9 for other in ref.other_accuracies(seed, kind).values()):
            message += (": it is the share of rows where a softmax probability (the label's, or the largest) is "
                        "above 0.5")
        raise CheckFailure(message)


@EVALUATE_FORMULA
@pytest.mark.parametrize("kind", ["plain", "dropout_bn"])
def test_evaluate_returns_the_mean_cross_entropy(student, kind):
    """returns the mean cross-entropy over the rows (not the sum)"""
    assert_loss(Evaluation(student, 10, kind, "eval"), 10, kind)


@EVALUATE_FORMULA
@pytest.mark.parametrize("kind", ["plain", "dropout_bn"])
def test_evaluate_returns_the_arg_max_accuracy(student, kind):
    """returns the fraction of rows whose largest logit is at the label's index"""
    assert_accuracy(Evaluation(student, 11, kind, "eval"), 11, kind)


@EVALUATE_FORMULA
def test_evaluate_runs_the_model_in_eval_mode_without_gradients(student):
    """scores a model that is in training mode as in eval mode (dropout off, batch-norm running statistics), building no graph for gradients"""
    result = Evaluation(student, 12, "dropout_bn", "train")
    assert_loss(result, 12, "dropout_bn")
    assert_accuracy(result, 12, "dropout_bn")
    if any(graph is not None for graph in result.graphs):  # a gradient reached the last layer's bias
        raise CheckFailure(f"{result.what}: the forward pass built a graph for gradients; run it under "
                           "torch.no_grad()")


def mode_of(output, steps):
    """The mode ("train", "eval") whose output the model gave in the training step after evaluate, or None."""
    return next((mode for mode, (expected, _) in steps.items()
                 if np.shape(output) == np.shape(expected) and np.allclose(output, expected, RTOL, ATOL)), None)


@EVALUATE_DETAIL
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_evaluate_leaves_the_model_in_the_mode_it_found_it(student, mode):
    """leaves every module of the model in training mode if it was in training mode, and in eval mode if it was in eval mode"""
    result = Evaluation(student, 13, "dropout_bn", mode)
    if mode_of(result.step_output, ref.reference_steps(13, "dropout_bn")) != mode:
        was = "training" if mode == "train" else "eval"
        raise CheckFailure(f"{result.what}: afterwards the model does not compute as in {was} mode; restore the "
                           "mode it was in with model.train(mode), which sets every module (assigning "
                           "model.training sets the model's own flag only)")


@EVALUATE_DETAIL
def test_evaluate_leaves_gradients_switched_on_and_none_in_the_parameters(student):
    """leaves PyTorch's gradient mode on and no gradient in the parameters: a training step after evaluate gets the right gradients"""
    result = Evaluation(student, 16, "dropout_bn", "train")
    steps = ref.reference_steps(16, "dropout_bn")
    if any(g is None for g in result.step_gradients):
        raise CheckFailure(f"after {result.what}, a training step got no gradients: gradients were left switched "
                           "off; use `with torch.no_grad():`, which switches them back on")
    # judged in the mode the model was left in: a mode not restored costs the check on modes, not this one
    _, expected_gradients = steps[mode_of(result.step_output, steps) or "train"]
    for gradient, expected in zip(result.step_gradients, expected_gradients):
        assert_close(gradient, expected, f"the gradients of a training step after {result.what} (evaluate should "
                     "leave no gradient behind: it runs no backward pass)", STEP_RTOL, STEP_ATOL)


@EVALUATE_DETAIL
def test_evaluate_leaves_the_parameters_and_buffers_unchanged(student):
    """changes none of the model's parameters or buffers (batch-norm running statistics included)"""
    result = Evaluation(student, 14, "dropout_bn", "train")
    expected = ref.reference_state(14, "dropout_bn")
    # the running statistics were accumulated in float32 on another number of threads: equal up to rounding;
    # one forward pass in training mode moves them by a tenth of the way to the batch's statistics
    if len(result.state) != len(expected) or not all(
            np.shape(a) == np.shape(e) and np.allclose(a, e, rtol=1e-5, atol=1e-6) for a, e in zip(result.state, expected)):
        raise CheckFailure(f"{result.what} changed the model's parameters or buffers (batch normalisation updates "
                           "its running statistics on a forward pass in training mode)")


@EVALUATE_DETAIL
def test_evaluate_returns_two_python_floats(student):
    """returns (loss, accuracy) as two Python floats, not tensors"""
    result = Evaluation(student, 15, "plain", "eval")
    if not all(result.are_floats):
        raise CheckFailure(f"{result.what} returned tensors or other types; return Python floats (tensor.item())")

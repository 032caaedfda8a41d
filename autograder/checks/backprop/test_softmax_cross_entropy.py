"""Hidden checks of softmax_cross_entropy: loss and gradient against PyTorch, stability, shapes."""
import numpy as np
import pytest

from autograder.checking import (DETAIL, FORMULA, CheckFailure, assert_close, assert_no_warnings, assert_shape,
                                 assert_unchanged)

from .references import cross_entropy

LOSS_FORMULA = pytest.mark.cell("test_softmax_cross_entropy", weight=FORMULA)
LOSS_DETAIL = pytest.mark.cell("test_softmax_cross_entropy", weight=DETAIL)
LARGE = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [0.0, 1000.0, 999.0], [-710.0, 710.0, 0.0],
                  [1e4, 1e4 - 1.0, -1e4]])
LARGE_Y = np.array([2, 0, 1, 0, 1])


def batch(shape, seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, scale, shape), rng.integers(0, shape[1], shape[0])


def loss_and_grad(student, logits, y, what="softmax_cross_entropy"):
    result = student.call("softmax_cross_entropy", logits, y)
    if not isinstance(result.value, (list, tuple)) or len(result.value) != 2:
        raise CheckFailure(f"{what} returned a {result.type_name}; it should return a pair (loss, dlogits)")
    loss, dlogits = result.value
    if np.ndim(loss) != 0:
        raise CheckFailure(f"{what}: the loss should be one number (the mean over the batch), "
                           f"not an array of shape {np.shape(loss)}")
    return loss, dlogits, result


def assert_mean_over_the_batch(value, expected, n, what, mistake):
    """`value` is `expected`, a mean over a batch of `n`; a value n times too large says so, with `mistake` (the
    sum's symptom, in misconceptions.toml's words)."""
    try:
        assert_close(value, expected, what)
    except CheckFailure as failure:
        try:
            assert_close(value, n * np.asarray(expected), what)
        except CheckFailure:
            raise failure from None
        raise CheckFailure(f"{failure}: {mistake}") from None


@LOSS_FORMULA
def test_loss_matches_pytorch_cross_entropy(student):
    """returns the mean cross-entropy over the batch, as one number"""
    for shape, seed in [((20, 5), 30), ((7, 2), 31)]:
        logits, y = batch(shape, seed)
        loss, _, _ = loss_and_grad(student, logits, y)
        assert_mean_over_the_batch(loss, cross_entropy(logits, y)[0], shape[0],
                                   f"softmax_cross_entropy: the loss for a batch of {shape[0]}",
                                   "it is the sum over the batch, not the mean")


@LOSS_FORMULA
def test_dlogits_matches_pytorch_autograd(student):
    """returns dlogits = (softmax - onehot) / batch, the gradient of the mean loss"""
    for shape, seed in [((20, 5), 32), ((7, 2), 33)]:
        logits, y = batch(shape, seed)
        _, dlogits, _ = loss_and_grad(student, logits, y)
        assert_mean_over_the_batch(dlogits, cross_entropy(logits, y)[1], shape[0],
                                   f"softmax_cross_entropy: dlogits for a batch of {shape[0]}",
                                   "they are batch times too large, the gradient of the sum over the batch")


@LOSS_FORMULA
def test_large_logits_are_finite_and_warning_free(student):
    """stays finite and correct, with no overflow warning, for logits as large as 1e4"""
    loss, dlogits, result = loss_and_grad(student, LARGE, LARGE_Y, "softmax_cross_entropy on logits as large as 1e4")
    assert_no_warnings(result, "softmax_cross_entropy on logits as large as 1e4")
    expected_loss, expected_dlogits = cross_entropy(LARGE, LARGE_Y)
    assert_close(loss, expected_loss, "softmax_cross_entropy on logits as large as 1e4: the loss")
    assert_close(dlogits, expected_dlogits, "softmax_cross_entropy on logits as large as 1e4: dlogits")


@LOSS_DETAIL
def test_works_for_a_batch_of_one_and_many_classes(student):
    """works for a batch of one and for ten classes, with dlogits shaped like the logits"""
    for shape, seed in [((1, 4), 34), ((12, 10), 35), ((3, 1), 36)]:
        logits, y = batch(shape, seed)
        loss, dlogits, _ = loss_and_grad(student, logits, y)
        assert_shape(dlogits, shape, "softmax_cross_entropy's dlogits",
                     contract="dlogits = (softmax(logits) - onehot(y)) / batch, of shape (batch, n_classes)")
        expected_loss, expected_dlogits = cross_entropy(logits, y)
        assert_close(loss, expected_loss, f"softmax_cross_entropy: the loss for logits of shape {shape}")
        assert_close(dlogits, expected_dlogits, f"softmax_cross_entropy: dlogits for logits of shape {shape}")


@LOSS_DETAIL
def test_inputs_are_not_modified(student):
    """does not change the logits or the labels"""
    logits, y = batch((9, 4), 37)
    _, _, result = loss_and_grad(student, logits, y)
    assert_unchanged(logits, result.args_after[0], "softmax_cross_entropy")
    assert_unchanged(y, result.args_after[1], "softmax_cross_entropy")

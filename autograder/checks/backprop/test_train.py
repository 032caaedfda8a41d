"""Hidden checks of train on two noisy rings (make_circles): accuracy and loss are computed here, not trusted."""
import numpy as np
import pytest
from sklearn.datasets import make_circles

from autograder.checking import CheckFailure, assert_close, assert_unchanged

from . import references as ref
from .references import as_layers, layer_shapes

TRAIN = pytest.mark.cell("test_train")
X, Y = make_circles(n_samples=400, factor=0.5, noise=0.08, random_state=0)
SIZES, LR, EPOCHS = [2, 16, 16, 2], 0.5, 300  # the reference reaches accuracy 1.0 by epoch 200 for every seed
TIMEOUT = 60  # seconds per call: training takes longer than the default limit allows


def train(student, activation, lr=LR, epochs=EPOCHS, seed=0, sizes=SIZES):
    what = f"train({activation!r}, lr={lr}, epochs={epochs})"
    result = student.call("train", X, Y, sizes, activation, lr, epochs, seed, _timeout=TIMEOUT)
    return as_layers(result.value, layer_shapes(sizes), what), result


def assert_fits(params, activation, at_least):
    accuracy = ref.accuracy(X, Y, params, activation)
    if not accuracy >= at_least:
        raise CheckFailure(f"train({activation!r}): the trained network classifies {accuracy:.0%} of the rings "
                           f"correctly; at least {at_least:.0%} is due (is the update W -= lr * dW?)")


@TRAIN
def test_a_tanh_network_fits_the_circles(student):
    """trains a tanh network that classifies at least 95% of the circles correctly"""
    assert_fits(train(student, "tanh", seed=0)[0], "tanh", 0.95)


@TRAIN
def test_a_relu_network_fits_the_circles(student):
    """trains a ReLU network that classifies at least 95% of the circles correctly"""
    assert_fits(train(student, "relu", seed=1)[0], "relu", 0.95)


@TRAIN
def test_a_linear_network_cannot_fit_the_circles(student):
    """returns, for the identity activation, a linear network that stays at or below 75% on the circles"""
    params, _ = train(student, "identity", seed=2)
    accuracy = ref.accuracy(X, Y, params, "identity")
    if not (np.isfinite(accuracy) and accuracy <= 0.75) or not all(np.isfinite(p).all() for pair in params
                                                                    for p in pair):
        raise CheckFailure("train('identity') returned parameters whose linear network separates the rings, "
                           "or that are not finite")


@TRAIN
def test_train_starts_from_init_params_with_the_right_scheme(student):
    """with epochs=0, returns init_params(sizes, 'he' for relu else 'xavier', seed)"""
    for activation, scheme in [("relu", "he"), ("tanh", "xavier"), ("identity", "xavier")]:
        start, _ = train(student, activation, epochs=0, seed=3)
        expected = as_layers(student.init_params(SIZES, scheme, 3), layer_shapes(SIZES), "init_params")
        for i, ((W, b), (eW, eb)) in enumerate(zip(start, expected)):
            if not (np.array_equal(W, eW) and np.array_equal(b, eb)):
                raise CheckFailure(f"train({activation!r}, epochs=0) does not return init_params(sizes, {scheme!r}, "
                                   f"seed) (layer {i} differs)")


@TRAIN
def test_train_takes_gradient_descent_steps_of_size_lr(student):
    """takes full-batch steps W -= lr * dW of the mean cross-entropy, with the lr it is given"""
    for activation, lr in [("tanh", 0.25), ("relu", 0.8)]:
        start, _ = train(student, activation, epochs=0, seed=4)
        after, _ = train(student, activation, lr=lr, epochs=3, seed=4)
        expected = ref.gradient_descent(X, Y, start, activation, lr, 3)
        for i, ((W, b), (eW, eb)) in enumerate(zip(after, expected)):
            what = f"train({activation!r}, lr={lr}, epochs=3) compared with 3 steps from its start"
            assert_close(W, eW, f"{what}: W of layer {i}", rtol=1e-8, atol=1e-10)
            assert_close(b, eb, f"{what}: b of layer {i}", rtol=1e-8, atol=1e-10)


@TRAIN
def test_training_lowers_the_loss(student):
    """lowers the cross-entropy (computed by the grader) well below its value at the start"""
    start, _ = train(student, "tanh", epochs=0, seed=5)
    trained, _ = train(student, "tanh", seed=5)
    before, after = ref.loss(X, Y, start, "tanh"), ref.loss(X, Y, trained, "tanh")
    if not after < 0.5 * before:
        raise CheckFailure(f"train('tanh', epochs={EPOCHS}) took the loss from {before:.3g} to {after:.3g}; "
                           "it should fall to less than half")


@TRAIN
def test_train_is_reproducible_and_leaves_its_inputs_unchanged(student):
    """gives the same parameters for the same seed, and does not change X or y"""
    first, result = train(student, "relu", epochs=50, seed=6)
    assert_unchanged(X, result.args_after[0], "train")
    assert_unchanged(Y, result.args_after[1], "train")
    again, _ = train(student, "relu", epochs=50, seed=6)
    if not all(np.array_equal(a, b) for p, q in zip(first, again) for a, b in zip(p, q)):
        raise CheckFailure("train gave different parameters for the same seed")

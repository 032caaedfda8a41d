"""Hidden checks of train on two noisy rings: accuracy and loss are computed here, not trusted.

The rings are drawn here, unlike any data the notebook shows (other radii, centre, noise, size and seeds,
and the labels the other way round), and the fitted networks are scored on a second draw they never saw:
a `train` that returns parameters fitted once to the notebook's rings, or memorised, fails.
"""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, as_layers, assert_close, assert_unchanged

from . import references as ref
from .references import layer_shapes

TRAIN_FORMULA = pytest.mark.cell("test_train", weight=FORMULA)
TRAIN_DETAIL = pytest.mark.cell("test_train", weight=DETAIL)
# the reference reaches accuracy 1.0 on both draws for every seed (train seeds differ from the notebook's 0)
SIZES, LR, EPOCHS = [2, 16, 16, 2], 0.5, 300
TIMEOUT = 60  # seconds per call: training takes longer than the default limit allows


def rings_for(student):
    """(X, y) to train on and a second draw of the same rings, seeded by the submission's own code: the same
    notebook always gets the same data, and no notebook can hold parameters fitted to data drawn from a seed
    that depends on the notebook itself (nor can one who has read this file know the data in advance)."""
    seed = int(student.fingerprint[:12], 16)
    return ref.rings(150, seed=seed), ref.rings(150, seed=seed + 1)


def train(student, activation, lr=LR, epochs=EPOCHS, seed=10, sizes=SIZES):
    """The student's trained params (finite, of the right shapes: as_layers checks), and the call's result."""
    what = f"train({activation!r}, lr={lr}, epochs={epochs})"
    (X, Y), _ = rings_for(student)
    result = student.call("train", X, Y, sizes, activation, lr, epochs, seed, _timeout=TIMEOUT)
    return as_layers(result.value, layer_shapes(sizes), what), result


def assert_fits(student, params, activation, at_least):
    (X, Y), (X_NEW, Y_NEW) = rings_for(student)
    for X_, Y_, which in ((X, Y, "the rings it was trained on"), (X_NEW, Y_NEW, "a new draw of the same rings")):
        accuracy = ref.accuracy(X_, Y_, params, activation)
        if not accuracy >= at_least:
            raise CheckFailure(f"train({activation!r}): the trained network classifies {accuracy:.0%} of {which} "
                               f"correctly; at least {at_least:.0%} is due (is the update W -= lr * dW?)")


@TRAIN_FORMULA
def test_a_tanh_network_fits_the_circles(student):
    """trains a tanh network that classifies at least 95% of the circles correctly, and of a new draw of them"""
    assert_fits(student, train(student, "tanh", seed=10)[0], "tanh", 0.95)


@TRAIN_FORMULA
def test_a_relu_network_fits_the_circles(student):
    """trains a ReLU network that classifies at least 95% of the circles correctly, and of a new draw of them"""
    assert_fits(student, train(student, "relu", seed=11)[0], "relu", 0.95)


@TRAIN_FORMULA
def test_a_linear_network_cannot_fit_the_circles(student):
    """returns, for the identity activation, a linear network that stays at or below 75% on the circles"""
    params, _ = train(student, "identity", seed=12)  # finite: as_layers refuses nan and inf
    (X, Y), _ = rings_for(student)
    accuracy = ref.accuracy(X, Y, params, "identity")
    if not accuracy <= 0.75:
        raise CheckFailure(f"train('identity') returned a linear network that classifies {accuracy:.0%} of the "
                           "rings correctly; no straight line does better than 75%")


@TRAIN_DETAIL
def test_train_starts_from_init_params_with_the_right_scheme(student):
    """with epochs=0, returns init_params(sizes, 'he' for relu else 'xavier', seed)"""
    for activation, scheme in [("relu", "he"), ("tanh", "xavier"), ("identity", "xavier")]:
        start, _ = train(student, activation, epochs=0, seed=13)
        expected = as_layers(student.init_params(SIZES, scheme, 13), layer_shapes(SIZES), "init_params")
        for i, ((W, b), (eW, eb)) in enumerate(zip(start, expected)):
            if not (np.array_equal(W, eW) and np.array_equal(b, eb)):
                raise CheckFailure(f"train({activation!r}, epochs=0) does not return init_params(sizes, {scheme!r}, "
                                   f"seed) (layer {i} differs)")


@TRAIN_FORMULA
def test_train_takes_gradient_descent_steps_of_size_lr(student):
    """takes full-batch steps W -= lr * dW of the mean cross-entropy, with the lr it is given"""
    for activation, lr in [("tanh", 0.25), ("relu", 0.8)]:
        start, _ = train(student, activation, epochs=0, seed=14)
        after, _ = train(student, activation, lr=lr, epochs=3, seed=14)
        (X, Y), _ = rings_for(student)
        expected = ref.gradient_descent(X, Y, start, activation, lr, 3)
        try:
            assert_same_params(after, expected, f"train({activation!r}, lr={lr}, epochs=3) compared with 3 steps "
                                                "from its start")
        except CheckFailure as failure:
            # the steps a common mistake takes instead, in misconceptions.toml's words
            for mistake, params in [("the parameters have not moved from their start", start),
                                    ("they are steps up the gradient, W + lr * dW",
                                     ref.gradient_descent(X, Y, start, activation, -lr, 3)),
                                    ("the weights took the steps due, but the biases never moved",
                                     ref.gradient_descent(X, Y, start, activation, lr, 3, update_biases=False))]:
                try:
                    assert_same_params(after, params, "")
                except CheckFailure:
                    continue
                raise CheckFailure(f"{failure}: {mistake}") from None
            raise


def assert_same_params(params, expected, what):
    for i, ((W, b), (eW, eb)) in enumerate(zip(params, expected)):
        assert_close(W, eW, f"{what}: W of layer {i}", rtol=1e-8, atol=1e-10)
        assert_close(b, eb, f"{what}: b of layer {i}", rtol=1e-8, atol=1e-10)


@TRAIN_FORMULA
def test_training_lowers_the_loss(student):
    """lowers the cross-entropy (computed by the grader) well below its value at the start"""
    start, _ = train(student, "tanh", epochs=0, seed=15)
    trained, _ = train(student, "tanh", seed=15)
    (X, Y), _ = rings_for(student)
    before, after = ref.loss(X, Y, start, "tanh"), ref.loss(X, Y, trained, "tanh")
    if not after < 0.5 * before:
        raise CheckFailure(f"train('tanh', epochs={EPOCHS}) took the loss from {before:.3g} to {after:.3g}; "
                           "it should fall to less than half")


@TRAIN_DETAIL
def test_train_is_reproducible_and_leaves_its_inputs_unchanged(student):
    """gives the same parameters for the same seed and others for another seed, and does not change X or y"""
    first, result = train(student, "relu", epochs=50, seed=16)
    (X, Y), _ = rings_for(student)
    assert_unchanged(X, result.args_after[0], "train")
    assert_unchanged(Y, result.args_after[1], "train")
    again, _ = train(student, "relu", epochs=50, seed=16)
    if not all(np.array_equal(a, b) for p, q in zip(first, again) for a, b in zip(p, q)):
        raise CheckFailure("train gave different parameters for the same seed")
    other, _ = train(student, "relu", epochs=50, seed=17)
    if all(np.array_equal(a, b) for p, q in zip(first, other) for a, b in zip(p, q)):
        raise CheckFailure("train gave the same parameters for two different seeds: start from "
                           "init_params(sizes, scheme, seed) with the seed it is given")

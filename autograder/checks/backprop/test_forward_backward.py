"""Hidden checks of forward and backward: logits and gradients against PyTorch and centred differences."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, as_layers, assert_close, assert_raises, assert_unchanged
from autograder.codec import Kept

from . import references as ref
from .references import ACTIVATIONS, layer_shapes, random_net

FORWARD_DETAIL = pytest.mark.cell("test_forward", weight=DETAIL)
BACKWARD_DETAIL = pytest.mark.cell("test_backward", weight=DETAIL)
SIZES = [3, 5, 4, 2]  # every width different: a missing transpose cannot go unnoticed
# Sums of a few products in another order: a correct implementation is this close to autograd.
RTOL, ATOL = 1e-9, 1e-11


def each_activation(cell, weight):
    return pytest.mark.parametrize("activation", [pytest.param(a, id=a, marks=pytest.mark.cell(cell, weight=weight))
                                                  for a in ACTIVATIONS])


def student_forward(student, X, params, activation, key="forward"):
    """The student's logits, with the whole result kept in the worker under `key` (its cache is item 1)."""
    result = student.call("forward", X, params, activation, _keep=key)
    if not isinstance(result.value, (list, tuple)) or len(result.value) != 2:
        raise CheckFailure(f"forward returned a {result.type_name}; it should return a pair (logits, cache)")
    return result.value[0], result


def student_backward(student, X, params, activation, dlogits, key="forward"):
    """The student's gradients for dlogits, from the cache of the student's own forward pass."""
    student_forward(student, X, params, activation, key)
    grads = student.backward(dlogits, Kept(key, (1,)))
    return as_layers(grads, layer_shapes([params[0][0].shape[0]] + [b.shape[0] for _, b in params]),
                     f"backward ({activation})", names=("dW", "db"))


def assert_grads_close(grads, expected, what, batch, rtol=RTOL, atol=ATOL):
    """The student's [(dW, db)] (as_layers has checked their shapes) are `expected`; a failure says which of the
    known patterns the wrong gradients follow (misconceptions.toml explains each to the student)."""
    try:
        for i, ((dW, db), (eW, eb)) in enumerate(zip(grads, expected)):
            assert_close(dW, eW, f"{what}: dW of layer {i}", rtol=rtol, atol=atol)
            assert_close(db, eb, f"{what}: db of layer {i}", rtol=rtol, atol=atol)
    except CheckFailure as failure:
        raise CheckFailure(f"{failure}{grads_diagnosis(grads, expected, batch, rtol, atol)}") from None


def grads_diagnosis(grads, expected, batch, rtol, atol):
    """What the wrong gradients have in common, as a phrase to append to the failure, or ""."""
    def close(a, b):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol))  # nan is never close
    weights_right = all(close(dW, eW) for (dW, _), (eW, _) in zip(grads, expected))
    if weights_right and not any(np.any(db) for _, db in grads):
        return "; dW is right in every layer, but db is all zeros"
    if weights_right and all(close(batch * db, eb) for (_, db), (_, eb) in zip(grads, expected)):
        return "; dW is right in every layer, but db is the mean over the batch, not the sum"
    (dW, db), (eW, eb) = grads[-1], expected[-1]
    if len(grads) > 1 and close(dW, eW) and close(db, eb):
        return "; the last layer's dW and db are right, so the step back through the activation goes wrong"
    return ""


def assert_logits(logits, X, params, activation, what):
    """The logits are PyTorch's; wrong values that are those of a known look-alike say so (misconceptions.toml
    explains each to the student)."""
    try:
        assert_close(logits, ref.pytorch_logits(X, params, activation), what, RTOL, ATOL)
    except CheckFailure as failure:
        look_alikes = [("the activation applied to the logits too",
                        ref.logits_like(X, params, activation, last=activation)),
                       ("a network without its biases", ref.logits_like(X, params, activation, biases=False))]
        look_alikes += [(f"the activation {other!r} in place of {activation!r}", ref.logits_like(X, params, other))
                        for other in ACTIVATIONS if other != activation]
        for look_alike, values in look_alikes:
            try:
                assert_close(logits, values, what, RTOL, ATOL)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


@each_activation("test_forward", FORMULA)
def test_forward_logits_match_pytorch(student, activation):
    """returns the right logits, with the activation between layers and none after the last layer"""
    X, params, _ = random_net(SIZES, batch=6, seed=10)
    logits, _ = student_forward(student, X, params, activation)
    assert_logits(logits, X, params, activation, f"forward ({activation}): the logits")


@FORWARD_DETAIL
def test_forward_works_for_any_depth_and_batch(student):
    """works for one layer, for four layers and for a batch of one"""
    for sizes, batch, activation in [([4, 3], 5, "relu"), ([2, 6, 6, 6, 3], 7, "tanh"), ([3, 5, 4, 2], 1, "sigmoid")]:
        X, params, _ = random_net(sizes, batch, seed=11)
        logits, _ = student_forward(student, X, params, activation)
        assert_logits(logits, X, params, activation, f"forward ({activation}) on sizes {sizes} with a batch of {batch}")


@FORWARD_DETAIL
def test_forward_does_not_modify_its_input(student):
    """does not change X"""
    X, params, _ = random_net(SIZES, batch=6, seed=12)
    _, result = student_forward(student, X, params, "relu")
    assert_unchanged(X, result.args_after[0], "forward")


@FORWARD_DETAIL
def test_forward_rejects_an_unknown_activation(student):
    """raises ValueError for an activation other than 'identity', 'relu', 'tanh' and 'sigmoid'"""
    X, params, _ = random_net(SIZES, batch=2, seed=13)
    assert_raises(lambda: student.call("forward", X, params, "softsign", _keep="unknown"),
                  "forward with activation 'softsign'")


@each_activation("test_backward", FORMULA)
def test_backward_matches_pytorch_autograd(student, activation):
    """gives the same dW and db as PyTorch's autograd for a small network"""
    X, params, dlogits = random_net(SIZES, batch=6, seed=20)
    grads = student_backward(student, X, params, activation, dlogits)
    assert_grads_close(grads, ref.vjp(X, params, activation, dlogits), f"backward ({activation})", len(X))


@each_activation("test_backward", FORMULA)
def test_backward_matches_centred_differences(student, activation):
    """agrees with centred differences of sum(logits * dlogits) computed by the grader"""
    X, params, dlogits = random_net(SIZES, batch=4, seed=21)
    grads = student_backward(student, X, params, activation, dlogits)
    # centred differences with h = 1e-6 are accurate to about 1e-9 here
    assert_grads_close(grads, ref.numerical_vjp(X, params, activation, dlogits),
                       f"backward ({activation}) against centred differences", len(X), rtol=1e-6, atol=1e-8)


@BACKWARD_DETAIL
def test_backward_returns_one_pair_per_layer_with_the_params_shapes(student):
    """returns a list of (dW, db) in the order of params, dW shaped like W and db like b"""
    for sizes, batch in [([3, 5, 4, 2], 6), ([2, 7, 3], 1)]:
        X, params, dlogits = random_net(sizes, batch, seed=22)
        student_backward(student, X, params, "tanh", dlogits)  # as_layers checks count, order and shapes


@BACKWARD_DETAIL
def test_backward_works_for_any_depth_and_batch(student):
    """gives the right gradients for one layer, for four layers and for a batch of one"""
    for sizes, batch, activation in [([4, 3], 5, "relu"), ([2, 6, 6, 6, 3], 7, "tanh"), ([3, 5, 4, 2], 1, "sigmoid")]:
        X, params, dlogits = random_net(sizes, batch, seed=23)
        grads = student_backward(student, X, params, activation, dlogits)
        assert_grads_close(grads, ref.vjp(X, params, activation, dlogits),
                           f"backward ({activation}) on sizes {sizes} with a batch of {batch}", batch)


def assert_same_grads(grads, first, what):
    """`grads` equal to the student's own `first` gradients, which must not be all zero."""
    if not any(np.any(dW != 0) for dW, _ in first):
        raise CheckFailure("backward returned only zeros for a network whose gradients are not zero")
    for i, ((dW, db), (fW, fb)) in enumerate(zip(grads, first)):
        if not (np.allclose(dW, fW, rtol=1e-12, atol=0) and np.allclose(db, fb, rtol=1e-12, atol=0)):
            raise CheckFailure(f"{what}: the gradients of layer {i} changed")


@BACKWARD_DETAIL
def test_backward_uses_the_cache_it_is_given(student):
    """uses the cache it is given, not whatever the last forward pass left behind"""
    X, params, dlogits = random_net(SIZES, batch=6, seed=24)
    X2, params2, _ = random_net(SIZES, batch=6, seed=25)
    shapes, what = layer_shapes(SIZES), "backward with the cache of an earlier forward pass"
    student_forward(student, X, params, "tanh", key="first")
    right_after = as_layers(student.backward(dlogits, Kept("first", (1,))), shapes, "backward", names=("dW", "db"))
    student_forward(student, X2, params2, "relu", key="second")
    later = as_layers(student.backward(dlogits, Kept("first", (1,))), shapes, what, names=("dW", "db"))
    assert_same_grads(later, right_after, f"{what} (after another forward pass)")


@BACKWARD_DETAIL
def test_backward_leaves_dlogits_and_the_cache_unchanged(student):
    """does not change dlogits or the cache: a second call gives the same gradients"""
    X, params, dlogits = random_net(SIZES, batch=6, seed=26)
    shapes = layer_shapes(SIZES)
    student_forward(student, X, params, "sigmoid", key="twice")
    first = student.call("backward", dlogits, Kept("twice", (1,)))
    assert_unchanged(dlogits, first.args_after[0], "backward")
    second = student.backward(dlogits, Kept("twice", (1,)))
    assert_same_grads(as_layers(second, shapes, "backward called twice on one cache", names=("dW", "db")),
                      as_layers(first.value, shapes, "backward", names=("dW", "db")),
                      "backward called a second time on the same cache")

"""Hidden checks of dead_fraction: networks with units killed on purpose, every activation, side effects."""
import numpy as np
import pytest

from autograder.checking import (DETAIL, FORMULA, CheckFailure, as_numbers_per_layer, assert_close,
                                 assert_list_of_python_floats)
from autograder.proxy import Student

from . import probes
from . import references as ref

DEAD_FORMULA = pytest.mark.cell("test_dead_fraction", weight=FORMULA)
DEAD_DETAIL = pytest.mark.cell("test_dead_fraction", weight=DETAIL)
ATOL = 1e-6  # fractions are multiples of 1 / width; a float32 mean is this close


def student_dead(student, seed, config, calls=1):
    """(results of each call, hooks left, parameters after, gradients of a training step after)."""
    return student.call("dead_fraction_probe", Student("dead_fraction"), seed, config, calls, _program=probes).value


def what(config):
    kills = ", ".join(f"{count} units of hidden layer {layer + 1}" for layer, count in config.get("kill", ()))
    return (f"dead_fraction on a {config.get('activation', 'relu')} network with {config.get('depth', 3)} hidden "
            f"layers" + (f" ({kills} killed)" if kills else ""))


def fractions(result, config):
    """What one call returned, as floats; a CheckFailure if it is not one number per hidden layer."""
    give = "give one fraction per hidden layer (the activation modules), none for the output"
    depth = config.get("depth", 3)
    try:
        return as_numbers_per_layer(result, depth, what(config), layer="hidden layer", layers="hidden layers",
                                    give=give)
    except CheckFailure as failure:
        count = len(result) if isinstance(result, (list, tuple)) else None
        if count == depth + 1:
            raise CheckFailure(f"{failure}: one more, as if the output layer were a hidden layer") from None
        if count == 0 and config.get("activation", "relu") != "relu":
            raise CheckFailure(f"{failure}: none at all on a network without nn.ReLU modules") from None
        if count is not None and 0 < count < depth:
            raise CheckFailure(f"{failure}: fewer, so some hidden layers are missing") from None
        raise


# what a common mistake returns instead (references.other_dead_fractions), as the message names it
LOOK_ALIKES = {"some rows": "the fractions of units off on at least one row, not on every row",
               "entries": "the fractions of all outputs (rows times units) that are <= 0, not of units off on "
                          "every row",
               "exactly zero": "the fractions of units exactly 0 on every row: a unit off everywhere can output "
                               "negative values",
               "count": "the numbers of dead units, not their fractions",
               "always on": "the fractions of units on (> 0) on every row: the test is the wrong way round"}


def assert_fractions(values, seed, config, what):
    """The fractions equal the grader's; wrong ones that a common mistake gives say which (misconceptions.toml
    explains each to the student)."""
    try:
        assert_close(values, ref.reference_dead_fraction(seed, config), what, rtol=0.0, atol=ATOL)
    except CheckFailure as failure:
        for mistake, other in ref.other_dead_fractions(seed, config).items():
            try:
                assert_close(values, other, what, rtol=0.0, atol=ATOL)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are {LOOK_ALIKES[mistake]}") from None
        raise


def check_values(student, seed, config):
    (results, *_) = student_dead(student, seed, config)
    values = fractions(results[0], config)
    assert_fractions(values, seed, config, what(config))


@DEAD_FORMULA
def test_counts_relu_units_killed_on_purpose(student):
    """counts the ReLU units killed on purpose in chosen hidden layers"""
    for seed, config in [(1, dict(depth=3, width=12, kill=[(0, 3), (2, 7)])),
                         (2, dict(depth=5, width=8, kill=[(1, 2), (3, 5), (4, 1)], batch=30)),
                         (3, dict(depth=2, width=20, kill=[(1, 11)], n_in=4, init=None))]:
        check_values(student, seed, config)


@DEAD_FORMULA
def test_layers_entirely_dead_and_entirely_alive(student):
    """gives 1 for a layer whose units are all dead and 0 for a layer with none dead"""
    for seed, config in [(4, dict(depth=3, width=10, kill=[(0, 10)])),
                         (5, dict(depth=4, width=6, kill=[(3, 6)], batch=200)),
                         (6, dict(depth=2, width=16, batch=300))]:
        check_values(student, seed, config)


@DEAD_FORMULA
def test_a_unit_that_is_zero_on_only_some_rows_is_alive(student):
    """counts a unit as dead only when it is off on every row, not on some"""
    for seed, config in [(7, dict(depth=3, width=24, batch=100)), (8, dict(depth=2, width=32, batch=64, kill=[(0, 4)]))]:
        check_values(student, seed, config)


@pytest.mark.parametrize("activation", [pytest.param(a, id=a, marks=DEAD_FORMULA) for a in ["leaky_relu", "gelu"]])
def test_negative_outputs_on_every_row_count_as_dead(student, activation):
    """counts a Leaky ReLU or GELU unit as dead when its output is <= 0 on every row"""
    for seed, config in [(9, dict(activation=activation, depth=3, width=10, kill=[(1, 4)])),
                         (10, dict(activation=activation, depth=2, width=12, kill=[(0, 12), (1, 3)]))]:
        check_values(student, seed, config)


@DEAD_DETAIL
def test_returns_a_list_of_python_floats_one_per_hidden_layer(student):
    """returns a list of Python floats, one per hidden layer and none for the output layer"""
    for seed, config in [(11, dict(depth=1)), (12, dict(depth=4, width=5)), (13, dict(depth=6, width=3))]:
        (results, *_) = student_dead(student, seed, config)
        fractions(results[0], config)
        assert_list_of_python_floats(results[0], "dead_fraction", ".item()")


@DEAD_DETAIL
def test_hooks_are_removed_and_the_model_is_left_unchanged(student):
    """removes its hooks and leaves the model, and PyTorch's gradient mode, as they were: a training step afterwards gets the right gradients"""
    seed, config = 14, dict(depth=3, width=8, kill=[(1, 3)])
    _, hooks, params, gradients = student_dead(student, seed, config)
    if hooks:
        raise CheckFailure(f"dead_fraction left {hooks} hook(s) attached to the model: remove each one "
                           "(handle.remove()) once the forward pass is done")
    model, _ = ref.build(seed, **config)
    expected = [p.detach().double().numpy() for p in model.parameters()]
    if len(params) != len(expected) or not all(np.array_equal(a, e) for a, e in zip(params, expected)):
        raise CheckFailure("dead_fraction changed the model's parameters: it should only measure")
    if len(gradients) != len(expected) or any(g is None for g in gradients):
        raise CheckFailure("after dead_fraction, a training step got no gradients: gradients were left switched "
                           "off (use `with torch.no_grad():`, which switches them back on), or the parameters "
                           "no longer require them")
    for gradient, expected_gradient in zip(gradients, ref.reference_training_step(seed, config)):
        assert_close(gradient, expected_gradient, "the gradients of a training step after dead_fraction "
                     "(it should leave the model computing as before)", rtol=1e-9, atol=1e-12)


@DEAD_DETAIL
def test_two_calls_give_the_same_result(student):
    """gives the same fractions when called twice on the same model and batch"""
    seed, config = 15, dict(depth=4, width=9, kill=[(0, 2), (2, 5)])
    (results, *_) = student_dead(student, seed, config, calls=2)
    for call, result in zip(["first", "second"], results):
        assert_fractions(fractions(result, config), seed, config, f"{what(config)}, {call} call")


@DEAD_FORMULA
def test_works_for_float32_and_for_a_batch_of_one(student):
    """works for a float32 network and for a batch of a single example"""
    for seed, config in [(16, dict(depth=3, width=16, kill=[(1, 6)], dtype="float32", batch=50)),
                         (17, dict(depth=3, width=10, batch=1, kill=[(2, 3)]))]:
        check_values(student, seed, config)

"""Hidden checks of layer_grad_norms: values against the grader's float64 autograd, side effects."""
import numpy as np
import pytest

from autograder.checking import (DETAIL, FORMULA, CheckFailure, as_numbers_per_layer, assert_close,
                                 assert_list_of_python_floats)
from autograder.proxy import Student

from . import probes
from . import references as ref

NORMS_FORMULA = pytest.mark.cell("test_layer_grad_norms", weight=FORMULA)
NORMS_DETAIL = pytest.mark.cell("test_layer_grad_norms", weight=DETAIL)
RTOL, ATOL = 1e-9, 0.0  # float64 networks: only the order of a few sums can differ
RTOL32 = 1e-4           # float32 networks, against the float64 truth of the same weights

# (seed, network) pairs: every activation, several depths and widths, each scheme
NETWORKS = {
    "sigmoid": (1, dict(activation="sigmoid", depth=5, width=9, batch=11)),
    "tanh": (2, dict(activation="tanh", depth=3, width=7, batch=6, init="xavier")),
    "relu": (3, dict(activation="relu", depth=4, width=6, batch=8, init="he")),
    "gelu": (4, dict(activation="gelu", depth=2, width=5, batch=7, n_in=3, n_out=6)),
}


def student_norms(student, seed, config, **options):
    """[what each call returned], and the parameters after the calls."""
    return student.call("layer_grad_norms_probe", Student("layer_grad_norms"), seed, config, _program=probes,
                        **options).value


def what(config):
    return (f"layer_grad_norms on a {config.get('activation', 'relu')} network with "
            f"{config.get('depth', 3)} hidden layers")


def norms(result, config):
    """What one call returned, as floats; a CheckFailure if it is not one number per Linear layer."""
    n_layers = config.get("depth", 3) + 1
    try:
        return as_numbers_per_layer(result, n_layers, what(config), layer="nn.Linear layer",
                                    layers="Linear layers", give="give one norm per nn.Linear layer")
    except CheckFailure as failure:
        if isinstance(result, (list, tuple)) and len(result) == n_layers - 1:
            raise CheckFailure(f"{failure}: one fewer, as if the output layer were not an nn.Linear layer") from None
        raise


# what a common mistake returns instead (references.other_norms), as the message names it
LOOK_ALIKES = {"reversed": "the right norms in reverse order: the input layer comes first",
               "bias": "the norms of the biases' gradients, not the weights'",
               "weight and bias": "the norms of each layer's weight and bias gradients together, not the weight's "
                                  "alone",
               "squared": "the squared norms: the square root is missing",
               "weights": "the norms of the weights themselves, not of their gradients",
               "sum": "the norms for the summed loss, not the mean over the batch",
               "mse": "the norms for a mean squared error on one-hot labels, not the cross-entropy"}


def assert_norms(values, seed, config, what, rtol, atol):
    """The norms equal the grader's; wrong ones that a common mistake gives say which (misconceptions.toml
    explains each to the student)."""
    try:
        assert_close(values, ref.reference_norms(seed, config), what, rtol, atol)
    except CheckFailure as failure:
        for mistake, other in ref.other_norms(seed, config).items():
            try:
                assert_close(values, other, what, rtol, atol)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are {LOOK_ALIKES[mistake]}") from None
        raise


@pytest.mark.parametrize("name", [pytest.param(n, id=n, marks=NORMS_FORMULA) for n in NETWORKS])
def test_norms_match_autograd_for_each_activation(student, name):
    """gives the norm of each Linear layer's weight gradient, input layer first, for sigmoid, tanh, ReLU and GELU networks"""
    seed, config = NETWORKS[name]
    [result], _ = student_norms(student, seed, config)
    assert_norms(norms(result, config), seed, config, what(config), RTOL, ATOL)


@NORMS_DETAIL
def test_norms_are_right_for_one_layer_and_for_a_deep_sigmoid_network(student):
    """works for a single Linear layer and for a deep sigmoid network whose norms span many decades"""
    for seed, config in [(5, dict(depth=0, n_in=6, n_out=3, batch=9)),
                         (6, dict(activation="sigmoid", depth=12, width=10, batch=16))]:
        [result], _ = student_norms(student, seed, config)
        assert_norms(norms(result, config), seed, config, what(config), RTOL, ATOL)


@NORMS_DETAIL
def test_gradients_already_in_the_model_are_cleared_first(student):
    """clears gradients that the parameters already hold before the backward pass"""
    seed, config = 7, dict(activation="tanh", depth=3, width=8, batch=10)
    [result], _ = student_norms(student, seed, config, prefill=True)
    expected = ref.reference_norms(seed, config)
    values = norms(result, config)
    if not np.allclose(values, expected, rtol=1e-6, atol=0.0):
        accumulated = np.allclose(values, ref.accumulated_norms(seed, config), rtol=1e-6, atol=0.0)
        raise CheckFailure("layer_grad_norms on a model whose parameters already held gradients gave different "
                           "norms than on a fresh model: backward() adds to .grad, so clear it first"
                           + (": they are the norms of the old gradients plus the new ones" if accumulated else ""))


@NORMS_DETAIL
def test_two_calls_give_the_same_norms(student):
    """gives the same norms when called twice on the same model and batch"""
    seed, config = 8, dict(activation="relu", depth=3, width=8, batch=10, init="he")
    results, _ = student_norms(student, seed, config, calls=2)
    first, second = (norms(r, config) for r in results)
    assert_norms(first, seed, config, what(config), RTOL, ATOL)
    if not np.allclose(second, first, rtol=1e-6, atol=0.0):
        doubled = np.allclose(second, 2 * first, rtol=1e-6, atol=0.0)
        raise CheckFailure("layer_grad_norms gave other norms on its second call with the same model and batch: "
                           "does it clear the old gradients, and leave the weights alone?"
                           + (" The second call's norms are twice the first's: the old gradients plus the new ones"
                              if doubled else ""))


@NORMS_DETAIL
def test_the_parameters_are_left_unchanged(student):
    """leaves every weight and bias exactly as it was (no optimizer step)"""
    seed, config = 9, dict(activation="sigmoid", depth=2, width=6, batch=5, init="xavier")
    _, params = student_norms(student, seed, config, calls=2)
    expected = ref.parameters(seed, config)
    if len(params) != len(expected) or not all(np.array_equal(a, e) for a, e in zip(params, expected)):
        raise CheckFailure("layer_grad_norms changed the model's parameters: it should only measure "
                           "(no optimizer step, no in-place change of a weight)")


@NORMS_FORMULA
def test_the_loss_is_the_mean_over_the_batch(student):
    """uses the mean cross-entropy over the batch: the same batch repeated twice gives the same norms"""
    seed, config = 10, dict(activation="tanh", depth=2, width=6, batch=12)
    [result], _ = student_norms(student, seed, config, repeat_batch=True)
    values = norms(result, config)
    expected = ref.reference_norms(seed, config)
    if not np.allclose(values, expected, rtol=1e-6, atol=0.0):
        summed = np.allclose(values, 2 * config["batch"] * expected, rtol=1e-6, atol=0.0)
        raise CheckFailure("layer_grad_norms on a batch repeated twice should give the same norms as on the batch: "
                           "use the mean cross-entropy over the batch (F.cross_entropy's default), not the sum"
                           + (": they are the norms for the summed loss" if summed else ""))


@NORMS_DETAIL
def test_returns_a_list_of_python_floats_one_per_linear_layer(student):
    """returns a list of Python floats, one per nn.Linear layer"""
    for seed, config in [(11, dict(depth=0)), (12, dict(depth=1)), (13, dict(depth=6, width=4))]:
        [result], _ = student_norms(student, seed, config)
        norms(result, config)
        assert_list_of_python_floats(result, "layer_grad_norms", "tensor.item()")


@NORMS_FORMULA
def test_works_for_a_float32_network(student):
    """works for a float32 network (the dtype PyTorch uses by default)"""
    seed, config = 14, dict(activation="relu", depth=4, width=16, batch=32, init="he", n_in=12, dtype="float32")
    [result], _ = student_norms(student, seed, config)
    assert_norms(norms(result, config), seed, config, what(config) + " in float32", RTOL32, ATOL)

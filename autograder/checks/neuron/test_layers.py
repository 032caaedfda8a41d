"""Hidden checks of layers: dense_forward, mlp_forward and collapse_linear, against PyTorch in float64."""
import numpy as np
import pytest

from autograder.checking import (ATOL32, DETAIL, FORMULA, RTOL32, CheckFailure, assert_close, assert_dtype,
                                assert_raises, assert_shape, assert_unchanged)
from autograder.codec import Function

from . import references as ref
from .references import random_params

COLLAPSED = "Returns a tuple (W, b), W of shape (n_in, n_out) and b of shape (n_out,)"  # the notebook's words
DENSE_FORMULA = pytest.mark.cell("test_dense_forward", weight=FORMULA)
DENSE_DETAIL = pytest.mark.cell("test_dense_forward", weight=DETAIL)
MLP_FORMULA = pytest.mark.cell("test_mlp_forward", weight=FORMULA)
MLP_DETAIL = pytest.mark.cell("test_mlp_forward", weight=DETAIL)
COLLAPSE_FORMULA = pytest.mark.cell("test_collapse_linear", weight=FORMULA)
COLLAPSE_DETAIL = pytest.mark.cell("test_collapse_linear", weight=DETAIL)

TANH, RELU, SIN = "np.tanh", "lambda z: np.maximum(z, 0)", "np.sin"
NAN_EVERYWHERE = "lambda z: np.full_like(z, np.nan)"  # shows up in the logits if it is ever applied


def layer(batch, n_in, n_out, seed, dtype=np.float64):
    """X (batch, n_in), W (n_in, n_out), b (n_out,) with every shape different."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0.0, 2.0, (batch, n_in)).astype(dtype), rng.normal(0.0, 1.0, (n_in, n_out)).astype(dtype),
            rng.normal(0.0, 1.0, n_out).astype(dtype))


def inputs(batch, n_in, seed, dtype=np.float64):
    return np.random.default_rng(seed).normal(0.0, 1.0, (batch, n_in)).astype(dtype)


# -- dense_forward ------------------------------------------------------------------------------------

@DENSE_FORMULA
def test_dense_forward_values_for_non_square_shapes(student):
    """computes Z = X W + b with shape (batch, n_out), for non-square shapes and a batch of one"""
    for seed, shape in enumerate([(5, 4, 3), (1, 4, 3), (7, 2, 6), (3, 8, 1)]):
        X, W, b = layer(*shape, seed=seed)
        what = f"dense_forward with X of shape {X.shape} and W of shape {W.shape}"
        assert_close(student.dense_forward(X, W, b), ref.dense_forward(X, W, b), what)


@DENSE_FORMULA
def test_dense_forward_adds_the_bias_to_every_row(student):
    """adds b[j] to column j of every row (every example)"""
    _, W, b = layer(4, 3, 5, seed=10)
    X = np.zeros((4, 3))
    assert_close(student.dense_forward(X, W, b), ref.dense_forward(X, W, b), "dense_forward of a zero input")
    X[1:] = np.random.default_rng(11).normal(0.0, 1.0, (3, 3))
    assert_close(student.dense_forward(X, W, b), ref.dense_forward(X, W, b), "dense_forward")


@DENSE_DETAIL
def test_dense_forward_keeps_float32(student):
    """keeps float32 inputs as float32"""
    X, W, b = layer(6, 5, 4, seed=12, dtype=np.float32)
    Z = student.dense_forward(X, W, b)
    assert_dtype(Z, np.float32, "dense_forward", contract="in the inputs' dtype (float32 stays float32)")
    assert_close(Z, ref.dense_forward(X, W, b), "dense_forward", rtol=RTOL32, atol=ATOL32)


@DENSE_DETAIL
def test_dense_forward_does_not_modify_its_inputs(student):
    """does not change X, W or b"""
    X, W, b = layer(5, 4, 3, seed=13)
    result = student.call("dense_forward", X, W, b)
    for name, before, after in zip("XWb", (X, W, b), result.args_after):
        assert_unchanged(before, after, f"dense_forward (argument {name})")


def expect_value_error(student, args, shapes, what):
    """dense_forward(*args) must raise ValueError whose message shows each of `shapes`."""
    assert_raises(lambda: student.dense_forward(*args), f"dense_forward {what}",
                  shows=shapes)


@DENSE_DETAIL
def test_dense_forward_rejects_X_and_W_that_do_not_fit(student):
    """raises ValueError, showing X's and W's shapes, when X's columns do not match W's rows"""
    for batch, n_in, rows, n_out in ((5, 4, 3, 2), (3, 2, 3, 2)):
        X, W, b = np.ones((batch, n_in)), np.ones((rows, n_out)), np.zeros(n_out)
        expect_value_error(student, (X, W, b), (X.shape, W.shape),
                           f"with X of shape {X.shape} and W of shape {W.shape}")


@DENSE_DETAIL
def test_dense_forward_rejects_a_bias_of_the_wrong_length(student):
    """raises ValueError, showing b's and W's shapes, when b does not have one entry per column of W"""
    X, W, _ = layer(5, 4, 3, seed=14)
    for n in (1, 4):  # numpy alone would broadcast a b of shape (1,) without a word
        b = np.zeros(n)
        expect_value_error(student, (X, W, b), (b.shape, W.shape),
                           f"with W of shape {W.shape} and b of shape {b.shape}")


# -- mlp_forward --------------------------------------------------------------------------------------

def check_mlp(student, X, params, activation, what):
    assert_logits(student.mlp_forward(X, params, Function(activation)), X, params, activation, what)


def assert_logits(logits, X, params, activation, what, **tolerances):
    """`logits` are the MLP's; wrong values that are those of a known look-alike say so (misconceptions.toml
    explains each to the student)."""
    try:
        assert_close(logits, ref.mlp_forward(X, params, activation), what, **tolerances)
    except CheckFailure as failure:
        look_alikes = [("the activation applied to the logits too", {"last": True}),
                       ("a network with no activation at all", {"hidden": False})]
        if activation != RELU:
            look_alikes.append(("ReLU in place of the activation given", {"activation": RELU}))
        for look_alike, change in look_alikes:
            try:
                assert_close(logits, ref.mlp_forward(X, params, **{"activation": activation, **change}), what,
                             **tolerances)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are the values of {look_alike}") from None
        raise


@MLP_FORMULA
def test_mlp_forward_matches_pytorch_for_tanh_and_relu_networks(student):
    """gives the right logits for 3-layer networks with tanh and with ReLU"""
    sizes = [4, 6, 5, 3]
    X, params = inputs(8, 4, seed=20), random_params(sizes, seed=21)
    for activation, name in ((TANH, "tanh"), (RELU, "ReLU")):
        check_mlp(student, X, params, activation, f"mlp_forward of a {sizes} network with {name}")


@MLP_FORMULA
def test_mlp_forward_of_one_layer_is_linear(student):
    """a one-layer network is linear: it returns X W + b and never applies the activation"""
    X, params = 3 * inputs(6, 5, seed=22), random_params([5, 3], seed=23)
    for activation, name in ((TANH, "tanh"), (RELU, "ReLU")):
        assert_logits(student.mlp_forward(X, params, Function(activation)), X, params, activation,
                      f"mlp_forward of a one-layer network with {name}")
    assert_close(student.mlp_forward(X, params, Function(NAN_EVERYWHERE)), ref.dense_forward(X, *params[0]),
                 "mlp_forward of a one-layer network with an activation that returns nan")


@MLP_FORMULA
def test_mlp_forward_leaves_the_last_layer_linear(student):
    """does not apply the activation after the last layer: the logits stay linear"""
    for seed, sizes in enumerate(([3, 7, 4], [5, 4, 4, 2])):
        X, params = inputs(10, sizes[0], seed=24 + seed), random_params(sizes, seed=26 + seed)
        W, b = params[-1]
        params[-1] = (4.0 * W, b - 1.0)  # logits well outside tanh's range, many of them negative
        for activation, name in ((RELU, "ReLU"), (TANH, "tanh")):
            check_mlp(student, X, params, activation, f"mlp_forward of a {sizes} network with {name}")


@MLP_FORMULA
def test_mlp_forward_applies_the_given_activation_after_every_hidden_layer(student):
    """applies the activation it is given (here np.sin, then ReLU) after every hidden layer"""
    sizes = [3, 5, 6, 4, 2]
    X, params = 2 * inputs(7, 3, seed=28), random_params(sizes, seed=29)
    for activation, name in ((SIN, "np.sin"), (RELU, "ReLU")):
        check_mlp(student, X, params, activation, f"mlp_forward of a {sizes} network with {name}")


@MLP_DETAIL
def test_mlp_forward_of_a_batch_of_one(student):
    """returns logits of shape (1, n_out) for a batch of one example"""
    sizes = [4, 5, 3]
    X, params = inputs(1, 4, seed=30), random_params(sizes, seed=31)
    check_mlp(student, X, params, TANH, "mlp_forward of a batch of one")


@MLP_DETAIL
def test_mlp_forward_keeps_float32(student):
    """keeps float32 inputs and parameters as float32"""
    sizes = [4, 6, 5, 3]
    X, params = inputs(8, 4, seed=32, dtype=np.float32), random_params(sizes, seed=33, dtype=np.float32)
    for activation in (TANH, RELU):
        logits = student.mlp_forward(X, params, Function(activation))
        assert_dtype(logits, np.float32, "mlp_forward", contract="in the inputs' dtype (float32 stays float32)")
        assert_logits(logits, X, params, activation, "mlp_forward", rtol=RTOL32, atol=ATOL32)


@MLP_DETAIL
def test_mlp_forward_does_not_modify_X(student):
    """does not change its input X"""
    X, params = inputs(5, 4, seed=34), random_params([4, 5, 3], seed=35)
    result = student.call("mlp_forward", X, params, Function(RELU))
    assert_unchanged(X, result.args_after[0], "mlp_forward")


# -- collapse_linear ----------------------------------------------------------------------------------

def two_layers(n_in, n_hidden, n_out, seed, dtype=np.float64):
    """W1, b1, W2, b2 with non-square shapes."""
    (W1, b1), (W2, b2) = random_params([n_in, n_hidden, n_out], seed=seed, dtype=dtype)
    return W1, b1, W2, b2


SHAPES = [(5, 3, 4), (2, 6, 3), (4, 4, 1)]


def collapsed(student, layers, what="collapse_linear"):
    """The student's (W, b): a pair of arrays of the right shapes (a list passes here; one check wants a tuple)."""
    result = student.collapse_linear(*layers)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        kind = f"{len(result)} items" if isinstance(result, (tuple, list)) else f"a {type(result).__name__}"
        raise CheckFailure(f"{what} returned {kind}, not a tuple of two arrays (W, b)")
    W1, _, W2, _ = layers
    assert_shape(result[0], (W1.shape[0], W2.shape[1]), f"{what}'s W", contract=COLLAPSED)
    assert_shape(result[1], (W2.shape[1],), f"{what}'s b", contract=COLLAPSED)
    return result


@COLLAPSE_DETAIL
def test_collapse_linear_returns_a_tuple_of_two_arrays_of_the_right_shapes(student):
    """returns a tuple (W, b): W of shape (n_in, n_out), b of shape (n_out,)"""
    for seed, shape in enumerate(SHAPES):
        what = f"collapse_linear for layers {shape[0]} -> {shape[1]} -> {shape[2]}"
        result = collapsed(student, two_layers(*shape, seed=40 + seed), what)
        if not isinstance(result, tuple):
            raise CheckFailure(f"{what} returned a {type(result).__name__}, not a tuple (W, b)")


@COLLAPSE_FORMULA
def test_collapse_linear_weights(student):
    """returns the right weights W"""
    for seed, shape in enumerate(SHAPES):
        layers = two_layers(*shape, seed=43 + seed)
        W, _ = collapsed(student, layers)
        assert_close(W, ref.collapse_linear(*layers)[0], f"collapse_linear's W for layers {shape}")


@COLLAPSE_FORMULA
def test_collapse_linear_bias(student):
    """returns the right bias b: the first layer's bias passes through the second layer too"""
    for seed, shape in enumerate(SHAPES):
        layers = two_layers(*shape, seed=46 + seed)
        _, b = collapsed(student, layers)
        assert_close(b, ref.collapse_linear(*layers)[1], f"collapse_linear's b for layers {shape}")


@COLLAPSE_FORMULA
def test_collapse_linear_computes_what_the_two_layers_compute(student):
    """X W + b equals the two stacked layers' (X W1 + b1) W2 + b2 on random inputs X"""
    for seed, shape in enumerate(SHAPES):
        layers = two_layers(*shape, seed=49 + seed)
        W, b = collapsed(student, layers)
        X = inputs(9, shape[0], seed=52 + seed)
        W1, b1, W2, b2 = layers
        assert_close(ref.dense_forward(X, W, b), ref.dense_forward(ref.dense_forward(X, W1, b1), W2, b2),
                              "the single layer's outputs X @ W + b")


@COLLAPSE_DETAIL
def test_collapse_linear_keeps_float32(student):
    """keeps float32 weights and biases as float32"""
    layers = two_layers(5, 3, 4, seed=55, dtype=np.float32)
    for got, expected, name in zip(collapsed(student, layers), ref.collapse_linear(*layers), ("W", "b")):
        assert_dtype(got, np.float32, f"collapse_linear's {name}",
                     contract="Keeps the inputs' dtype (float32 stays float32)")
        assert_close(got, expected, f"collapse_linear's {name}", rtol=RTOL32, atol=ATOL32)


@COLLAPSE_DETAIL
def test_collapse_linear_does_not_modify_its_inputs(student):
    """does not change W1, b1, W2 or b2"""
    layers = two_layers(5, 3, 4, seed=56)
    result = student.call("collapse_linear", *layers)
    for name, before, after in zip(("W1", "b1", "W2", "b2"), layers, result.args_after):
        assert_unchanged(before, after, f"collapse_linear (argument {name})")

"""Hidden checks of build_mlp: the layers and their order, the function the network computes, and the
initialisation each activation needs."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, as_array, assert_close, assert_finite, assert_raises
from autograder.proxy import Student

from . import probes
from . import references as ref
from .references import ACTIVATIONS, MODULES, SCHEME, STD

BUILD_FORMULA = pytest.mark.cell("test_build_mlp", weight=FORMULA)
BUILD_DETAIL = pytest.mark.cell("test_build_mlp", weight=DETAIL)
SMALL = (20, 32, 3, 7)     # n_in, width, depth, n_out: every size different
WIDE = (600, 300, 2, 100)  # non-square first and last layers: Xavier and LeCun differ there


def built(student, activation, sizes, seed=0, batch=16):
    """The student's network for (n_in, width, depth, n_out): (class name, child types, weights, biases, output)."""
    n_in, width, depth, n_out = sizes
    value = student.call("probe_build", Student("build_mlp"), seed, n_in, width, depth, n_out, activation, batch,
                         _program=probes, _timeout=30).value
    name, kinds, weights, biases, out = value
    what = f"build_mlp({n_in}, {width}, {depth}, {n_out}, {activation!r})"
    if out is None:
        raise CheckFailure(f"{what} returned a {name}, not a torch.nn.Sequential")
    shapes = [(width, n_in)] + [(width, width)] * (depth - 1) + [(n_out, width)]
    if len(weights) != len(shapes):
        raise CheckFailure(f"{what} has {len(weights)} nn.Linear layers; it should have depth + 1 = {len(shapes)}")
    for i, (W, b, shape) in enumerate(zip(weights, biases, shapes)):
        if as_array(W, what).shape != shape:
            raise CheckFailure(f"{what}: the weight of Linear layer {i + 1} has shape {W.shape}; it should be "
                               f"{shape} (out_features, in_features)")
        if as_array(b, what).shape != (shape[0],):
            raise CheckFailure(f"{what}: Linear layer {i + 1} should have a bias of shape {(shape[0],)}")
        # a nan weight would pass every statistic compared with `>`, and give the grader's reference nan too
        assert_finite(W, f"{what}: the weight of Linear layer {i + 1}")
        assert_finite(b, f"{what}: the bias of Linear layer {i + 1}")
    return name, list(kinds), [w.astype(np.float64) for w in weights], [b.astype(np.float64) for b in biases], out


def each_activation():
    return pytest.mark.parametrize("activation", [pytest.param(a, id=a, marks=BUILD_FORMULA) for a in ACTIVATIONS])


@each_activation()
def test_build_mlp_stacks_linear_and_activation_layers_in_order(student, activation):
    """returns an nn.Sequential: Linear, activation, ..., Linear, with the activation's module after every hidden Linear and none after the last"""
    for sizes in (SMALL, (5, 8, 1, 2)):
        name, kinds, _, _, _ = built(student, activation, sizes)
        what = f"build_mlp{sizes[:4] + (activation,)}"
        if name != "Sequential":
            raise CheckFailure(f"{what} returned a {name}; it should return a torch.nn.Sequential")
        expected = ["Linear", MODULES[activation]] * sizes[2] + ["Linear"]
        if kinds != expected:
            if kinds[:-1] == expected:
                raise CheckFailure(f"{what}: there is a layer after the output Linear layer; the logits need no activation")
            message = (f"{what} holds the layers {', '.join(kinds)}; expected Linear and "
                       f"{MODULES[activation]} alternating, {sizes[2]} times, then a last Linear")
            others = [k for k in kinds if k != "Linear"]
            if kinds.count("Linear") == sizes[2] + 1 and len(others) < sizes[2]:
                message += ": a hidden Linear layer has no activation after it"
            elif len(kinds) == len(expected) and others and all(k == others[0] != MODULES[activation] for k in others):
                message += f": the activation module is {others[0]}, not {MODULES[activation]}"
            raise CheckFailure(message)


@each_activation()
def test_build_mlp_computes_the_right_function(student, activation):
    """computes Linear, activation, ..., Linear with its own weights: the activation after every hidden layer and none on the logits"""
    seed, batch = 3, 16
    _, _, weights, biases, out = built(student, activation, SMALL, seed=seed, batch=batch)
    x = probes.probe_input(seed, batch, SMALL[0])
    expected = ref.reference_output(x, weights, biases, activation)
    scale = max(1.0, float(np.abs(expected).max()))
    what = (f"build_mlp(..., {activation!r}): the network's output for a random input "
            "(compared with Linear, activation, ..., Linear using your weights)")
    try:
        assert_close(out, expected, what, rtol=1e-4, atol=1e-5 * scale)
    except CheckFailure as failure:
        if activation != "gelu":
            raise
        try:  # a common mistake: GELU's tanh approximation, where the exact GELU is due
            assert_close(out, ref.reference_output(x, weights, biases, "gelu_tanh"), what, rtol=1e-4, atol=1e-5 * scale)
        except CheckFailure:
            raise failure from None
        raise CheckFailure(f"{failure}: they are the outputs of GELU's tanh approximation") from None


def look_alikes(fan_in, fan_out):
    """(description, std) of the spreads a common mistake gives a weight matrix: another activation's scheme, the
    fans swapped, PyTorch's default left in place."""
    return [(f"{scheme}'s std", STD[scheme](fan_in, fan_out)) for scheme in STD] + [
        ("sqrt(2 / fan_out): fan_in and fan_out are swapped", np.sqrt(2 / fan_out)),
        ("PyTorch's default std, as if the weights were never re-drawn", 1 / np.sqrt(3 * fan_in))]


def assert_std(W, std, what):
    """The sample std within a few % of `std`: over 10 standard errors for these sizes."""
    tolerance = max(0.015, 5 * np.sqrt(1 / (2 * (W.size - 1))))  # sd of a normal sample's std / std: 1 / sqrt(2(n-1))
    ratio = W.std() / std
    if not abs(ratio - 1) <= tolerance:
        message = (f"{what}: the std of a {W.shape[0]}x{W.shape[1]} weight matrix is off by "
                   f"{abs(ratio - 1):.0%}; check which initialisation this activation needs "
                   "(which fan, which factor)")
        fan_out, fan_in = W.shape
        for description, other in look_alikes(fan_in, fan_out):
            if abs(other / std - 1) > tolerance and abs(W.std() / other - 1) <= tolerance:
                raise CheckFailure(f"{message}: it is {description}")
        raise CheckFailure(message)


@each_activation()
def test_build_mlp_draws_weights_with_the_activations_matching_std(student, activation):
    """draws every weight matrix with the std of the activation's scheme: Xavier for sigmoid and tanh, LeCun for SELU, He for the others"""
    _, _, weights, _, _ = built(student, activation, WIDE, seed=4, batch=2)
    scheme = SCHEME[activation]
    for i, W in enumerate(weights):
        fan_out, fan_in = W.shape
        assert_std(W, STD[scheme](fan_in, fan_out), f"build_mlp(..., {activation!r}), Linear layer {i + 1}")


@BUILD_FORMULA
def test_build_mlp_draws_weights_from_a_normal_distribution_with_mean_zero(student):
    """draws the weights from a normal distribution with mean 0 (not a uniform one)"""
    for activation in ("tanh", "relu", "selu"):
        _, _, weights, _, _ = built(student, activation, WIDE, seed=5, batch=2)
        w = weights[0].ravel() / weights[0].std()
        if not abs(w.mean()) <= 6 / np.sqrt(w.size):  # six standard errors of the mean
            raise CheckFailure(f"build_mlp(..., {activation!r}): the weights' mean is not 0")
        # excess kurtosis: 0 for a normal (standard error sqrt(24 / n) < 0.012 here), -1.2 for a uniform
        if not abs(np.mean((w - w.mean()) ** 4) - 3) <= 0.15:
            raise CheckFailure(f"build_mlp(..., {activation!r}): the weights do not look normally distributed "
                               "(their tails are wrong); use a normal initialisation, not a uniform one")


@BUILD_FORMULA
def test_build_mlp_biases_are_zero(student):
    """starts every bias at zero"""
    for activation in ACTIVATIONS:
        _, _, _, biases, _ = built(student, activation, SMALL, seed=6, batch=2)
        for i, b in enumerate(biases):
            if np.any(b != 0):
                raise CheckFailure(f"build_mlp(..., {activation!r}): the bias of Linear layer {i + 1} is not all zeros")


@BUILD_DETAIL
def test_build_mlp_is_reproducible_after_torch_manual_seed(student):
    """gives the same weights after the same torch.manual_seed and different weights after a different one"""
    for activation in ("sigmoid", "gelu"):
        first, again, other = (built(student, activation, SMALL, seed=s, batch=2)[2] for s in (7, 7, 8))
        if not all(np.array_equal(a, b) for a, b in zip(first, again)):
            raise CheckFailure(f"build_mlp(..., {activation!r}) gave different weights after the same "
                               "torch.manual_seed: draw them from torch's global generator")
        if any(np.array_equal(a, b) for a, b in zip(first, other)):
            raise CheckFailure(f"build_mlp(..., {activation!r}) gave the same weights after different seeds")


@BUILD_DETAIL
def test_build_mlp_rejects_an_unknown_activation(student):
    """raises ValueError for an activation name it does not know"""
    for name in ("softsign", "RELU"):
        assert_raises(lambda: student.build_mlp(4, 8, 2, 3, name), f"build_mlp with activation {name!r}")

"""Hidden checks of init_params: structure, zero biases, seeds, and the distribution of each scheme."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, as_layers, assert_raises

from .references import layer_shapes

INIT_FORMULA = pytest.mark.cell("test_init_params", weight=FORMULA)
INIT_DETAIL = pytest.mark.cell("test_init_params", weight=DETAIL)
# Large, non-square layers: on a square layer Xavier's 2 / (n_in + n_out) equals 1 / n_in.
LARGE = [200, 800, 300]


def init(student, sizes, scheme, seed):
    return as_layers(student.init_params(sizes, scheme, seed), layer_shapes(sizes), f"init_params({sizes}, {scheme!r})")


def assert_variance(W, variance, what):
    """The sample variance within a few % of `variance`: over 10 standard errors of it for these sizes."""
    n = W.size
    tolerance = max(0.03, 10 * np.sqrt(2 / (n - 1)))  # sd of the sample variance of n normals: sqrt(2 / (n - 1))
    ratio = W.var() / variance
    if not abs(ratio - 1) <= tolerance:
        # rng.normal takes the standard deviation: given the variance, it draws weights of variance**2
        squared = abs(W.var() / variance**2 - 1) <= tolerance
        raise CheckFailure(f"{what}: the variance of a {W.shape[0]}x{W.shape[1]} weight matrix is off by "
                           f"{abs(ratio - 1):.0%}; check the formula of the variance (which fan, which factor)"
                           + ("; the weights' variance is the square of the one due, as if the variance were passed "
                              "as the standard deviation" if squared else ""))


@INIT_DETAIL
def test_init_params_returns_one_float64_pair_per_layer(student):
    """returns one pair (W, b) per layer, W of shape (n_in, n_out) and b of shape (n_out,), in float64"""
    for sizes, scheme in [([2, 16, 16, 3], "xavier"), ([5, 1], "he"), ([4, 7, 3], "he")]:
        value = student.init_params(sizes, scheme, 0)
        as_layers(value, layer_shapes(sizes), f"init_params({sizes}, {scheme!r})")
        for W, b in value:
            if np.asarray(W).dtype != np.float64 or np.asarray(b).dtype != np.float64:
                raise CheckFailure(f"init_params({sizes}, {scheme!r}) should return float64 arrays")


@INIT_FORMULA
def test_init_params_biases_are_zero(student):
    """starts every bias at zero"""
    for scheme in ("xavier", "he"):
        for i, (_, b) in enumerate(init(student, [3, 8, 6, 2], scheme, 1)):
            if np.any(b != 0):
                raise CheckFailure(f"init_params(..., {scheme!r}): the bias of layer {i} is not all zeros")


@INIT_DETAIL
def test_init_params_is_reproducible_for_a_seed(student):
    """gives the same weights for the same seed and different weights for different seeds"""
    sizes = [4, 10, 3]
    for scheme in ("xavier", "he"):
        first, again, other = (init(student, sizes, scheme, seed) for seed in (5, 5, 6))
        if not all(np.array_equal(a[0], b[0]) for a, b in zip(first, again)):
            raise CheckFailure(f"init_params with scheme {scheme!r} gave different weights for the same seed: "
                               "draw them from np.random.default_rng(seed)")
        if any(np.array_equal(a[0], b[0]) for a, b in zip(first, other)):
            raise CheckFailure(f"init_params with scheme {scheme!r} gave the same weights for different seeds")


@INIT_FORMULA
def test_xavier_variance_is_2_over_fan_in_plus_fan_out(student):
    """draws Xavier weights with variance 2 / (n_in + n_out)"""
    for W, _ in init(student, LARGE, "xavier", 2):
        assert_variance(W, 2 / (W.shape[0] + W.shape[1]), "init_params(..., 'xavier')")


@INIT_FORMULA
def test_he_variance_is_2_over_fan_in(student):
    """draws He weights with variance 2 / n_in"""
    for W, _ in init(student, LARGE, "he", 3):
        assert_variance(W, 2 / W.shape[0], "init_params(..., 'he')")


@INIT_FORMULA
def test_weights_are_normal_with_mean_zero(student):
    """draws the weights from a normal distribution with mean 0 (not a uniform one)"""
    for scheme, seed in (("xavier", 4), ("he", 5)):
        for W, _ in init(student, LARGE, scheme, seed):
            # every comparison is written so that nan fails it (init() has already refused nan and inf)
            w = W.ravel() / W.std()
            if not abs(w.mean()) <= 6 / np.sqrt(w.size):  # six standard errors of the mean
                raise CheckFailure(f"init_params(..., {scheme!r}): the weights' mean is not 0")
            # excess kurtosis: 0 for a normal (standard error sqrt(24 / n) < 0.01 here), -1.2 for a uniform
            if not abs(np.mean((w - w.mean()) ** 4) - 3) <= 0.15:
                raise CheckFailure(f"init_params(..., {scheme!r}): the weights do not look normally distributed "
                                   "(their tails are wrong); draw them with rng.normal")


@INIT_DETAIL
def test_init_params_rejects_an_unknown_scheme(student):
    """raises ValueError for a scheme other than 'xavier' and 'he'"""
    assert_raises(lambda: student.init_params([2, 3], "lecun", 0), "init_params with scheme 'lecun'")

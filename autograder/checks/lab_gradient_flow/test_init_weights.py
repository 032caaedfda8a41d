"""Hidden checks of init_weights_: the statistics of wide layers for each scheme, in place, nothing else touched."""
import math

import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, assert_finite, assert_raises
from autograder.proxy import Student

from . import probes
from . import references as ref

INIT_FORMULA = pytest.mark.cell("test_init_weights_", weight=FORMULA)
INIT_DETAIL = pytest.mark.cell("test_init_weights_", weight=DETAIL)
STD_TOLERANCE = 0.03  # 6 standard errors of a sample standard deviation of 20,000 draws or more


def initialise(student, seed, scheme, **options):
    """(returned the model?, same parameter objects?, {kind: [(array, fan_in, fan_out)]}) after the call."""
    returned, same, params, buffers = student.call("init_weights_probe", Student("init_weights_"), seed, scheme,
                                                   _program=probes, **options).value
    model, kinds = ref.wide_layers(seed, options.get("init"), options.get("activation", "relu"),
                                   options.get("batch_norm", False))
    if len(params) != len(kinds):
        raise CheckFailure(f"init_weights_(model, {scheme!r}) changed the number of the model's parameters")
    layers = {"weight": [], "bias": [], "other": []}
    for (kind, index, fan_in, fan_out), array in zip(kinds, params):
        if kind != "other":  # a nan would pass a statistic compared with `>`
            assert_finite(array, f"init_weights_(model, {scheme!r}): the {kind} of a Linear layer")
        layers[kind].append((np.asarray(array, dtype=np.float64), fan_in, fan_out))
    return returned, same, layers, buffers


def look_alikes(fan_in, fan_out):
    """(description, std) of the spreads common mistakes give a Linear weight."""
    he, xavier = 2 / fan_in, 2 / (fan_in + fan_out)
    return [("He's variance 2 / fan_in, where Xavier's is due", math.sqrt(he)),
            ("Xavier's variance 2 / (fan_in + fan_out), where He's is due", math.sqrt(xavier)),
            ("the variance 2 / fan_out: fan_in and fan_out are swapped", math.sqrt(2 / fan_out)),
            ("the variance 1 / fan_in (LeCun's)", math.sqrt(1 / fan_in)),
            ("a standard deviation equal to the variance: normal_ takes the standard deviation", he),
            ("a standard deviation equal to the variance: normal_ takes the standard deviation", xavier),
            ("PyTorch's default spread, as if the layer had not been re-drawn", 1 / math.sqrt(3 * fan_in))]


def assert_std(W, std, scheme, fan_in, fan_out, output_layer=False):
    ratio = W.std() / std
    if not abs(ratio - 1) <= STD_TOLERANCE:
        message = (f"init_weights_(model, {scheme!r}): the standard deviation of a Linear layer with "
                   f"fan_in {fan_in} and fan_out {fan_out} is off by {abs(ratio - 1):.0%}; check the "
                   "formula (which fan, which factor; a weight has shape (fan_out, fan_in))")
        if output_layer:  # the layers before it passed
            raise CheckFailure(f"{message}: it is the output layer's, which is an nn.Linear layer too")
        for description, other in look_alikes(fan_in, fan_out):
            if abs(other / std - 1) > STD_TOLERANCE and abs(W.std() / other - 1) <= STD_TOLERANCE:
                raise CheckFailure(f"{message}: it is {description}")
        raise CheckFailure(message)


@INIT_FORMULA
def test_he_weights_have_variance_2_over_fan_in(student):
    """He: draws every Linear weight, the output layer's too, with variance 2 / fan_in"""
    _, _, layers, _ = initialise(student, 20, "he")
    for i, (W, fan_in, fan_out) in enumerate(layers["weight"]):
        assert_std(W, math.sqrt(2 / fan_in), "he", fan_in, fan_out, output_layer=i == len(layers["weight"]) - 1)


@INIT_FORMULA
def test_xavier_weights_have_variance_2_over_fan_in_plus_fan_out(student):
    """Xavier: draws every Linear weight, the output layer's too, with variance 2 / (fan_in + fan_out)"""
    _, _, layers, _ = initialise(student, 21, "xavier", init="he")
    for i, (W, fan_in, fan_out) in enumerate(layers["weight"]):
        assert_std(W, math.sqrt(2 / (fan_in + fan_out)), "xavier", fan_in, fan_out,
                   output_layer=i == len(layers["weight"]) - 1)


@INIT_FORMULA
def test_weights_are_normal_with_mean_zero(student):
    """Xavier and He draw from a normal distribution with mean 0 (not a uniform one)"""
    for seed, scheme in [(22, "he"), (23, "xavier")]:
        _, _, layers, _ = initialise(student, seed, scheme)
        z = np.concatenate([(W / W.std()).ravel() for W, _, _ in layers["weight"]])
        if not abs(z.mean()) <= 0.01:
            raise CheckFailure(f"init_weights_(model, {scheme!r}): the weights do not have mean 0")
        beyond = np.mean(np.abs(z) > 2)  # 4.55% for a normal distribution, 0% for a uniform one
        if not 0.035 <= beyond <= 0.056:
            raise CheckFailure(f"init_weights_(model, {scheme!r}): {beyond:.1%} of the weights lie beyond two "
                               "standard deviations, where a normal distribution has 4.6%; draw from a normal "
                               "distribution (tensor.normal_)")


@INIT_FORMULA
def test_biases_are_zero_for_xavier_and_he(student):
    """Xavier and He set every bias to zero"""
    for seed, scheme in [(24, "he"), (25, "xavier")]:
        _, _, layers, _ = initialise(student, seed, scheme)
        for i, (b, _, _) in enumerate(layers["bias"]):
            if np.any(b != 0):
                raise CheckFailure(f"init_weights_(model, {scheme!r}): the bias of Linear layer {i} is not all zeros")


@INIT_FORMULA
def test_default_is_pytorchs_own_initialisation(student):
    """the scheme 'default' re-draws PyTorch's own initialisation: weights and biases uniform in ±1/sqrt(fan_in)"""
    _, _, layers, _ = initialise(student, 26, "default", init="he")
    for (W, fan_in, fan_out), (b, _, _) in zip(layers["weight"], layers["bias"]):
        bound = 1 / math.sqrt(fan_in)
        if not (np.abs(W).max() <= bound * (1 + 1e-6) and np.abs(b).max() <= bound * (1 + 1e-6)):
            raise CheckFailure(f"init_weights_(model, 'default'): a Linear layer with fan_in {fan_in} has values "
                               "outside ±1/sqrt(fan_in); call layer.reset_parameters()")
        assert_std(W, bound / math.sqrt(3), "default", fan_in, fan_out)
        if not abs(b.std() / (bound / math.sqrt(3)) - 1) <= 0.2:
            raise CheckFailure(f"init_weights_(model, 'default'): the biases of a Linear layer with fan_in {fan_in} "
                               "are not spread like PyTorch's default (uniform in ±1/sqrt(fan_in))")


@INIT_DETAIL
def test_changes_the_model_in_place_and_returns_it(student):
    """changes the model's own parameter tensors in place and returns the model"""
    for seed, scheme in [(27, "he"), (28, "default")]:
        returned, same, _, _ = initialise(student, seed, scheme)
        if not returned:
            raise CheckFailure(f"init_weights_(model, {scheme!r}) should return the model it was given")
        if not same:
            raise CheckFailure(f"init_weights_(model, {scheme!r}) replaced parameter objects: change the existing "
                               "tensors in place (weight.normal_(...) under torch.no_grad()), so that an optimizer "
                               "made before still sees them")


@INIT_DETAIL
def test_other_modules_are_left_alone(student):
    """leaves the parameters and buffers of every other module (BatchNorm, PReLU) untouched"""
    options = dict(activation="prelu", batch_norm=True)
    for seed, scheme in [(29, "he"), (30, "xavier"), (31, "default")]:
        _, _, layers, buffers = initialise(student, seed, scheme, **options)
        model, kinds = ref.wide_layers(seed, **options)
        expected = [p.detach().double().numpy() for (kind, _, _, _), p in zip(kinds, model.parameters())
                    if kind == "other"]
        if not all(np.array_equal(a, e) for (a, _, _), e in zip(layers["other"], expected)):
            raise CheckFailure(f"init_weights_(model, {scheme!r}) changed the parameters of a module that is not "
                               "nn.Linear (a BatchNorm or PReLU): re-initialise the Linear layers only")
        expected_buffers = [b.detach().double().numpy() for b in model.buffers()]
        if len(buffers) != len(expected_buffers) or not all(
                np.array_equal(a, e) for a, e in zip(buffers, expected_buffers)):
            raise CheckFailure(f"init_weights_(model, {scheme!r}) changed a BatchNorm's running statistics")
        if not np.any(layers["weight"][0][0] != model[0].weight.detach().double().numpy()):
            raise CheckFailure(f"init_weights_(model, {scheme!r}) did not re-draw the Linear layers of a network "
                               "with BatchNorm and PReLU")


@INIT_DETAIL
def test_an_unknown_scheme_raises_value_error(student):
    """raises ValueError for a scheme other than 'default', 'xavier' and 'he'"""
    for scheme in ["lecun", "uniform"]:
        assert_raises(lambda: initialise(student, 32, scheme), f"init_weights_(model, {scheme!r})")

"""Hidden checks of with_leaky_relu: what the copy computes, which modules it holds, the original untouched."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, assert_close
from autograder.proxy import Student

from . import probes
from . import references as ref

LEAKY_FORMULA = pytest.mark.cell("test_with_leaky_relu", weight=FORMULA)
LEAKY_DETAIL = pytest.mark.cell("test_with_leaky_relu", weight=DETAIL)
RTOL, ATOL = 1e-12, 1e-14  # the same float64 operations in the same order


def student_copy(student, seed, alpha=None, kind="relu", change_copy=False):
    """(is the original?, (types, slopes) of the copy, its output, (types, slopes) of the original after,
    the original's output after, the original's parameters after, the copy's parameters as made)."""
    return student.call("with_leaky_relu_probe", Student("with_leaky_relu"), seed, alpha, kind, change_copy,
                        _program=probes).value


def assert_leaky_output(result, seed, alpha, what):
    """The copy computes the network with Leaky ReLU of slope alpha; a wrong output says whether the slope is
    the default 0.01 or the copy's weights are not the original's (misconceptions.toml explains each)."""
    output, copy_parameters = result[2], result[-1]
    try:
        assert_close(output, ref.reference_leaky_output(seed, alpha), what, RTOL, ATOL)
    except CheckFailure as failure:
        _, _, original_parameters = ref.original(seed)
        pairs = list(zip(copy_parameters, original_parameters))
        if len(copy_parameters) != len(original_parameters) or not all(
                np.shape(a) == np.shape(e) and np.array_equal(a, e) for a, e in pairs):
            raise CheckFailure(f"{failure}: the copy's weights are not the original's") from None
        if alpha != 0.01:
            try:
                assert_close(output, ref.reference_leaky_output(seed, 0.01), what, RTOL, ATOL)
            except CheckFailure:
                raise failure from None
            raise CheckFailure(f"{failure}: they are the outputs with the default slope 0.01") from None
        raise


@pytest.mark.parametrize("alpha", [pytest.param(a, id=str(a), marks=LEAKY_FORMULA) for a in [0.1, 0.3]])
def test_the_copy_computes_the_leaky_relu_network(student, alpha):
    """gives a network that computes the same layers with Leaky ReLU of slope alpha instead of ReLU"""
    assert_leaky_output(student_copy(student, 20, alpha), 20, alpha, f"the output of with_leaky_relu(model, {alpha})")


@LEAKY_FORMULA
def test_alpha_defaults_to_0_01(student):
    """uses a slope of 0.01 when alpha is not given"""
    result = student_copy(student, 21)
    _, (types, slopes), *_ = result
    leaky = [s for t, s in zip(types, slopes) if t == "LeakyReLU"]
    if not leaky or any(s != 0.01 for s in leaky):
        raise CheckFailure("with_leaky_relu(model) should use nn.LeakyReLU(0.01): alpha defaults to 0.01")
    assert_leaky_output(result, 21, 0.01, "the output of with_leaky_relu(model)")


@LEAKY_FORMULA
def test_every_relu_and_only_relu_is_replaced(student):
    """replaces every nn.ReLU by nn.LeakyReLU(alpha) and keeps every other module (tanh, GELU, Linear)"""
    alpha = 0.2
    _, (types, slopes), output, *_ = student_copy(student, 22, alpha, kind="mixed")
    original_types, _, _ = ref.original(22, kind="mixed")
    expected = ["LeakyReLU" if t == "ReLU" else t for t in original_types]
    if types != expected:
        raise CheckFailure(f"with_leaky_relu on a network of {', '.join(original_types)} gave one of "
                           f"{', '.join(types)}; replace each ReLU, and only the ReLUs")
    if any(s != alpha for t, s in zip(types, slopes) if t == "LeakyReLU"):
        raise CheckFailure(f"with_leaky_relu(model, {alpha}) made a Leaky ReLU of another slope: "
                           "use nn.LeakyReLU(alpha)")
    assert_close(output, ref.reference_leaky_output(22, alpha, kind="mixed"),
                 "the output of with_leaky_relu on a network with ReLU, tanh and GELU", RTOL, ATOL)


def assert_original_unchanged(result, seed, kind, what):
    is_original, _, _, (types, _), output, params, _ = result
    expected_types, expected_output, expected_params = ref.original(seed, kind)
    if is_original or types != expected_types:
        raise CheckFailure(f"with_leaky_relu changed the original model's modules{what}: build the new model "
                           "on a copy (copy.deepcopy) and return the copy")
    if len(params) != len(expected_params) or not all(np.array_equal(a, e) for a, e in zip(params, expected_params)):
        raise CheckFailure(f"the original model's parameters changed{what}: the copy needs parameters of its own "
                           "(copy.deepcopy), not the original's Linear layers")
    assert_close(output, expected_output, f"the original model's output{what}", RTOL, ATOL)


@LEAKY_DETAIL
def test_the_original_model_is_left_unchanged(student):
    """leaves the original model exactly as it was: its modules, weights and output"""
    for seed, kind in [(23, "relu"), (24, "mixed")]:
        assert_original_unchanged(student_copy(student, seed, 0.1, kind), seed, kind, "")


@LEAKY_DETAIL
def test_the_copy_has_parameters_of_its_own(student):
    """returns a copy with parameters of its own: changing (training) the copy leaves the original alone"""
    for seed, kind in [(25, "relu"), (26, "mixed")]:
        assert_original_unchanged(student_copy(student, seed, 0.1, kind, change_copy=True), seed, kind,
                                  " after the copy's parameters were changed")

"""Hidden checks of the hand-written autograd Functions: values and gradients against PyTorch in float64,
edge inputs, float32, shapes, the backward really being the student's and written by hand, state, a gradient
check, purity.

Every gradient is checked twice: as it reaches x through `apply` and autograd, and as the class's backward
returns it when the grader calls forward and backward directly (which no patch of autograd in the student's
process can change)."""
import numpy as np
import pytest

from autograder.checking import (ATOL, ATOL32, DETAIL, FORMULA, RTOL, RTOL32, CheckFailure, as_array, assert_close,
                                 assert_dtype, assert_finite, assert_shape)

from .hand_written import Notebook
from .references import CLASSES, EDGES, extra_args, random_case, reference
from .verdicts import assert_gradient, assert_matches, call, called_directly, gradient_array, run, through_autograd


def for_each_class(weight):
    return pytest.mark.parametrize("cls", [pytest.param(c, id=c, marks=pytest.mark.cell(f"test_{c}", weight=weight))
                                           for c in CLASSES])


KEEP_DTYPE = "Keep the dtype of x (float32 stays float32)"  # the notebook's words
SWISH_DETAIL = pytest.mark.cell("test_SwishFunction", weight=DETAIL)


@for_each_class(FORMULA)
def test_forward_values_match_pytorch_in_float64(student, cls):
    """forward returns PyTorch's values for random inputs (float64)"""
    x, g = random_case(0)
    assert_matches(student, cls, x, g, extra_args(cls), "on random float64 inputs", RTOL, ATOL, gradients=False)


@for_each_class(FORMULA)
def test_gradients_match_pytorch_for_a_random_upstream_gradient(student, cls):
    """backward returns grad_output times the derivative, for a random upstream gradient (float64)"""
    x, g = random_case(1)
    assert_matches(student, cls, x, g, extra_args(cls), "for a random upstream gradient", RTOL, ATOL, values=False)


@for_each_class(FORMULA)
def test_edge_inputs_in_float64(student, cls):
    """gives the right, finite values and gradients at 0, ±6, ±20, ±40 and ±1e4 (float64)"""
    g = np.random.default_rng(2).normal(0.0, 1.0, EDGES.shape)
    assert_matches(student, cls, EDGES, g, extra_args(cls), "at 0, ±6, ±20, ±40 and ±1e4", RTOL, ATOL)


@for_each_class(DETAIL)
def test_float32_stays_float32(student, cls):
    """keeps float32 input as float32, in the output and in the gradient, with float32 accuracy"""
    x, g = random_case(3, dtype=np.float32)
    result = assert_matches(student, cls, x, g, extra_args(cls), "on float32 inputs", RTOL32, ATOL32)
    for array, what in result.values(cls) + result.gradients(cls):
        assert_dtype(array, np.float32, what, contract=KEEP_DTYPE)


@for_each_class(FORMULA)
def test_huge_float32_inputs_stay_finite(student, cls):
    """stays finite, with the right values and gradients, for float32 inputs up to ±1e4"""
    x = np.array([1e4, -1e4, 3e3, -3e3, 100.0, -100.0, 40.0, -40.0, 20.0, -20.0, 0.0], dtype=np.float32)
    g = np.linspace(-2.0, 2.0, x.size).astype(np.float32)
    result = run(student, cls, x, g, extra_args(cls))
    expected_value, expected_grad = reference(cls, x, g, extra_args(cls))
    for (array, what), expected in zip(result.values(cls) + result.gradients(cls),
                                       [expected_value] * 2 + [expected_grad] * 2):
        assert_finite(array, f"{what}, for float32 inputs as large as ±1e4,")
        assert_close(array, expected, f"{what} on large float32 inputs", RTOL32, ATOL32)


@for_each_class(DETAIL)
def test_every_shape_from_0d_to_3d_and_empty(student, cls):
    """keeps the shape of 0-d, 1-d, 2-d, 3-d and empty inputs, for values and gradients"""
    for i, shape in enumerate([(), (7,), (3, 4), (2, 3, 4), (0,), (2, 0, 3)]):
        x, g = random_case(10 + i, shape)
        result = assert_matches(student, cls, x, g, extra_args(cls), f"on shape {shape}", RTOL, ATOL)
        for array, what in result.values(cls) + result.gradients(cls):
            assert_shape(array, shape, f"{what} on shape {shape}", contract="same shape and dtype")


@for_each_class(FORMULA)
def test_gradient_comes_from_your_backward(student, cls):
    """is a torch.autograd.Function called through apply: the gradient autograd gives x is the one its backward returns"""
    x, g = random_case(4, (9,))
    factor = -2.75  # backward is replaced by one that scales its result: apply's gradient must follow
    scaled = call(student, cls, "scaled_backward", x, g, factor, extra_args(cls))
    if scaled is None:
        raise CheckFailure(f"{cls} has no backward: write {cls} as a torch.autograd.Function")
    what = f"{through_autograd(cls)}, with {cls}.backward replaced by one that scales its result by {factor}"
    expected = factor * reference(cls, x, g, extra_args(cls))[1]
    try:
        assert_close(gradient_array(scaled, what), expected, what, RTOL, ATOL)
    except CheckFailure:
        direct = followed_backward(student, cls, x, g, scaled, factor)
        if direct is not None:  # apply does run backward: it is backward's own gradient that is wrong
            assert_gradient(direct, cls, x, g, extra_args(cls), f"the gradient reaching x through {cls}.apply follows "
                            f"{cls}.backward, but {called_directly(cls)}", RTOL, ATOL)
        raise CheckFailure(f"the gradient that reaches x through {cls}.apply does not come from {cls}.backward: "
                           "write the class as a torch.autograd.Function and call it with .apply") from None


def followed_backward(student, cls, x, g, scaled, factor):
    """The gradient the class's backward returns called directly, if the scaled gradient through apply is
    `factor` times it (apply runs backward), else None."""
    try:
        direct = run(student, cls, x, g, extra_args(cls)).direct_gradient
        follows = np.allclose(as_array(scaled, "").astype(np.float64), factor * direct.astype(np.float64),
                              rtol=1e-9, atol=1e-12, equal_nan=True)
    except (CheckFailure, TypeError, ValueError):
        return None
    return direct if follows else None


@for_each_class(FORMULA)
def test_backward_is_written_by_hand(student, cls):
    """backward is written by hand: no autograd (autograd.grad, .backward(), torch.func, enable_grad) in the class or what it calls, and the right gradient with autograd switched off"""
    found = Notebook(student.cells).delegation(cls, checked_separately=CLASSES)
    if found is not None:
        label, line, code = found
        where = f" (cell {label}, line {line}: {code})" if line else f": the notebook has {code}"
        raise CheckFailure(f"{cls} must compute its derivative by hand, without autograd{where}")
    x, g = random_case(9, (12,))
    gradient = call(student, cls, "without_autograd", x, g, extra_args(cls))
    what = f"{called_directly(cls)} with autograd switched off"
    assert_gradient(gradient_array(gradient, what), cls, x, g, extra_args(cls), what, RTOL, ATOL)


@for_each_class(FORMULA)
def test_two_calls_in_flight_do_not_interfere(student, cls):
    """keeps what backward needs on ctx: two outputs alive at once each get their own gradient"""
    (x1, g1), (x2, g2) = random_case(5, (8,)), random_case(6, (8,))
    result = call(student, cls, "interleaved", x1, g1, x2, g2, extra_args(cls))
    if not isinstance(result, (list, tuple)) or len(result) != 4:
        raise CheckFailure(f"{cls} could not be run twice at once")
    for grad, (x, g, which), other_x, way in zip(result, [(x1, g1, "first"), (x2, g2, "second")] * 2, [x2, x1] * 2,
                                                 [through_autograd(cls)] * 2 + [called_directly(cls)] * 2):
        what = f"{way}, for the {which} of two calls alive at once (keep state on ctx, not on the class)"
        grad = gradient_array(grad, what)
        try:
            assert_close(grad, reference(cls, x, g, extra_args(cls))[1], what, RTOL, ATOL)
        except CheckFailure as failure:
            try:  # state kept where the other call overwrites it: the gradient at the other call's input
                assert_close(grad, reference(cls, other_x, g, extra_args(cls))[1], what, RTOL, ATOL)
            except CheckFailure:
                raise failure from None
            raise CheckFailure(f"{failure}: they are the gradient at the other call's input, which overwrote what "
                               "backward needs") from None


# gradcheck's own step and tolerances, for the gradient check the grader does
STEP, CHECK_RTOL, CHECK_ATOL = 1e-6, 1e-3, 1e-5


@for_each_class(FORMULA)
def test_backward_agrees_with_centred_differences_of_forward(student, cls):
    """passes a gradient check in float64: the Jacobian from backward equals centred differences of forward, and PyTorch's"""
    x = np.random.default_rng(7).normal(0.0, 2.0, 6)
    extra = extra_args(cls, 1.5)
    result = call(student, cls, "jacobian", x, STEP, extra)
    if not isinstance(result, (list, tuple)) or len(result) != 4:
        raise CheckFailure(f"{cls} could not be run for a gradient check")
    plus, minus, through, direct = result
    shifted = [as_matrix(v, f"{cls}.apply at x ± h") for v in (plus, minus)]
    for array in shifted:
        assert_finite(array, f"{cls}.apply near the gradient check's inputs")
    numeric = (shifted[0] - shifted[1]).T / (2 * STEP)  # column i: the change of every output as x_i moves
    for rows, way in [(through, through_autograd(cls)), (direct, called_directly(cls))]:
        what = f"{way} for each unit upstream gradient (a row of the Jacobian)"
        jacobian = as_matrix([gradient_array(row, what) for row in rows], what)
        assert_close(jacobian, numeric, f"{what}, against centred differences of {cls}.apply",
                     CHECK_RTOL, CHECK_ATOL)
    assert_matches(student, cls, x, np.ones_like(x), extra, "at the gradient check's inputs", RTOL, ATOL)


def as_matrix(rows, what):
    try:
        return np.array(rows, dtype=np.float64).reshape(6, 6)
    except (TypeError, ValueError):
        raise CheckFailure(f"{what}: expected one value per input, for each of 6 inputs") from None


@for_each_class(DETAIL)
def test_does_not_modify_its_input(student, cls):
    """leaves its input tensor unchanged"""
    x = np.concatenate([random_case(8, (20,))[0], EDGES])
    after = run(student, cls, x, np.ones_like(x), extra_args(cls)).input_after
    if after is None or not np.array_equal(np.asarray(after), x):
        raise CheckFailure(f"{cls}.apply changed its input tensor in place; compute on new tensors")


@SWISH_DETAIL
def test_swish_honours_beta_in_forward_and_backward(student):
    """uses beta in the values and in the gradient, for beta = 0.5, 2, 3.7, -1 and 0"""
    x, g = random_case(20, (40,))
    x = np.concatenate([x, EDGES])
    g = np.concatenate([g, np.linspace(-1, 1, EDGES.size)])
    for beta in [0.5, 2.0, 3.7, -1.0, 0.0]:
        assert_matches(student, "SwishFunction", x, g, extra_args("SwishFunction", beta), f"with beta = {beta}",
                       RTOL, ATOL)


@SWISH_DETAIL
def test_swish_with_beta_in_float32(student):
    """keeps float32 as float32, with float32 accuracy, for beta other than 1"""
    x, g = random_case(21, dtype=np.float32)
    for beta in [0.5, 2.5]:
        result = assert_matches(student, "SwishFunction", x, g, extra_args("SwishFunction", beta),
                                f"on float32 inputs with beta = {beta}", RTOL32, ATOL32)
        for array, what in result.values("SwishFunction") + result.gradients("SwishFunction"):
            assert_dtype(array, np.float32, what, contract=KEEP_DTYPE)

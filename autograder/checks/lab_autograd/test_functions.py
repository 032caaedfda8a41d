"""Hidden checks of the hand-written autograd Functions: values and gradients against PyTorch in float64,
edge inputs, float32, shapes, the backward really being the student's, state, gradcheck, purity."""
import numpy as np
import pytest

from autograder.checking import ATOL, ATOL32, RTOL, RTOL32, CheckFailure, assert_close, assert_dtype, assert_shape

from .references import CLASSES, EDGES, assert_matches, call, extra_args, random_case, reference, run


def for_each_class():
    return pytest.mark.parametrize("cls", [pytest.param(c, id=c, marks=pytest.mark.cell(f"test_{c}"))
                                           for c in CLASSES])


SWISH = pytest.mark.cell("test_SwishFunction")


@for_each_class()
def test_forward_values_match_pytorch_in_float64(student, cls):
    """forward returns PyTorch's values for random inputs (float64)"""
    x, g = random_case(0)
    assert_matches(student, cls, x, g, extra_args(cls), "on random float64 inputs", RTOL, ATOL, gradients=False)


@for_each_class()
def test_gradients_match_pytorch_for_a_random_upstream_gradient(student, cls):
    """backward returns grad_output times the derivative, for a random upstream gradient (float64)"""
    x, g = random_case(1)
    assert_matches(student, cls, x, g, extra_args(cls), "for a random upstream gradient", RTOL, ATOL, values=False)


@for_each_class()
def test_edge_inputs_in_float64(student, cls):
    """gives the right, finite values and gradients at 0, ±6, ±20, ±40 and ±1e4 (float64)"""
    g = np.random.default_rng(2).normal(0.0, 1.0, EDGES.shape)
    assert_matches(student, cls, EDGES, g, extra_args(cls), "at 0, ±6, ±20, ±40 and ±1e4", RTOL, ATOL)


@for_each_class()
def test_float32_stays_float32(student, cls):
    """keeps float32 input as float32, in the output and in the gradient, with float32 accuracy"""
    x, g = random_case(3, dtype=np.float32)
    value, grad, _, _ = assert_matches(student, cls, x, g, extra_args(cls), "on float32 inputs", RTOL32, ATOL32)
    assert_dtype(value, np.float32, f"{cls}.apply")
    assert_dtype(grad, np.float32, f"{cls}'s backward")


@for_each_class()
def test_huge_float32_inputs_stay_finite(student, cls):
    """stays finite, with the right values and gradients, for float32 inputs up to ±1e4"""
    x = np.array([1e4, -1e4, 3e3, -3e3, 100.0, -100.0, 40.0, -40.0, 20.0, -20.0, 0.0], dtype=np.float32)
    g = np.linspace(-2.0, 2.0, x.size).astype(np.float32)
    value, grad, _, _ = run(student, cls, x, g, extra_args(cls))
    for array, what in [(value, f"{cls}.apply"), (grad, f"the gradient from {cls}'s backward")]:
        if not np.all(np.isfinite(array.astype(np.float64))):
            raise CheckFailure(f"{what} gave inf or nan for float32 inputs as large as ±1e4")
    expected_value, expected_grad = reference(cls, x, g, extra_args(cls))
    assert_close(value, expected_value, f"{cls}.apply on large float32 inputs", RTOL32, ATOL32)
    assert_close(grad, expected_grad, f"the gradient from {cls}'s backward on large float32 inputs", RTOL32, ATOL32)


@for_each_class()
def test_every_shape_from_0d_to_3d_and_empty(student, cls):
    """keeps the shape of 0-d, 1-d, 2-d, 3-d and empty inputs, for values and gradients"""
    for i, shape in enumerate([(), (7,), (3, 4), (2, 3, 4), (0,), (2, 0, 3)]):
        x, g = random_case(10 + i, shape)
        value, grad, _, _ = assert_matches(student, cls, x, g, extra_args(cls), f"on shape {shape}", RTOL, ATOL)
        assert_shape(value, shape, f"{cls}.apply on shape {shape}")
        assert_shape(grad, shape, f"the gradient from {cls}'s backward on shape {shape}")


@for_each_class()
def test_gradient_comes_from_your_backward(student, cls):
    """is a torch.autograd.Function: the output's grad_fn is the class's own backward, and its gradient is right"""
    x, g = random_case(4, (9,))
    _, _, node, _ = assert_matches(student, cls, x, g, extra_args(cls), "on random inputs", RTOL, ATOL, values=False)
    if not (node.endswith("Backward") and cls in node):
        raise CheckFailure(f"the output's grad_fn is {node[:60]}, not {cls}'s backward: write {cls} as a "
                           "torch.autograd.Function and call it with .apply")


@for_each_class()
def test_two_calls_in_flight_do_not_interfere(student, cls):
    """keeps what backward needs on ctx: two outputs alive at once each get their own gradient"""
    (x1, g1), (x2, g2) = random_case(5, (8,)), random_case(6, (8,))
    result = call(student, cls, "interleaved", x1, g1, x2, g2, extra_args(cls))
    if not isinstance(result, (list, tuple)) or len(result) != 2 or any(r is None for r in result):
        raise CheckFailure(f"{cls}: no gradient reached x when two outputs were alive at once")
    for grad, x, g, which in [(result[0], x1, g1, "first"), (result[1], x2, g2, "second")]:
        assert_close(grad, reference(cls, x, g, extra_args(cls))[1],
                     f"the gradient of the {which} of two calls alive at once (keep state on ctx, not on the class)",
                     RTOL, ATOL)


@for_each_class()
def test_passes_gradcheck_in_float64(student, cls):
    """passes torch.autograd.gradcheck in float64, and its gradient there is PyTorch's"""
    x = np.random.default_rng(7).normal(0.0, 2.0, 6)
    passed = call(student, cls, "gradcheck", x, extra_args(cls, 1.5))
    if passed is not True:
        raise CheckFailure(f"torch.autograd.gradcheck failed for {cls}: its backward and the centred "
                           "differences of its forward disagree")
    assert_matches(student, cls, x, np.ones_like(x), extra_args(cls, 1.5), "at gradcheck's inputs", RTOL, ATOL)


@for_each_class()
def test_does_not_modify_its_input(student, cls):
    """leaves its input tensor unchanged"""
    x = np.concatenate([random_case(8, (20,))[0], EDGES])
    _, _, _, after = run(student, cls, x, np.ones_like(x), extra_args(cls))
    if after is None or not np.array_equal(np.asarray(after), x):
        raise CheckFailure(f"{cls}.apply changed its input tensor in place; compute on new tensors")


@SWISH
def test_swish_honours_beta_in_forward_and_backward(student):
    """uses beta in the values and in the gradient, for beta = 0.5, 2, 3.7, -1 and 0"""
    x, g = random_case(20, (40,))
    x = np.concatenate([x, EDGES])
    g = np.concatenate([g, np.linspace(-1, 1, EDGES.size)])
    for beta in [0.5, 2.0, 3.7, -1.0, 0.0]:
        assert_matches(student, "SwishFunction", x, g, extra_args("SwishFunction", beta), f"with beta = {beta}",
                       RTOL, ATOL)


@SWISH
def test_swish_with_beta_in_float32(student):
    """keeps float32 as float32, with float32 accuracy, for beta other than 1"""
    x, g = random_case(21, dtype=np.float32)
    for beta in [0.5, 2.5]:
        value, grad, _, _ = assert_matches(student, "SwishFunction", x, g, extra_args("SwishFunction", beta),
                                           f"on float32 inputs with beta = {beta}", RTOL32, ATOL32)
        assert_dtype(value, np.float32, "SwishFunction.apply")
        assert_dtype(grad, np.float32, "SwishFunction's backward")

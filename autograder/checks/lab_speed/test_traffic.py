"""Hidden checks of the byte counts: elementwise_traffic and the unfused and fused bias + activation."""
import numpy as np
import pytest

from autograder.checking import DETAIL, FORMULA, CheckFailure, assert_exact_int, assert_python_int
from autograder.proxy import Student, StudentCallError

from . import probes
from .references import HUGE_NUMELS, NUMPY_DTYPES, TORCH_DTYPES, describe, expected_bytes

# FORMULA: wrong bytes, or a crash on a dtype the contract allows; DETAIL: the return type
TRAFFIC = pytest.mark.cell("test_elementwise_traffic", weight=FORMULA)
TRAFFIC_DETAIL = pytest.mark.cell("test_elementwise_traffic", weight=DETAIL)
# name -> passes over memory of the bias + activation pairs
PAIRS = {"unfused_bias_activation_traffic": 4, "fused_bias_activation_traffic": 2}
WHY_INT = "bytes are whole numbers, and a Python int never overflows"


def call_with_dtype(student, function, numel, kind, name, *args, **kwargs):
    """The student's `function(numel, dtype, *args, **kwargs)` for the dtype (kind, name), as a CallResult."""
    try:
        # the probe of the function's own name (probes.py): a failure reads as the student's function's
        return student.call(function, Student(function), numel, kind, name, *args, _program=probes, **kwargs)
    except StudentCallError as exc:
        raise CheckFailure(str(exc)) from None


def for_each_pair(weight):
    """One case per pair function, each backing its own cell with the full `weight`."""
    cases = [pytest.param(f, id=f, marks=pytest.mark.cell(f"test_{f}", weight=weight)) for f in PAIRS]
    return pytest.mark.parametrize("function", cases)


def as_int(value):
    """The returned value as an int when it is a whole number, else None (for comparing with look-alikes)."""
    value = value[()] if getattr(value, "ndim", None) == 0 else value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return int(value) if np.isfinite(float(value)) and int(value) == value else None


def wrapped_int32(n):
    return (n + 2**31) % 2**32 - 2**31


def assert_bytes(result, numel, kind, name, passes, what, look_alikes=()):
    """The byte count is exact; a wrong one that a common mistake gives says which (misconceptions.toml
    explains each): bits, a fixed element size, an int32 that wrapped, or the (description, passes) given."""
    expected = expected_bytes(numel, kind, name, passes)
    try:
        assert_exact_int(result, expected, what, "bytes")
    except CheckFailure as failure:
        value = as_int(result.value)
        candidates = [(description, expected_bytes(numel, kind, name, other)) for description, other in look_alikes]
        candidates += [("8 times the bytes: bits, not bytes, were counted", 8 * expected),
                       ("the count for 4-byte elements, whatever the dtype: the dtype's own element size is not used",
                        int(numel) * 4 * int(passes)),
                       ("the count wrapped around like a 32-bit integer", wrapped_int32(expected))]
        for description, other in candidates:
            if value is not None and other != expected and value == other:
                raise CheckFailure(f"{failure}: it is {description}") from None
        raise


def check_traffic(student, numel, kind, name, n_inputs, n_outputs):
    result = call_with_dtype(student, "elementwise_traffic", numel, kind, name, n_inputs, n_outputs)
    assert_bytes(result, numel, kind, name, n_inputs + n_outputs,
                 f"elementwise_traffic({numel}, {describe(kind, name)}, {n_inputs}, {n_outputs})",
                 [("the bytes read, without the bytes written", n_inputs)] if n_outputs else [])


@TRAFFIC
def test_traffic_counts_every_read_and_every_write(student):
    """counts the bytes of every tensor read and every tensor written (float32)"""
    for numel in [0, 1, 7, 1000, 123_457]:
        for n_inputs, n_outputs in [(1, 1), (2, 1), (3, 1), (1, 2), (0, 1), (2, 2), (1, 0)]:
            check_traffic(student, numel, "torch", "float32", n_inputs, n_outputs)


@TRAFFIC
def test_traffic_uses_the_element_size_of_each_torch_dtype(student):
    """uses the element size in bytes of any torch dtype (float16, bfloat16, float64, int8, bool, complex64, ...)"""
    for kind, name in TORCH_DTYPES:
        check_traffic(student, 1000, kind, name, 1, 1)
        check_traffic(student, 77, kind, name, 2, 1)


@TRAFFIC
def test_traffic_accepts_numpy_dtypes(student):
    """accepts numpy dtypes, both np.dtype('float32') and np.float32, integers too"""
    for kind, name in NUMPY_DTYPES:
        check_traffic(student, 1000, kind, name, 1, 1)


@TRAFFIC
def test_traffic_is_exact_beyond_two_to_the_31_elements(student):
    """is exact for tensors of more than 2**31 elements (no int32 overflow)"""
    for numel in HUGE_NUMELS:
        for kind, name in [("torch", "float32"), ("torch", "bfloat16"), ("numpy", "float64")]:
            check_traffic(student, numel, kind, name, 1, 1)


@TRAFFIC
def test_traffic_defaults_to_one_input_and_one_output(student):
    """reads one tensor and writes one when n_inputs and n_outputs are not given"""
    for numel, (kind, name) in [(1000, ("torch", "float32")), (5, ("torch", "float16")), (2**20, ("numpy", "float64"))]:
        result = call_with_dtype(student, "elementwise_traffic", numel, kind, name)
        what = f"elementwise_traffic({numel}, {describe(kind, name)})"
        try:
            assert_exact_int(result, expected_bytes(numel, kind, name, 2), what, "bytes")
        except CheckFailure as failure:
            try:  # the same call with the two counts written out: if it is right, the defaults are at fault
                check_traffic(student, numel, kind, name, 1, 1)
                defaults_at_fault = True
            except CheckFailure:
                defaults_at_fault = False
            if defaults_at_fault:
                raise CheckFailure(f"{failure}, though with n_inputs=1 and n_outputs=1 written out it is right: "
                                   "the defaults are not 1 and 1") from None
            assert_bytes(result, numel, kind, name, 2, what, [("the bytes read, without the bytes written", 1)])
            raise


@TRAFFIC_DETAIL
def test_traffic_returns_a_python_int(student):
    """returns a Python int"""
    for numel, (kind, name) in [(1000, ("torch", "float32")), (2**20, ("numpy", "float16"))]:
        assert_python_int(call_with_dtype(student, "elementwise_traffic", numel, kind, name, 1, 1),
                          f"elementwise_traffic({numel}, {describe(kind, name)}, 1, 1)", WHY_INT)


# (description, passes) of the counts a common mistake gives for each pair
PAIR_LOOK_ALIKES = {
    "unfused_bias_activation_traffic": [
        ("3 passes: z is written by the first kernel and read again by the second, both count", 3),
        ("5 passes: the bias is counted as a tensor of numel elements", 5)],
    "fused_bias_activation_traffic": [
        ("4 passes, the two-kernel count: the fused kernel keeps z in registers", 4),
        ("3 passes: the bias is counted as a tensor of numel elements", 3)],
}


def check_pair(student, function, numel, kind, name):
    result = call_with_dtype(student, function, numel, kind, name)
    assert_bytes(result, numel, kind, name, PAIRS[function], f"{function}({numel}, {describe(kind, name)})",
                 PAIR_LOOK_ALIKES[function])
    return result


@for_each_pair(weight=FORMULA)
def test_pair_counts_its_passes_over_memory(student, function):
    """counts the right number of passes over memory (float32), the bias not counted"""
    for numel in [0, 1, 3, 1000, 2**20 + 3]:
        check_pair(student, function, numel, "torch", "float32")


@for_each_pair(weight=FORMULA)
def test_pair_uses_the_element_size_of_each_dtype(student, function):
    """uses the element size of any torch or numpy dtype (floats, integers, bool, complex)"""
    for kind, name in TORCH_DTYPES + NUMPY_DTYPES:
        check_pair(student, function, 4096, kind, name)


@for_each_pair(weight=FORMULA)
def test_pair_is_exact_beyond_two_to_the_31_elements(student, function):
    """is exact for tensors of more than 2**31 elements"""
    for numel in HUGE_NUMELS:
        check_pair(student, function, numel, "torch", "bfloat16")
        check_pair(student, function, numel, "torch", "float32")


@for_each_pair(weight=DETAIL)
def test_pair_returns_a_python_int(student, function):
    """returns a Python int"""
    for numel in [1000, 2**20]:
        assert_python_int(call_with_dtype(student, function, numel, "torch", "float32"),
                          f"{function}({numel}, torch.float32)", WHY_INT)


@pytest.mark.cell("test_fused_bias_activation_traffic", weight=FORMULA)
def test_fusing_halves_the_traffic(student):
    """moves half the bytes of the unfused version, for every dtype"""
    for kind, name in [("torch", "float32"), ("torch", "float16"), ("numpy", "float64")]:
        fused = call_with_dtype(student, "fused_bias_activation_traffic", 10_000, kind, name).value
        unfused = expected_bytes(10_000, kind, name, PAIRS["unfused_bias_activation_traffic"])
        if fused * 2 != unfused:
            raise CheckFailure(f"fused_bias_activation_traffic(10000, {describe(kind, name)}) is not half "
                               "the traffic of the two-kernel version")

"""The hidden checks of `lab_speed` pass every correct implementation and fail realistic wrong ones."""
import functools
import re

import pytest

from autograder.checking import DETAIL, FORMULA
from helpers import (assert_every_misconception_is_shown, assert_wrong_answers_lose_points_where_due, failed_checks,
                     hidden_results, solution, with_answer, with_answers)

ASSIGNMENT = "lab_speed"
# the reference counts the bias + activation pairs with elementwise_traffic: a mistake there costs points there too
DEPENDANTS = {"elementwise_traffic": {"test_unfused_bias_activation_traffic", "test_fused_bias_activation_traffic"}}
VALUE_CHECKS = {"test_traffic_counts_every_read_and_every_write",
                "test_traffic_uses_the_element_size_of_each_torch_dtype", "test_traffic_accepts_numpy_dtypes",
                "test_traffic_is_exact_beyond_two_to_the_31_elements",
                "test_traffic_defaults_to_one_input_and_one_output"}
PAIR_CHECKS = {"test_pair_counts_its_passes_over_memory", "test_pair_uses_the_element_size_of_each_dtype",
               "test_pair_is_exact_beyond_two_to_the_31_elements"}


def traffic(expression, itemsize="dtype.itemsize if isinstance(dtype, torch.dtype) else np.dtype(dtype).itemsize"):
    """An elementwise_traffic that returns `expression` (it has numel, itemsize, n_inputs and n_outputs)."""
    return ("def elementwise_traffic(numel, dtype, n_inputs=1, n_outputs=1):\n"
            f"    itemsize = {itemsize}\n    return {expression}\n")


RIGHT_TRAFFIC = "numel * itemsize * (n_inputs + n_outputs)"


def guarded(signature, expression, guard):
    check = f"    if {guard}:\n        raise ValueError('not positive')\n" if guard else ""
    return f"def {signature}:\n{check}    return {expression}\n"


def gbps(expression, guard="seconds <= 0"):
    return guarded("achieved_gbps(nbytes, seconds)", expression, guard)


def fraction(expression, guard="peak <= 0"):
    return guarded("fraction_of_peak(achieved, peak)", expression, guard)


def pair(function, body):
    return f"def {function}(numel, dtype):\n    return {body}\n"


def passes(*kernels):
    """The sum of elementwise_traffic over kernels given as (n_inputs, n_outputs)."""
    return " + ".join(f"elementwise_traffic(numel, dtype, {i}, {o})" for i, o in kernels)


ITEMSIZE = "(dtype.itemsize if isinstance(dtype, torch.dtype) else np.dtype(dtype).itemsize)"
# a table of the four float dtypes the text names as examples, torch and numpy: the contract is any dtype
FOUR_FLOATS = ("{torch.float32: 4, torch.float16: 2, torch.bfloat16: 2, torch.float64: 8, np.dtype('float32'): 4, "
               "np.dtype('float16'): 2, np.dtype('float64'): 8}[dtype if isinstance(dtype, torch.dtype) "
               "else np.dtype(dtype)]")


# (answer cell, wrong source, checks that must fail, the misconception that explains one of them or None).
# Each is a mistake students really make.
WRONG = [
    ("elementwise_traffic", traffic("numel * itemsize * n_inputs"),  # counts only what is read
     VALUE_CHECKS, "reads-only"),
    ("elementwise_traffic", traffic(RIGHT_TRAFFIC, itemsize="(torch.finfo(dtype).bits if dtype.is_floating_point "
                                                            "else torch.iinfo(dtype).bits)"),  # bits, not bytes
     {"test_traffic_counts_every_read_and_every_write", "test_traffic_uses_the_element_size_of_each_torch_dtype"},
     "bits-not-bytes"),
    ("elementwise_traffic", traffic("int(np.prod(np.array([numel, itemsize, n_inputs + n_outputs], dtype=np.int32)))"),
     {"test_traffic_is_exact_beyond_two_to_the_31_elements"},  # int32 wraps (numpy < 2 on Windows does this silently)
     "int32-overflow"),
    ("elementwise_traffic", traffic(RIGHT_TRAFFIC, itemsize="torch.empty(0, dtype=dtype).element_size()"),
     {"test_traffic_accepts_numpy_dtypes"}, "torch-dtypes-only"),  # torch dtypes only
    ("elementwise_traffic", traffic(RIGHT_TRAFFIC, itemsize=FOUR_FLOATS),  # KeyError for int8, bool, complex64
     {"test_traffic_uses_the_element_size_of_each_torch_dtype", "test_traffic_accepts_numpy_dtypes"}, "dtype-table"),
    ("elementwise_traffic", traffic(RIGHT_TRAFFIC, itemsize="4"),  # float32 assumed
     {"test_traffic_uses_the_element_size_of_each_torch_dtype", "test_traffic_accepts_numpy_dtypes"},
     "fixed-element-size"),
    ("elementwise_traffic", traffic("float(numel) * itemsize * (n_inputs + n_outputs)"),
     {"test_traffic_returns_a_python_int"}, "not-a-python-int"),
    ("elementwise_traffic", traffic("np.int64(numel) * itemsize * (n_inputs + n_outputs)"),
     {"test_traffic_returns_a_python_int"}, "not-a-python-int"),
    ("elementwise_traffic", traffic(RIGHT_TRAFFIC).replace("n_inputs=1, n_outputs=1", "n_inputs=1, n_outputs=0"),
     {"test_traffic_defaults_to_one_input_and_one_output"}, "wrong-defaults"),
    ("achieved_gbps", gbps("nbytes / seconds / 2**30"),
     {"test_gbps_counts_decimal_gigabytes_per_second", "test_gbps_for_extreme_sizes_and_times"},
     "gibibytes-not-gigabytes"),
    ("achieved_gbps", gbps("8 * nbytes / seconds / 1e9"),  # gigabits
     {"test_gbps_counts_decimal_gigabytes_per_second", "test_gbps_for_extreme_sizes_and_times"},
     "gigabits-not-gigabytes"),
    ("achieved_gbps", gbps("nbytes / seconds / 1e9", guard=None),  # ZeroDivisionError, and a negative bandwidth
     {"test_gbps_rejects_a_time_that_is_not_positive"}, "time-not-checked"),
    ("achieved_gbps", gbps("nbytes / max(seconds, 1e-12) / 1e9", guard="seconds < 0"),
     {"test_gbps_rejects_a_time_that_is_not_positive"}, "time-not-checked"),
    ("achieved_gbps", gbps("np.float32(nbytes / seconds / 1e9)"),
     {"test_gbps_counts_decimal_gigabytes_per_second", "test_gbps_returns_a_float"}, "float32-result"),
    ("achieved_gbps", gbps("nbytes // seconds // 10**9"),
     {"test_gbps_counts_decimal_gigabytes_per_second", "test_gbps_for_extreme_sizes_and_times"}, "floor-division"),
    ("achieved_gbps", gbps("float('nan')"),  # a float, and no number
     {"test_gbps_counts_decimal_gigabytes_per_second", "test_gbps_for_extreme_sizes_and_times"}, None),
    ("fraction_of_peak", fraction("peak / achieved"),
     {"test_fraction_is_achieved_over_peak", "test_fraction_above_the_peak_and_at_zero"}, "fraction-upside-down"),
    ("fraction_of_peak", fraction("100 * achieved / peak"),
     {"test_fraction_is_achieved_over_peak", "test_fraction_above_the_peak_and_at_zero"}, "percentage-not-fraction"),
    ("fraction_of_peak", fraction("min(achieved / peak, 1.0)"), {"test_fraction_above_the_peak_and_at_zero"},
     "fraction-capped"),
    ("fraction_of_peak", fraction("achieved / peak", guard=None),
     {"test_fraction_rejects_a_peak_that_is_not_positive"}, "peak-not-checked"),
    ("fraction_of_peak", fraction("float('nan')"),
     {"test_fraction_is_achieved_over_peak", "test_fraction_above_the_peak_and_at_zero"}, None),
    ("unfused_bias_activation_traffic", pair("unfused_bias_activation_traffic", passes((1, 1), (0, 1))),
     PAIR_CHECKS, "second-read-of-z-missing"),  # forgets that the second kernel reads z again: 3 passes
    ("unfused_bias_activation_traffic", pair("unfused_bias_activation_traffic", passes((2, 1), (1, 1))),
     PAIR_CHECKS, "bias-counted"),  # counts the bias as a full tensor: 5 passes
    ("unfused_bias_activation_traffic", pair("unfused_bias_activation_traffic", "4 * numel * 4"),
     {"test_pair_uses_the_element_size_of_each_dtype"}, "fixed-element-size"),
    ("unfused_bias_activation_traffic", pair("unfused_bias_activation_traffic", f"4 * numel * {FOUR_FLOATS}"),
     {"test_pair_uses_the_element_size_of_each_dtype"}, "dtype-table"),
    ("fused_bias_activation_traffic",
     pair("fused_bias_activation_traffic", "unfused_bias_activation_traffic(numel, dtype)"),
     PAIR_CHECKS | {"test_fusing_halves_the_traffic"}, "fused-counted-as-unfused"),  # fusing counted as 4 passes
    ("fused_bias_activation_traffic", pair("fused_bias_activation_traffic", passes((2, 1))),
     PAIR_CHECKS | {"test_fusing_halves_the_traffic"}, "bias-counted"),  # the bias counted as a full tensor
    ("fused_bias_activation_traffic",
     pair("fused_bias_activation_traffic", "unfused_bias_activation_traffic(numel, dtype) / 2"),
     {"test_pair_returns_a_python_int"}, "not-a-python-int"),
    ("fused_bias_activation_traffic", pair("fused_bias_activation_traffic", f"2 * numel * {FOUR_FLOATS}"),
     {"test_pair_uses_the_element_size_of_each_dtype"}, "dtype-table"),
]


# Each worker imports torch (seconds): the wrong implementations run in groups, at most one per answer cell,
# with the pairs written without elementwise_traffic so that one cell's mistake cannot cost another cell points.
INDEPENDENT = {"unfused_bias_activation_traffic": pair("unfused_bias_activation_traffic", f"4 * numel * {ITEMSIZE}"),
               "fused_bias_activation_traffic": pair("fused_bias_activation_traffic", f"2 * numel * {ITEMSIZE}")}


def calls(entry, cell):
    """Whether the wrong source of `entry` calls the function of another answer cell `cell`."""
    return entry[0] != cell and re.search(rf"\b{cell}\(", entry[1]) is not None


def groups(wrong):
    """Lists of (grade_id, source, must_fail, explained_by) with at most one entry per answer cell, and none whose
    source calls the function of another entry's cell: a pair counted with elementwise_traffic runs beside the
    right elementwise_traffic, so that its own mistake is the one its checks see."""
    result = []
    for entry in wrong:
        for group in result:
            if all(e[0] != entry[0] and not calls(entry, e[0]) and not calls(e, entry[0]) for e in group):
                group.append(entry)
                break
        else:
            result.append([entry])
    return result


@pytest.mark.slow
@pytest.mark.parametrize("group", groups(WRONG), ids=lambda group: "+".join(g for g, *_ in group))
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(group):
    """Each cell fails its `must_fail` checks, and the misconception `explained_by` explains one of them."""
    assert_wrong_answers_lose_points_where_due(ASSIGNMENT, group, beside=INDEPENDENT)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG)


def test_a_wrong_elementwise_traffic_costs_points_in_the_cells_that_use_it():
    results = hidden_results(with_answer(solution(ASSIGNMENT), "elementwise_traffic", WRONG[0][1]), ASSIGNMENT)
    assert {cell for cell in results if failed_checks(results, cell)} == \
        {"test_elementwise_traffic"} | DEPENDANTS["elementwise_traffic"]


# Correct implementations that differ from the reference.
RIGHT = [
    {"elementwise_traffic": "def elementwise_traffic(numel, dtype, n_inputs=1, n_outputs=1):\n"
                            "    if isinstance(dtype, torch.dtype):\n"
                            "        size = torch.empty((), dtype=dtype).element_size()\n"
                            "    else:\n        size = np.empty(0, dtype=dtype).itemsize\n"
                            "    return (n_inputs + n_outputs) * size * numel\n",
     "unfused_bias_activation_traffic": pair("unfused_bias_activation_traffic", passes((1, 1), (1, 1))),
     "fused_bias_activation_traffic": pair("fused_bias_activation_traffic", "elementwise_traffic(numel, dtype)")},
    {"achieved_gbps": gbps("np.float64(nbytes) / 1e9 / seconds", guard="not seconds > 0"),
     "fraction_of_peak": fraction("np.divide(achieved, peak)")},
    {"unfused_bias_activation_traffic": pair("unfused_bias_activation_traffic", f"4 * numel * {ITEMSIZE}"),
     "fused_bias_activation_traffic": pair("fused_bias_activation_traffic",
                                           "unfused_bias_activation_traffic(numel, dtype) // 2")},
]


@pytest.mark.slow
@pytest.mark.parametrize("sources", RIGHT, ids=["-".join(s) for s in RIGHT])
def test_a_different_correct_implementation_gets_full_marks(sources):
    results = hidden_results(with_answers(solution(ASSIGNMENT), sources), ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}


# The notebook's text followed word for word: "a torch dtype knows it as `dtype.itemsize`; for a numpy dtype use
# `np.dtype(dtype).itemsize`; `isinstance(dtype, torch.dtype)` tells the two apart", nothing converted to int,
# the pairs counted as the text's passes, the two functions as the text's formulas.
AS_THE_TEXT_SAYS = {
    "elementwise_traffic": "def elementwise_traffic(numel, dtype, n_inputs=1, n_outputs=1):\n"
                           "    if isinstance(dtype, torch.dtype):\n        element_size = dtype.itemsize\n"
                           "    else:\n        element_size = np.dtype(dtype).itemsize\n"
                           "    return numel * element_size * (n_inputs + n_outputs)\n",
    "achieved_gbps": gbps("nbytes / seconds / 1e9"),
    "fraction_of_peak": fraction("achieved / peak"),
    "unfused_bias_activation_traffic": pair("unfused_bias_activation_traffic", passes((1, 1), (1, 1))),
    "fused_bias_activation_traffic": pair("fused_bias_activation_traffic", passes((1, 1)))}
# The severity rule: a wrong formula (wrong bytes or values, a crash on a valid input, nan) weighs FORMULA, a
# contract detail (the return type, ValueError for a bad argument) DETAIL.
DETAIL_CHECKS = {"test_traffic_returns_a_python_int", "test_pair_returns_a_python_int", "test_gbps_returns_a_float",
                 "test_fraction_returns_a_float", "test_gbps_rejects_a_time_that_is_not_positive",
                 "test_fraction_rejects_a_peak_that_is_not_positive"}


@functools.lru_cache(maxsize=None)
def results_as_the_text_says():
    return hidden_results(with_answers(solution(ASSIGNMENT), AS_THE_TEXT_SAYS), ASSIGNMENT)


@pytest.mark.slow
def test_the_implementation_the_notebook_describes_gets_full_marks():
    results = results_as_the_text_says()
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}
    assert set(results) == {f"test_{grade_id}" for grade_id in AS_THE_TEXT_SAYS}


@pytest.mark.slow
def test_a_wrong_formula_weighs_more_than_a_contract_detail():
    weights = {r.nodeid.split("::")[-1].split("[")[0]: r.weight for cell in results_as_the_text_says().values()
               for r in cell}
    assert DETAIL_CHECKS <= set(weights)
    assert {name: w for name, w in weights.items() if w != (DETAIL if name in DETAIL_CHECKS else FORMULA)} == {}

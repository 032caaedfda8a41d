"""A hidden check weighs by how bad the fault it catches is (README, "How a grade is made"): a wrong result costs
a test cell more than a slip in a detail of its contract, and a slip alone keeps most of the cell's points."""
import pytest

from autograder import notebook
from autograder.scoring import cell_scores
from helpers import failed_checks, hidden_results, solution, with_answers

ASSIGNMENT = "activations"
CELLS = {"test_gelu", "test_softmax"}

# The only fault of each: a float64 result for float32 input.
DTYPE_SLIPS = {
    "gelu": "def gelu(x, approximate='none'):\n"
            "    x = np.asarray(x, dtype=np.float64)\n"
            "    if approximate == 'none':\n"
            "        return 0.5 * x * (1 + erf(x / 2**0.5))\n"
            "    if approximate == 'tanh':\n"
            "        return 0.5 * x * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))\n"
            "    raise ValueError(f'unknown approximation {approximate!r}')",
    "softmax": "def softmax(x, axis=-1, temperature=1.0):\n"
               "    z = np.asarray(x, dtype=np.float64) / temperature\n"
               "    e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n"
               "    return e / np.sum(e, axis=axis, keepdims=True)",
}
# Wrong values: a GELU that uses the tanh form by default (off by up to 5e-4 everywhere), and a softmax that
# subtracts no maximum before exp (nan for large inputs).
WRONG_RESULTS = {
    "gelu": "def gelu(x, approximate='tanh'):\n"
            "    x = np.asarray(x)\n"
            "    if approximate == 'none':\n"
            "        return 0.5 * x * (1 + erf(x / 2**0.5).astype(x.dtype, copy=False))\n"
            "    if approximate == 'tanh':\n"
            "        return 0.5 * x * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))\n"
            "    raise ValueError(f'unknown approximation {approximate!r}')",
    "softmax": "def softmax(x, axis=-1, temperature=1.0):\n"
               "    e = np.exp(np.asarray(x) / temperature)\n"
               "    return e / np.sum(e, axis=axis, keepdims=True)",
}


def grade(answers):
    """({test cell: points earned}, {test cell: [CheckResult]}) for the solution with `answers` in its cells."""
    results = hidden_results(with_answers(solution(ASSIGNMENT), answers), ASSIGNMENT, CELLS)
    cells = [c for c in notebook.test_cells(solution(ASSIGNMENT)) if c.grade_id in CELLS]
    return cell_scores(cells, [r for grade_id in CELLS for r in results.get(grade_id, [])]), results


@pytest.fixture(scope="module")
def graded():
    return {"slip": grade(DTYPE_SLIPS), "wrong": grade(WRONG_RESULTS)}


def test_each_answer_fails_what_it_is_meant_to(graded):
    """The slips fail only their cell's float32 check; the wrong results fail the values or the stability."""
    _, slip = graded["slip"]
    assert failed_checks(slip, "test_gelu") == {"test_float32_input_gives_float32_output"}
    assert failed_checks(slip, "test_softmax") == {"test_softmax_float32_and_shapes"}
    _, wrong = graded["wrong"]
    assert "test_values_match_pytorch_in_float64" in failed_checks(wrong, "test_gelu")
    assert failed_checks(wrong, "test_softmax") == {"test_softmax_is_shift_invariant_and_stable"}


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_a_wrong_result_costs_more_than_a_dtype_slip(graded, cell):
    (slip, _), (wrong, _) = graded["slip"], graded["wrong"]
    assert wrong[cell] < slip[cell]


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_a_dtype_slip_keeps_at_least_three_quarters_of_the_points(graded, cell):
    points = {c.grade_id: c.points for c in notebook.test_cells(solution(ASSIGNMENT))}
    slip, _ = graded["slip"]
    assert slip[cell] >= 0.75 * points[cell]

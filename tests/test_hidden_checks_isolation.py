"""No hidden check of one test cell depends on an answer it does not use: the wrong implementations of
test_hidden_checks_<id>.py run their own cell's checks only, and this is what makes that enough."""
import pytest

from autograder import course
from helpers import answer_dependants, code_cells, failed_checks, hidden_results, solution, with_answer

# Where a mistake may rightly cost points in another test cell besides a call by name (answer_dependants):
# backward's checks run it on the cache that the student's forward returns.
DATA_DEPENDANTS = {("backprop", "forward"): {"test_backward"}}
ANSWERS = [(a, meta["grade_id"]) for a in course.assignments() for meta, _ in code_cells(a) if meta.get("solution")]


@pytest.mark.slow
@pytest.mark.parametrize("assignment, grade_id", ANSWERS, ids=[f"{a}-{g}" for a, g in ANSWERS])
def test_an_unanswered_cell_costs_points_only_in_its_own_test_cell_and_where_it_is_used(assignment, grade_id):
    stub = "raise NotImplementedError()"
    results = hidden_results(with_answer(solution(assignment), grade_id, stub), assignment)
    allowed = ({f"test_{grade_id}"} | answer_dependants(assignment)[grade_id]
               | DATA_DEPENDANTS.get((assignment, grade_id), set()))
    assert failed_checks(results, f"test_{grade_id}"), f"stubbing {grade_id} cost its own test cell nothing"
    assert {cell for cell in results if failed_checks(results, cell)} <= allowed

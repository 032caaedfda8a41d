"""Every assignment's hidden checks back every test cell, pass the reference solution and fail the stub.

The files test_hidden_checks_<id>.py add, per assignment, the realistic wrong implementations the
checks must catch and the correct alternatives they must accept.
"""
import pytest

from autograder import course, notebook
from helpers import answer_dependants, code_cells, failed_checks, hidden_results, released, solution, with_answer

ASSIGNMENTS = course.assignments()


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def reference(request):
    return request.param, hidden_results(solution(request.param), request.param)


def test_every_test_cell_is_backed_by_at_least_four_hidden_checks(reference):
    assignment, results = reference
    assert set(results) == {c.grade_id for c in notebook.test_cells(solution(assignment))}
    assert all(len(checks) >= 4 for checks in results.values())


def test_the_reference_solution_passes_every_hidden_check(reference):
    _, results = reference
    assert [r.nodeid for checks in results.values() for r in checks if not r.passed] == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_released_stub_passes_no_hidden_check(assignment):
    results = hidden_results(released(assignment), assignment)
    assert [r.nodeid for checks in results.values() for r in checks if r.passed] == []


# Where a mistake may rightly cost points in another test cell besides a call by name (answer_dependants):
# backward's checks run it on the cache that the student's forward returns.
DATA_DEPENDANTS = {("backprop", "forward"): {"test_backward"}}
ANSWERS = [(a, meta["grade_id"]) for a in ASSIGNMENTS for meta, _ in code_cells(a) if meta.get("solution")]


@pytest.mark.slow
@pytest.mark.parametrize("assignment, grade_id", ANSWERS, ids=[f"{a}-{g}" for a, g in ANSWERS])
def test_an_unanswered_cell_costs_points_only_in_its_own_test_cell_and_where_it_is_used(assignment, grade_id):
    """The wrong implementations of test_hidden_checks_<id>.py run their own cell's checks only: this is what
    shows that no check of another cell depends on an answer it does not use."""
    stub = "raise NotImplementedError()"
    results = hidden_results(with_answer(solution(assignment), grade_id, stub), assignment)
    allowed = {f"test_{grade_id}"} | answer_dependants(assignment)[grade_id] | DATA_DEPENDANTS.get((assignment, grade_id), set())
    assert failed_checks(results, f"test_{grade_id}"), f"stubbing {grade_id} cost its own test cell nothing"
    assert {cell for cell in results if failed_checks(results, cell)} <= allowed

"""Every assignment's hidden checks back every test cell, pass the reference solution and fail the stub.

The files test_hidden_checks_<id>.py add, per assignment, the realistic wrong implementations the
checks must catch and the correct alternatives they must accept.
"""
import pytest

from autograder import course, notebook
from helpers import hidden_results, released, solution

ASSIGNMENTS = course.assignments()
# a lab's checks start a worker that imports PyTorch (seconds): those runs are left out of `make test-quick`
BY_COST = [pytest.param(a, marks=pytest.mark.slow) if a.startswith("lab_") else a for a in ASSIGNMENTS]


@pytest.fixture(scope="module", params=BY_COST)
def reference(request):
    return request.param, hidden_results(solution(request.param), request.param)


def test_every_test_cell_is_backed_by_at_least_four_hidden_checks(reference):
    assignment, results = reference
    assert set(results) == {c.grade_id for c in notebook.test_cells(solution(assignment))}
    assert all(len(checks) >= 4 for checks in results.values())


def test_the_reference_solution_passes_every_hidden_check(reference):
    _, results = reference
    assert [r.nodeid for checks in results.values() for r in checks if not r.passed] == []


@pytest.mark.parametrize("assignment", BY_COST)
def test_the_released_stub_passes_no_hidden_check(assignment):
    results = hidden_results(released(assignment), assignment)
    assert [r.nodeid for checks in results.values() for r in checks if r.passed] == []


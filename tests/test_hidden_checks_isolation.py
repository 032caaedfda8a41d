"""No hidden check of one test cell depends on an answer it does not use: the wrong implementations of
test_hidden_checks_<id>.py run their own cell's checks only, and this is what makes that enough.

For each answer cell, every other answer that it does not use is replaced by the stub, and its own test cell's
checks must all still pass (only they run, so the whole proof costs about one run of each assignment's checks).
"""
import pytest

from autograder import course
from helpers import answer_dependants, code_cells, failed_checks, hidden_results, solution, with_answers

# Where a cell's checks rightly depend on another answer besides a call by name (answer_dependants):
# backward's checks run it on the cache that the student's forward returns.
DATA_DEPENDANTS = {("backprop", "forward"): {"test_backward"}}
ANSWERS = [(a, meta["grade_id"]) for a in course.assignments() for meta, _ in code_cells(a) if meta.get("solution")]
STUB = "raise NotImplementedError()"


def answers_used_by(assignment, grade_id) -> set:
    """The answer cells whose definitions the checks of test_<grade_id> may rightly rely on, directly or not."""
    dependants = answer_dependants(assignment)
    for (a, answer), cells in DATA_DEPENDANTS.items():
        if a == assignment:
            dependants[answer] = dependants[answer] | cells
    used, frontier = set(), {grade_id}
    while frontier:
        cell = frontier.pop()
        new = {answer for answer, cells in dependants.items() if f"test_{cell}" in cells} - used - {grade_id}
        used |= new
        frontier |= new
    return used


@pytest.mark.slow
@pytest.mark.parametrize("assignment, grade_id", ANSWERS, ids=[f"{a}-{g}" for a, g in ANSWERS])
def test_a_cells_checks_pass_whatever_the_answers_it_does_not_use(assignment, grade_id):
    kept = {grade_id} | answers_used_by(assignment, grade_id)
    stubs = {answer: STUB for a, answer in ANSWERS if a == assignment and answer not in kept}
    results = hidden_results(with_answers(solution(assignment), stubs), assignment, {f"test_{grade_id}"})
    assert results.get(f"test_{grade_id}"), f"no check of test_{grade_id} ran"
    assert failed_checks(results, f"test_{grade_id}") == set(), f"with {sorted(stubs)} stubbed"

"""The grading run's progress counts and summary line say honestly how each submission ended."""
from autograder.grade import outcome, summary
from autograder.results import StudentGrade


def grade(student, **state):
    made = StudentGrade(student, "activations", [], recorded=True)
    for name, value in state.items():
        setattr(made, name, value)
    return made


def test_each_submission_ends_one_way():
    assert outcome(grade("a")) == "graded"
    assert outcome(grade("b", problems=["cell 3: SyntaxError"])) == "with problems"
    assert outcome(grade("c", reused=True)) == "reused"
    assert outcome(grade("d", grader_failed=True, problems=["the grader failed"])) == "failed"
    assert outcome(grade("e", recorded=False)) == "failed"


def test_the_summary_counts_them_and_those_not_graded():
    results = [grade("a"), grade("b"), grade("c", reused=True), grade("d", recorded=False),
               grade("e", problems=["could not be read"])]
    assert summary(results, 7) == "5 of 7 submissions: 2 graded, 1 with problems, 1 reused, 1 failed; 2 not graded"
    assert summary([], 0) == "0 of 0 submissions: none"

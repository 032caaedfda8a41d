"""Shared set-up of the hidden checks.

Every check is marked with the test cell it backs (`@pytest.mark.cell("test_sigmoid")`) and calls
the student's functions through the `student` fixture. The grader hands that fixture a submission's
code; run directly (`pytest autograder/checks/<id>`), the checks test the reference solution.
"""
import pytest

from autograder import course, notebook
from autograder.proxy import StudentCode
from autograder.runner import STUDENT_KEY


@pytest.fixture(scope="session")
def _reference_code():
    """The reference solutions' code, one worker per assignment, started when first needed."""
    started = {}

    def get(assignment):
        if assignment not in started:
            source = notebook.read_source(course.source_notebook(assignment))
            tests = {cell.grade_id for cell in notebook.test_cells(source)}
            started[assignment] = StudentCode(notebook.code_to_run(source, tests))
        return started[assignment]

    yield get
    for code in started.values():
        code.close()


@pytest.fixture
def student(request, _reference_code):
    """The code under test: the submission the grader gives, else the reference solution."""
    given = request.config.stash.get(STUDENT_KEY, None)
    return given if given is not None else _reference_code(request.path.parent.name)

"""Helpers for the project's tests: notebooks with one answer replaced, and hidden-check runs."""
from __future__ import annotations

import copy

import nbformat

from autograder import course, notebook
from autograder.proxy import StudentCode
from autograder.runner import run_checks


def solution(assignment="activations"):
    return notebook.read_source(course.source_notebook(assignment))


def released(assignment="activations"):
    return nbformat.read(str(course.EXERCISES / assignment / f"{assignment}.ipynb"), as_version=4)


def with_answer(nb, grade_id, source):
    """A copy of `nb` whose cell `grade_id` holds `source` instead."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if notebook.nbgrader_meta(c).get("grade_id") == grade_id]
    assert len(cells) == 1, f"no single cell {grade_id}"
    cells[0].source = source
    return nb


def hidden_results(nb, assignment="activations"):
    """Run the hidden checks on a notebook's code; return {grade_id: [CheckResult]}."""
    tests = {c.grade_id for c in notebook.test_cells(solution(assignment))}
    with StudentCode(notebook.code_to_run(nb, tests)) as code:
        results = run_checks(assignment, code)
    by_cell = {}
    for r in results:
        by_cell.setdefault(r.cell, []).append(r)
    return by_cell


def failed_checks(by_cell, grade_id):
    """Names of the failed checks of one cell, without the parameter part ("test_x[sigmoid]" -> "test_x")."""
    return {r.nodeid.split("::")[-1].split("[")[0] for r in by_cell.get(grade_id, []) if not r.passed}

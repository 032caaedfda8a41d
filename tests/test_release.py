"""exercises/ is exactly what nbgrader releases from solutions/, and gives nothing away."""
import json
import os
import re

import pytest

from autograder import course, notebook
from autograder.release import release
from helpers import released, solution

ASSIGNMENTS = course.assignments()


def test_every_assignment_has_a_source_and_a_release():
    assert "activations" in ASSIGNMENTS
    for assignment in ASSIGNMENTS:
        assert (course.EXERCISES / assignment / f"{assignment}.ipynb").is_file()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_exercises_are_exactly_what_release_produces(assignment, tmp_path):
    [fresh] = release([assignment], into=tmp_path)
    committed = course.EXERCISES / assignment / f"{assignment}.ipynb"
    assert json.loads(fresh.read_text()) == json.loads(committed.read_text()), \
        f"exercises/{assignment} is stale: run `python -m autograder release {assignment}`"
    assert sorted(p.name for p in fresh.parent.iterdir()) == sorted(p.name for p in committed.parent.iterdir())


def solution_lines(assignment):
    """Every line between BEGIN and END SOLUTION in the source notebook."""
    lines = []
    for cell in solution(assignment).cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_holds_no_solution_code(assignment):
    text = "\n".join(c.source for c in released(assignment).cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    released_lines = {line.strip() for line in text.splitlines()}
    leaked = [line for line in solution_lines(assignment) if line in released_lines]
    assert leaked == []
    answers = [c for c in released(assignment).cells if notebook.nbgrader_meta(c).get("solution")]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_links_the_built_books_pages_never_a_chapters_source(assignment):
    """The chapters' sources are not in the course kit: a link opens a page of the built book, whose
    address is course.BOOK_URL (tests/test_book.py opens every such link in the kit)."""
    links = [target for cell in released(assignment).cells if cell.cell_type == "markdown"
             for target in re.findall(r"\]\(([^)\s]+)\)", cell.source)]
    assert links, "every notebook links the book"
    assert [link for link in links if not link.startswith(course.BOOK_URL + "book/")] == []
    assert [link for link in links if ".md" in link] == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_holds_no_hidden_test(assignment):
    text = json.dumps(released(assignment))
    assert "HIDDEN TESTS" not in text
    check_names = set()
    for path in (course.CHECKS / assignment).glob("test_*.py"):
        check_names |= set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M))
    assert check_names and not [name for name in check_names if name in text]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_is_output_free_and_well_formed(assignment):
    nb = solution(assignment)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    answers = [c for c in nb.cells if notebook.nbgrader_meta(c).get("solution")]
    for cell in answers:
        # one function (or, in the PyTorch labs, one class) per answer cell, with a docstring stating its contract
        assert len(re.findall(r"^(?:def|class) \w+\(", cell.source, flags=re.M)) == 1
        assert re.search(r'^\s+"""\S', cell.source, flags=re.M), cell.source
    for test in notebook.test_cells(nb):
        assert test.title and test.points > 0
    assert not (course.SOLUTIONS / assignment / "gradebook.db").exists()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_is_followed_by_its_test_cell(assignment):
    cells = [notebook.nbgrader_meta(c) for c in solution(assignment).cells if c.cell_type == "code"]
    ids = [m.get("grade_id") for m in cells]
    for i, meta in enumerate(cells):
        if meta.get("solution"):
            assert ids[i + 1] == f"test_{meta['grade_id']}"


def test_nothing_but_notebooks_is_released_from_solutions():
    # nbgrader ships every file under solutions/<id>/ to students: hidden checks must never be there
    for assignment in ASSIGNMENTS:
        files = [p.name for p in (course.SOLUTIONS / assignment).iterdir() if p.name != ".ipynb_checkpoints"]
        assert files == [f"{assignment}.ipynb"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_nbgrader_cell_is_graded_a_solution_or_locked(assignment):
    # nbgrader's autograde crashes on every submission (KeyError 'grade_id') when an unlocked cell
    # carries nbgrader metadata but is neither graded nor a solution
    for cell in solution(assignment).cells:
        meta = notebook.nbgrader_meta(cell)
        if meta:
            assert meta.get("grade") or meta.get("solution") or meta.get("locked"), meta.get("grade_id")


def test_release_needs_no_virtual_environment_on_path_and_leaves_path_alone(tmp_path, monkeypatch):
    """nbgrader asks the `alembic` command for its schema: the grader answers in-process instead of editing PATH."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    [fresh] = release(["activations"], into=tmp_path)
    assert fresh.is_file() and os.environ["PATH"] == "/usr/bin:/bin"

"""Helpers for the project's tests: notebooks with one answer replaced, and hidden-check runs."""
from __future__ import annotations

import ast
import copy

import nbformat

from autograder import course, notebook
from autograder.proxy import StudentCode
from autograder.runner import run_checks


def solution(assignment="activations"):
    return notebook.read_source(course.source_notebook(assignment))


def released(assignment="activations"):
    return nbformat.read(str(course.EXERCISES / assignment / f"{assignment}.ipynb"), as_version=4)


def code_cells(assignment) -> list[tuple[dict, str]]:
    """(nbgrader metadata, source) of every code cell of an assignment's solution notebook."""
    nb = nbformat.read(str(course.source_notebook(assignment)), as_version=4)
    return [(notebook.nbgrader_meta(cell), cell.source) for cell in nb.cells if cell.cell_type == "code"]


def graded_names(assignment) -> list[str]:
    """The names that an assignment's answer cells define at their top level: its graded functions."""
    return [node.name for meta, source in code_cells(assignment) if meta.get("solution")
            for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def filled(assignment):
    """The released notebook with every answer cell holding the reference answer of solutions/."""
    answers = {meta["grade_id"]: source for meta, source in code_cells(assignment) if meta.get("solution")}
    return with_answers(released(assignment), answers)


def with_answer(nb, grade_id, source):
    """A copy of `nb` whose cell `grade_id` holds `source` instead."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if notebook.nbgrader_meta(c).get("grade_id") == grade_id]
    assert len(cells) == 1, f"no single cell {grade_id}"
    cells[0].source = source
    return nb


def hidden_results(nb, assignment="activations", cells=None):
    """Run the hidden checks (of the test cells in `cells`, or all) on a notebook's code; return
    {grade_id: [CheckResult]}.

    Only the imports cell and the answer cells run: the checks call the functions, and a lab's experiments,
    which take seconds even at the grader's size, would run once per wrong answer. The grader runs every
    cell; tests/test_grading.py and test_labs_run.py run the experiments."""
    tests = {c.grade_id for c in notebook.test_cells(solution(assignment))}
    needed = {meta["grade_id"] for meta in map(notebook.nbgrader_meta, nb.cells)
              if meta.get("solution") or meta.get("grade_id") == "imports"}
    cells_to_run = [(label, source) for label, source in notebook.code_to_run(nb, tests) if label in needed]
    with StudentCode(cells_to_run) as code:
        results = run_checks(assignment, code, cells)
    by_cell = {}
    for r in results:
        by_cell.setdefault(r.cell, []).append(r)
    return by_cell


def failed_checks(by_cell, grade_id):
    """Names of the failed checks of one cell, without the parameter part ("test_x[sigmoid]" -> "test_x")."""
    return {r.nodeid.split("::")[-1].split("[")[0] for r in by_cell.get(grade_id, []) if not r.passed}


def with_answers(nb, sources: dict):
    """A copy of `nb` with several answer cells replaced: {grade_id: source}."""
    for grade_id, source in sources.items():
        nb = with_answer(nb, grade_id, source)
    return nb


def assert_wrong_answer_loses_points_where_due(assignment, grade_id, source, must_fail, explained_by=None):
    """With `source` in cell `grade_id`, the checks `must_fail` of its test cell fail, and when `explained_by`
    names an entry of the assignment's misconceptions table, it explains one of them. Only that cell's checks
    run; that a mistake costs no points elsewhere is test_hidden_checks.py's (an unanswered cell)."""
    results = hidden_results(with_answer(solution(assignment), grade_id, source), assignment, {f"test_{grade_id}"})
    failed = failed_checks(results, f"test_{grade_id}")
    assert must_fail <= failed, f"expected {must_fail} to fail, failed: {failed}"
    if explained_by:
        shown = {r.misconception for r in results[f"test_{grade_id}"] if not r.passed}
        messages = [r.message for r in results[f"test_{grade_id}"] if not r.passed]
        assert explained_by in shown, f"expected [{explained_by}] to explain a failure; shown {shown}: {messages}"


def answer_dependants(assignment) -> dict[str, set]:
    """{answer cell: the test cells of the answers that use a name it defines}: where a mistake in that cell
    may rightly cost points besides its own test cell."""
    answers = {meta["grade_id"]: ast.parse(source) for meta, source in code_cells(assignment) if meta.get("solution")}
    defines = {g: {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
               for g, tree in answers.items()}
    uses = {g: {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} for g, tree in answers.items()}
    return {g: {f"test_{other}" for other in answers if other != g and defines[g] & uses[other]} for g in answers}


def wrong_answer_groups(assignment, wrong) -> list[list]:
    """The entries (grade_id, source, must_fail, explained_by) of a list of wrong answers, in groups that one
    worker runs together: at most one entry per answer cell, and never two cells of which one uses what the
    other defines (by the reference's answers, or by the wrong source itself), so that each cell's checks see
    its own mistake only (test_hidden_checks_isolation.py proves the rest). A lab's worker imports PyTorch,
    which takes seconds: grouped, a corpus needs about half the workers. Answers that patch a library for the
    whole process do not belong in a group."""
    answers = {meta["grade_id"]: source for meta, source in code_cells(assignment) if meta.get("solution")}
    defines = {g: {n.name for n in ast.parse(src).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
               for g, src in answers.items()}

    def uses(source, grade_id):
        return bool(defines[grade_id] & {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)})

    def apart(entry, other):
        return entry[0] != other[0] and not any(uses(src, g) for src, g in [
            (entry[1], other[0]), (other[1], entry[0]), (answers[entry[0]], other[0]), (answers[other[0]], entry[0])])

    groups = []
    for entry in wrong:
        group = next((group for group in groups if all(apart(entry, other) for other in group)), None)
        if group is None:
            groups.append([entry])
        else:
            group.append(entry)
    return groups


def assert_wrong_answers_lose_points_where_due(assignment, group, beside=None):
    """`assert_wrong_answer_loses_points_where_due` for a group of `wrong_answer_groups`, in one worker, with the
    answers `beside` ({grade_id: source}) in their cells too."""
    cells = {f"test_{grade_id}" for grade_id, *_ in group}
    sources = {**(beside or {}), **{g: source for g, source, *_ in group}}
    results = hidden_results(with_answers(solution(assignment), sources), assignment, cells)
    for grade_id, _, must_fail, explained_by in group:
        failed = failed_checks(results, f"test_{grade_id}")
        assert must_fail <= failed, f"{grade_id}: expected {must_fail} to fail, failed: {failed}"
        if explained_by:
            shown = {r.misconception: r.message for r in results[f"test_{grade_id}"] if not r.passed}
            assert explained_by in shown, f"{grade_id}: expected [{explained_by}] to explain a failure; shown {shown}"


def assert_every_misconception_is_shown(assignment, *corpora):
    """Every entry of the assignment's misconceptions table explains a wrong answer of the corpora (lists of
    (grade_id, source, must_fail, explained_by)), and they name no other."""
    from autograder import misconceptions
    shown = {explained for corpus in corpora for *_, explained in corpus} - {None}
    assert {m.key for m in misconceptions.table(assignment)} == shown

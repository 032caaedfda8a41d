"""The class report: one HTML page, DIR/report.html, that tells an instructor how a class did on an assignment.

It reads what a grading run left in DIR: grades.csv (who was graded) and results/<student_id>.json (each grade
that stands). It shows the scores, each test cell's points, the checks failed most often with their most common
message and the misconception it signals, and the submissions that could not run. The page reads offline: its
figures are PNG images inside it.
Student ids and messages are the students' own text, escaped.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import math
import statistics
from collections import Counter, defaultdict
from html import escape
from pathlib import Path

import nbformat
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from . import course, notebook
from .grades_csv import write_canvas_csv
from .results import StudentGrade

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; }
img { max-width: 100%; }
"""
OUTCOME_COLOURS = {"full": "#2a9d3a", "partial": "#e0a000", "zero": "#c62828"}  # as on the feedback pages
MOST_FAILED = 15  # rows of the table of the checks failed most often


def saved_grades(assignment: str, out: Path) -> tuple[list[StudentGrade], list[dict]]:
    """(the saved grades of the students listed in DIR/grades.csv, the grades.csv rows of those without one).

    A student has no saved grade when the grader failed on the submission or the grade never reached the
    gradebook; a result whose score is not the one in grades.csv is an earlier run's, and does not count."""
    path = out / "grades.csv"
    if not path.is_file():
        raise SystemExit(f"no {path}: grade first (python -m autograder grade {assignment} SUBMISSIONS --out {out})")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if others := {row["assignment"] for row in rows} - {assignment}:
        raise SystemExit(f"{path} holds grades of {', '.join(sorted(others))}, not of {assignment}")
    results = {p.stem: p for p in (out / "results").glob("*.json")}  # ids never become paths here
    grades, unsaved = [], []
    for row in rows:
        path = results.get(row["student_id"])
        grade = _read_result(path) if path else None
        if grade is not None and f"{grade.score:g}" == row["score"]:
            grades.append(grade)
        else:
            unsaved.append(row)
    return grades, unsaved


def _read_result(path: Path) -> StudentGrade | None:
    try:
        data = json.loads(path.read_text())
        del data["fingerprint"], data["submission"]  # what cache.py keys its reuse on
        return StudentGrade.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def graded_cells(assignment: str, grades: list[StudentGrade]) -> list[notebook.TestCell]:
    """The cells the grades were made on; the source notebook's when there is no grade."""
    if grades:
        return grades[0].cells
    return notebook.test_cells(nbformat.read(course.source_notebook(assignment), as_version=4))


def cell_outcomes(cells, grades) -> dict[str, Counter]:
    """grade_id -> how many students earned its full points, part of them, or none."""
    outcomes = {cell.grade_id: Counter() for cell in cells}
    for grade in grades:
        for cell in cells:
            earned = grade.scores.get(cell.grade_id, 0.0)
            outcomes[cell.grade_id]["full" if earned >= cell.points else "partial" if earned > 0 else "zero"] += 1
    return outcomes


def most_failed_checks(grades, most: int = MOST_FAILED) -> list[tuple[str, str, int, int, str, str]]:
    """(cell, check title, students who failed it, students it ran for, its most common message, the
    misconception that most often explained it), the checks failed most often first."""
    ran, failed, messages, hints = Counter(), Counter(), defaultdict(Counter), defaultdict(Counter)
    for grade in grades:
        for check in grade.checks:
            key = (check.cell, check.title)
            ran[key] += 1
            if not check.passed:
                failed[key] += 1
                if check.message:
                    messages[key][check.message] += 1
                if check.hint:
                    hints[key][check.hint] += 1
    return [(cell, title, count, ran[cell, title], _commonest(messages[cell, title]), _commonest(hints[cell, title]))
            for (cell, title), count in failed.most_common(most)]


def _commonest(messages: Counter) -> str:
    """The message given most often; empty when no failure gave one."""
    return messages.most_common(1)[0][0] if messages else ""


def _png(fig: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})  # nothing that names a website
    return f"<img alt='{escape(alt)}' src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'>"


def score_histogram(scores: list[float], max_score: float) -> str:
    fig = Figure(figsize=(6.5, 2.6), layout="constrained")
    ax = fig.subplots()
    top = max_score or 1.0
    bins = max(1, min(40, math.ceil(top)))  # a point wide for every assignment of the course
    ax.hist(scores, bins=bins, range=(0, top), color="#4a78b5", edgecolor="white")
    ax.set(xlabel="score", ylabel="students", xlim=(0, top))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(fig, "histogram of the students' scores")


def cell_outcome_bars(outcomes: dict[str, Counter]) -> str:
    fig = Figure(figsize=(6.5, 1.0 + 0.28 * len(outcomes)), layout="constrained")
    ax = fig.subplots()
    names, left = list(outcomes), [0.0] * len(outcomes)
    for outcome, colour in OUTCOME_COLOURS.items():
        shares = [counts[outcome] / max(1, sum(counts.values())) for counts in outcomes.values()]
        ax.barh(names, shares, left=left, color=colour, label=outcome)
        left = [a + b for a, b in zip(left, shares)]
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="students")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return _png(fig, "share of students with full, partial and zero points per test cell")


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Cells are HTML already: escape what goes in."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _td(value, number: bool = False) -> str:
    text = f"{value:g}" if isinstance(value, float) else escape(str(value))
    return f"<td class='n'>{text}</td>" if number else f"<td>{text}</td>"


def scores_section(grades, max_score: float) -> str:
    if not grades:
        return "<h2>Scores</h2><p>No saved grade to report.</p>"
    scores = [g.score for g in grades]
    return (f"<h2>Scores</h2><p>Of {max_score:g} points: mean {statistics.mean(scores):.2f}, median "
            f"{statistics.median(scores):g}, highest {max(scores):g}, lowest {min(scores):g}; "
            f"{scores.count(max_score)} of {len(scores)} students earned every point.</p>"
            + score_histogram(scores, max_score))


def cells_section(cells, grades) -> str:
    if not grades:
        return ""
    outcomes = cell_outcomes(cells, grades)
    rows = [[_td(c.grade_id), _td(c.title), _td(c.points, True),
             *(_td(outcomes[c.grade_id][o], True) for o in OUTCOME_COLOURS),
             _td(round(statistics.mean(g.scores.get(c.grade_id, 0.0) for g in grades), 2), True)] for c in cells]
    return ("<h2>Points per test cell</h2>" + cell_outcome_bars(outcomes)
            + _table(["cell", "what it tests", "points", "full", "partial", "zero", "mean"], rows))


def failed_checks_section(grades) -> str:
    failed = most_failed_checks(grades)
    if not failed:
        return "<h2>Checks failed most often</h2><p>No check failed.</p>"
    rows = [[_td(cell), _td(title), _td(f"{count} of {ran}", True), _td(message or "(no message)"),
             _td(hint or "(none known)")] for cell, title, count, ran, message, hint in failed]
    return ("<h2>Checks failed most often</h2>"
            + _table(["cell", "check", "failed", "most common message", "the misconception it signals"], rows))


def problems_section(grades, unsaved: list[dict]) -> str:
    """The submissions that could not run, or not in full, with their reasons; then the students graded
    without a saved grade."""
    rows = [[_td(g.student_id), _td(f"{g.score:g}/{g.max_score:g}", True),
             "<td>" + "<br>".join(escape(p) for p in g.problems) + "</td>"] for g in grades if g.problems]
    rows += [[_td(row["student_id"]), _td(f"{row['score']}/{row['max_score']}", True),
              _td("no saved grade: the grader failed on this submission or its grade could not be written to the "
                  "gradebook (see the grading run's log); grade again")] for row in unsaved]
    if not rows:
        return "<h2>Submissions that could not run</h2><p>Every submission ran.</p>"
    return ("<h2>Submissions that could not run</h2><p>Whole-notebook problems: a notebook that could not be "
            "read or executed, a cell that raised, a test cell that was missing.</p>"
            + _table(["student", "score", "why"], rows))


def render(assignment: str, grades: list[StudentGrade], unsaved: list[dict], cells) -> str:
    max_score = sum(c.points for c in cells)
    return "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(assignment)}: class report</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(assignment)}: class report</h1>",
        f"<p>{len(grades) + len(unsaved)} students in grades.csv, {len(grades)} with a saved grade.</p>",
        scores_section(grades, max_score), cells_section(cells, grades), failed_checks_section(grades),
        problems_section(grades, unsaved), "</body></html>"])


def write_report(assignment: str, out: Path) -> Path:
    """DIR/report.html from DIR/grades.csv and DIR/results/."""
    grades, unsaved = saved_grades(assignment, out)
    path = out / "report.html"
    path.write_text(render(assignment, grades, unsaved, graded_cells(assignment, grades)), encoding="utf-8")
    return path


def write_class_files(assignment: str, out: Path, lms: str | None = None) -> list[Path]:
    """report.html and, when an LMS is named, its gradebook file: what `grade` writes at its end and `report`
    writes again."""
    paths = [write_report(assignment, out)]
    if lms == "canvas":
        grades, _ = saved_grades(assignment, out)
        max_score = sum(c.points for c in graded_cells(assignment, grades))
        paths.append(write_canvas_csv(grades, out / "grades-canvas.csv", assignment, max_score))
    return paths

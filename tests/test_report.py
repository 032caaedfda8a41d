"""The class report (DIR/report.html) and Canvas's gradebook file, made from the grades a run saved in DIR."""
import base64
import csv
import re
import subprocess
import sys

import nbformat
import pytest

from autograder import cache, course, notebook
from autograder.grades_csv import CANVAS_COLUMNS, write_csv
from autograder.report import write_report
from autograder.results import StudentGrade
from autograder.runner import CheckResult
from autograder.scoring import cell_scores
from helpers import solution

CELLS = [notebook.TestCell("test_sigmoid", 2.0, "sigmoid"), notebook.TestCell("test_relu", 1.0, "relu")]
CHECKS = [("test_sigmoid", "sigmoid(0) is one half"), ("test_sigmoid", "sigmoid is finite for large inputs"),
          ("test_relu", "relu of a negative is zero"), ("test_relu", "relu keeps positives")]
NEGATIVE = "relu(-2.0) returned -2.0; expected 0.0"


def graded(student, failing=None, problems=(), ran=True) -> StudentGrade:
    """A grade as grading makes it: every check ran (unless not `ran`), those in `failing` (title -> message)
    failed, and each cell scores the share of its checks passed."""
    failing = failing or {}
    checks = [CheckResult(f"{cell}::{title}", cell, title not in failing, title, failing.get(title, ""))
              for cell, title in CHECKS] if ran else []
    return StudentGrade(student, "activations", CELLS, cell_scores(CELLS, checks), checks, list(problems))


def saved_class(out, grades, unsaved=()):
    """DIR as a grading run leaves it: grades.csv lists everyone; results/ holds the grades that stand."""
    out.mkdir(parents=True, exist_ok=True)
    for grade in grades:
        cache.save_grade(out / "results" / f"{grade.student_id}.json", grade, "fingerprint", "digest")
    write_csv(sorted([*grades, *unsaved], key=lambda g: g.student_id), out / "grades.csv")
    return out


@pytest.fixture
def out(tmp_path):
    grades = [graded("full"),
              graded("ann", {"relu of a negative is zero": NEGATIVE}),
              graded("bob", {"relu of a negative is zero": NEGATIVE}),
              graded("cem", {"relu of a negative is zero": "relu(-1e300) returned nan",
                             "sigmoid is finite for large inputs": ""}),
              graded("broken", problems=["activations.ipynb could not be read: not valid notebook JSON"], ran=False),
              graded("raiser", {"sigmoid(0) is one half": "<script>alert(1)</script>"},
                     problems=["cell 3: ValueError: <script>alert(1)</script>"])]
    failed = graded("<b>x</b>", problems=["the grader failed on this submission (KeyError); ask your instructor"])
    failed.grader_failed = True  # never saved in results/
    return saved_class(tmp_path / "out", grades, unsaved=[failed])


def section(page, title):
    return page.split(f"<h2>{title}</h2>")[1].split("<h2>")[0]


def test_the_report_is_one_page_that_needs_nothing_from_outside(out):
    page = write_report("activations", out).read_text()
    assert (out / "report.html").is_file()
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*(?!['"]?data:)""", page), "every image is inside the page"
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 2, "the score histogram and the points per cell"
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)


def test_the_scores_are_stated_in_words_beside_the_histogram(out):
    scores = section(write_report("activations", out).read_text(), "Scores")
    # full 3, ann 2.5, bob 2.5, cem 1.5 (sigmoid 1 + relu 0.5), broken 0, raiser 2 (sigmoid 1 + relu 1)
    assert "Of 3 points: mean 1.92, median 2.25, highest 3, lowest 0" in scores
    assert "1 of 6 students earned every point" in scores


def test_each_test_cell_shows_how_many_earned_full_partial_and_no_points(out):
    cells = section(write_report("activations", out).read_text(), "Points per test cell")
    relu = cells.split("<td>test_relu</td>")[1].split("</tr>")[0]
    assert re.findall(r"<td class='n'>([^<]*)</td>", relu) == ["1", "2", "3", "1", "0.58"]


def test_the_check_failed_most_often_comes_first_with_its_count_and_commonest_message(out):
    failed = section(write_report("activations", out).read_text(), "Checks failed most often")
    rows = failed.split("<tr>")[2:]
    assert "relu of a negative is zero" in rows[0] and "3 of 5" in rows[0]
    assert "relu(-2.0) returned -2.0; expected 0.0" in rows[0], "two of its three failures say this"
    assert "sigmoid is finite for large inputs" in failed and "(no message)" in failed


def test_the_submissions_that_could_not_run_are_listed_with_their_reason(out):
    problems = section(write_report("activations", out).read_text(), "Submissions that could not run")
    assert "<td>broken</td>" in problems and "could not be read: not valid notebook JSON" in problems
    assert "cell 3: ValueError" in problems
    assert "<td>&lt;b&gt;x&lt;/b&gt;</td>" in problems and "no saved grade" in problems
    assert "<td>full</td>" not in problems and "<td>ann</td>" not in problems


def test_student_ids_and_messages_are_escaped(out):
    page = write_report("activations", out).read_text()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_saved_result_that_grades_csv_disagrees_with_is_not_counted(tmp_path):
    out = saved_class(tmp_path / "out", [graded("ann")])
    cache.save_grade(out / "results" / "ann.json", graded("ann", {"relu keeps positives": ""}), "fp", "digest")
    page = write_report("activations", out).read_text()
    assert "0 with a saved grade" in page and "no saved grade" in section(page, "Submissions that could not run")


def report_command(out, *extra):
    return subprocess.run([sys.executable, "-m", "autograder", "report", "activations", "--out", str(out), *extra],
                          cwd=course.REPO, capture_output=True, text=True, timeout=120)


def test_the_report_command_writes_the_page_and_the_canvas_gradebook_file(out):
    process = report_command(out, "--lms", "canvas")
    assert process.returncode == 0, process.stderr
    assert (out / "report.html").is_file()
    with open(out / "grades-canvas.csv", newline="") as f:
        header, points, *rows = list(csv.reader(f))
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "activations"]
    assert header[:5] == CANVAS_COLUMNS and points == ["Points Possible", "", "", "", "", "3"]
    assert {row[3]: row[5] for row in rows} == {"ann": "2.5", "bob": "2.5", "broken": "0", "cem": "1.5",
                                                "full": "3", "raiser": "2"}, "no row for a grade that failed"
    assert all(row[0] == row[3] and row[1] == row[2] == row[4] == "" for row in rows)


def test_the_report_command_without_lms_writes_no_canvas_file(out):
    assert report_command(out).returncode == 0
    assert (out / "report.html").is_file() and not (out / "grades-canvas.csv").exists()


def test_the_report_command_on_a_folder_never_graded_says_to_grade_first(tmp_path):
    process = report_command(tmp_path)
    assert process.returncode != 0 and "grade first" in process.stderr


@pytest.mark.slow
def test_a_grade_run_ends_with_the_report_and_with_lms_canvas_the_canvas_file(tmp_path):
    subs, out = tmp_path / "submissions", tmp_path / "out"
    (subs / "full").mkdir(parents=True)
    nbformat.write(solution(), str(subs / "full" / "activations.ipynb"))
    (subs / "badjson").mkdir()
    (subs / "badjson" / "activations.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out", str(out),
                              "--lms", "canvas"], cwd=course.REPO, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    problems = section((out / "report.html").read_text(), "Submissions that could not run")
    assert "<td>badjson</td>" in problems and "not valid notebook JSON" in problems
    with open(out / "grades-canvas.csv", newline="") as f:
        assert list(csv.reader(f))[1:] == [["Points Possible", "", "", "", "", "25"],
                                           ["badjson", "", "", "badjson", "", "0"], ["full", "", "", "full", "", "25"]]

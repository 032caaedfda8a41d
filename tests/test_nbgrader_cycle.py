"""The whole JupyterHub + nbgrader cycle on a local exchange folder, as the README's instructor section walks it:
release to the exchange, students fetch and submit, collect, grade with this grader, export, release feedback,
students fetch their feedback.

Both students run as the test's own OS user: nbgrader's `--student` option names them, as JupyterHub's user
name would.
"""
import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import parse_utc

from autograder import course
from autograder.cache import file_digest
from autograder.exchange import exchange_records
from autograder.grade import find_submissions
from helpers import solution

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs alembic
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (make test installs it)")


def nbgrader(*args, cwd, exchange):
    """One nbgrader command against the test's exchange; its output, or the test fails with it."""
    command = [str(BIN / "nbgrader"), *args, f"--CourseDirectory.course_id={course.COURSE_ID}",
               f"--Exchange.root={exchange}"]
    process = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, f"{' '.join(args[:1])} failed:\n{process.stdout}\n{process.stderr}"
    return process.stdout + process.stderr


def student(name, *args, home, exchange):
    """A student's command, from their own folder, with their own nbgrader cache."""
    return nbgrader(*args, f"--student={name}", f"--Exchange.cache={home / '.cache'}",
                    f"--Exchange.assignment_dir={home}", cwd=home, exchange=exchange)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Run the cycle once; return its folders."""
    root = tmp_path_factory.mktemp("cycle")
    exchange, course_dir, out = root / "exchange", root / "course", root / "grading"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's exchange is writable by everyone
    homes = {name: root / name for name in ("alice", "bob")}
    for home in homes.values():
        home.mkdir()

    instructor = {"cwd": course_dir.parent, "exchange": exchange}
    course_dir.mkdir()
    nbgrader("release_assignment", "activations", f"--CourseDirectory.root={course_dir}",
             f"--CourseDirectory.release_directory={course.EXERCISES}", **instructor)
    for name, home in homes.items():
        student(name, "fetch_assignment", "activations", home=home, exchange=exchange)
    nbformat.write(solution(), str(homes["alice"] / "activations" / "activations.ipynb"))  # bob submits it blank
    for name, home in homes.items():
        student(name, "submit", "activations", home=home, exchange=exchange)
    nbgrader("collect", "activations", f"--CourseDirectory.root={course_dir}", **instructor)
    # carol's notebook reached the instructor outside the exchange: no timestamp.txt, no submission_secret.txt
    carol = course_dir / "submitted" / "carol" / "activations"
    carol.mkdir(parents=True)
    nbformat.write(solution(), str(carol / "activations.ipynb"))

    grading = subprocess.run([sys.executable, "-m", "autograder", "grade", "activations",
                              str(course_dir / "submitted"), "--out", str(out)],
                             cwd=course.REPO, env=ENV, capture_output=True, text=True, timeout=600)
    assert grading.returncode == 0, grading.stderr[-3000:]
    nbgrader("export", f"--CourseDirectory.db_url=sqlite:///{out / 'gradebook.db'}",
             f"--CourseDirectory.root={out / 'nbgrader'}", f"--to={out / 'export.csv'}", **instructor)
    released = nbgrader("release_feedback", "activations", f"--CourseDirectory.root={out / 'nbgrader'}", **instructor)
    for name, home in homes.items():
        student(name, "fetch_feedback", "activations", home=home, exchange=exchange)
    return {"course": course_dir, "out": out, "homes": homes, "released": released}


def rows(path):
    with open(path) as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
@needs_bwrap
def test_collected_submissions_are_graded_the_reference_full_marks_the_blank_release_zero(cycle):
    grades = rows(cycle["out"] / "grades.csv")
    assert {sid: grades[sid]["score"] for sid in grades} == {"alice": "25", "bob": "0", "carol": "25"}
    assert {row["max_score"] for row in grades.values()} == {"25"}


@pytest.mark.slow
@needs_bwrap
def test_nbgrader_export_reads_the_grades_and_the_submission_time_from_the_exchange(cycle):
    exported = rows(cycle["out"] / "export.csv")
    assert {sid: float(exported[sid]["score"]) for sid in exported} == {"alice": 25.0, "bob": 0.0, "carol": 25.0}
    for name in ("alice", "bob"):
        submitted = (cycle["course"] / "submitted" / name / "activations" / "timestamp.txt").read_text()
        assert parse_utc(exported[name]["timestamp"]) == parse_utc(submitted)
    assert exported["carol"]["timestamp"] == ""  # no timestamp.txt beside her notebook


@pytest.mark.slow
@needs_bwrap
def test_each_student_fetches_the_graders_own_feedback_page(cycle):
    pages = {}
    for name, home in cycle["homes"].items():
        fetched = list((home / "activations" / "feedback").glob("*/activations.html"))
        assert len(fetched) == 1, f"{name} fetched {fetched}"
        pages[name] = fetched[0].read_bytes()
        assert pages[name] == (cycle["out"] / "feedback" / name / "activations.html").read_bytes()
    assert b"Score: 25 / 25" in pages["alice"] and b"Score: 0 / 25" in pages["bob"]


@pytest.mark.slow
@needs_bwrap
def test_a_submission_from_outside_the_exchange_gets_a_page_but_is_not_released(cycle):
    assert (cycle["out"] / "feedback" / "carol" / "activations.html").is_file()
    assert not (cycle["out"] / "nbgrader" / "feedback" / "carol").exists()
    assert "carol" not in cycle["released"] and "'alice'" in cycle["released"]


def test_both_layouts_are_found_with_the_notebook_each_student_submitted(tmp_path):
    for folder in (tmp_path / "plain", tmp_path / "collected" / "activations"):
        folder.mkdir(parents=True)
        (folder / "activations.ipynb").write_text("{}")
    (tmp_path / "missing").mkdir()
    found, problems = find_submissions("activations", tmp_path)
    assert found == [("collected", tmp_path / "collected" / "activations" / "activations.ipynb"),
                     ("missing", tmp_path / "missing" / "activations.ipynb"),
                     ("plain", tmp_path / "plain" / "activations.ipynb")]
    assert problems == []


def test_a_student_with_both_layouts_is_graded_once_and_told_which(tmp_path):
    for folder in (tmp_path / "both", tmp_path / "both" / "activations"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "activations.ipynb").write_text("{}")
    found, problems = find_submissions("activations", tmp_path)
    assert found == [("both", tmp_path / "both" / "activations.ipynb")]
    assert len(problems) == 1 and "the first was graded" in problems[0]


def test_a_notebook_submitted_again_through_the_exchange_is_graded_again(tmp_path):
    notebook = tmp_path / "activations.ipynb"
    notebook.write_text("{}")
    alone = file_digest(notebook)
    assert alone == hashlib.sha256(b"{}").hexdigest()  # as before: earlier runs' results stay reusable
    (tmp_path / "timestamp.txt").write_text("2026-01-05 10:00:00.000000 UTC")
    (tmp_path / "submission_secret.txt").write_text("ab" * 64)
    first = file_digest(notebook)
    (tmp_path / "timestamp.txt").write_text("2026-01-06 10:00:00.000000 UTC")
    assert len({alone, first, file_digest(notebook)}) == 3


def test_exchange_records_nbgrader_could_not_read_are_left_out_with_a_reason(tmp_path):
    (tmp_path / "timestamp.txt").write_text("not a time")
    (tmp_path / "submission_secret.txt").symlink_to("/etc/passwd")
    problems = []
    assert exchange_records(tmp_path, problems) == {}
    assert len(problems) == 2 and all("was ignored" in p for p in problems)

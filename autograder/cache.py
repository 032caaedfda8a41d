"""Reusing an earlier run's grade: it stands while the submission and everything that made its grade are
unchanged.

A grade depends on the submission (its notebook and exchange records: `file_digest`) and on the grader
(`grader_fingerprint`): the assignment's source notebook, its own checks folder, the check files shared by
every assignment, the grading code named in GRADING_CODE, and the student library actlab (the notebook's
cells import it). Nothing else counts: restyling the feedback page or editing another assignment's checks
regrades nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import course
from .exchange import exchange_records
from .results import StudentGrade

# The modules of autograder/ whose change can change a grade. Not in it: feedback.py (the page's wording and
# style; pages are written anew on every run), grade.py, fork_server.py and grades_csv.py (the run over a folder,
# its pool of processes and its CSV, rewritten on every run), __init__.py (a module no process needs is left
# unimported) and what grading never runs (kit.py, release.py, bench.py, profile_grading.py, __main__.py).
GRADING_CODE = (
    "worker.py", "codec.py", "proxy.py", "runner.py", "checking.py", "misconceptions.py",  # called, checked, explained
    "sandbox.py", "no_module/__init__.py", "output_limit.py",          # where and how student code runs
    "course.py", "notebook.py", "exchange.py", "nbgrader_run.py",      # what nbgrader executes and records
    "grading_steps.py", "scoring.py", "results.py", "cache.py",        # how a grade is made, kept and reused
    "distributed_grading.py",                                          # the same grade made on a Dask worker
)


def fingerprint_files(assignment: str, repo: Path = course.REPO) -> list[Path]:
    """Every file a grade of `assignment` depends on, besides the submission."""
    package = repo / "autograder"
    checks = package / "checks"
    # bytecode and hidden files (an editor's swap file) come and go without a change to the checks
    own_checks = [p for p in (checks / assignment).rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and not any(part.startswith(".") for part in p.relative_to(checks).parts)]
    return [repo / "solutions" / assignment / f"{assignment}.ipynb", *sorted(own_checks),
            checks / "pytest.ini", *sorted(checks.glob("*.py")),
            *(package / name for name in GRADING_CODE), *sorted((repo / "actlab").glob("*.py"))]


def grader_fingerprint(assignment: str, repo: Path = course.REPO) -> str:
    """Changes when a file a grade depends on (fingerprint_files) changes, appears or disappears."""
    digest = hashlib.sha256()
    for path in fingerprint_files(assignment, repo):
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"
        digest.update(f"{path.relative_to(repo).as_posix()}\0{content}\n".encode())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """The notebook's, and its exchange records' when it has any: an unchanged notebook submitted again
    through the exchange has a new time and secret, so it is graded (and its feedback placed) again."""
    if not path.is_file():
        return "no file"
    digest = hashlib.sha256(path.read_bytes())
    for name, record in exchange_records(path.parent, []).items():
        digest.update(f"\0{name}\0".encode() + record)
    return digest.hexdigest()


def saved_grade(result: Path, fingerprint: str, submission: str) -> StudentGrade | None:
    """The grade saved in `result` if the same grader (`fingerprint`) made it for the same submission
    (its `file_digest`); else None."""
    if not result.is_file():
        return None
    try:
        data = json.loads(result.read_text())
        if data.pop("fingerprint") == fingerprint and data.pop("submission") == submission:
            return StudentGrade.from_json(data)
    except (ValueError, KeyError, TypeError):
        pass  # an unreadable result: grade again
    return None


def save_grade(result: Path, grade: StudentGrade, fingerprint: str, submission: str):
    """Written whole or not at all: a run killed while saving leaves no half result to reuse."""
    result.parent.mkdir(parents=True, exist_ok=True)
    partial = result.with_suffix(".partial")
    partial.write_text(json.dumps({**grade.to_json(), "fingerprint": fingerprint, "submission": submission},
                                  indent=1))
    os.replace(partial, result)

"""Grading one submission: the steps in `STEPS`, in order, each `step(run, submission)`.

A step that finds the submission unusable (no notebook, one that cannot be read) records a reason and
leaves `submission.notebook` empty; the steps after it still do their part: zero points, recorded in the
gradebook, a feedback page that says why.
"""
from __future__ import annotations

import concurrent.futures
import logging
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from . import feedback, notebook
from .exchange import exchange_records
from .nbgrader_run import GradingRun
from .proxy import STOPPING, StudentCallError, StudentCode
from .results import StudentGrade
from .runner import CheckResult, run_checks
from .scoring import cell_scores

log = logging.getLogger("autograder")


@dataclass
class Submission:
    """One student's submission while it is graded, handed from step to step."""
    student_id: str
    path: Path            # the notebook as handed in; it may be missing
    grade: StudentGrade   # built up by the steps
    records: dict = field(default_factory=dict)  # the exchange records beside it: name -> content
    notebook: object = None  # the notebook, once in nbgrader's submitted/ folder; None: nothing to execute
    stopped: bool = False    # the run was stopped meanwhile: the grade is discarded whole


def take_submission(run: GradingRun, submission: Submission) -> None:
    """Read the notebook and its exchange records, and copy only those into nbgrader's submitted/ folder: no
    file beside the notebook (a numpy.py) comes along."""
    path, problems = submission.path, submission.grade.problems
    submission.records = exchange_records(path.parent, problems)
    if not path.is_file():
        problems.append(f"no {path.name} was found in the submission folder")
        return
    try:
        submitted = notebook.read_submission(path)
    except ValueError as exc:
        problems.append(f"{path.name} could not be read: {exc}")
        return
    target = run.submission_path(submission.student_id)
    content = path.read_bytes()  # read first: SUBMISSIONS may be nbgrader's own submitted/ folder
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    for name, record in submission.records.items():
        (target.parent / name).write_bytes(record)
    submission.notebook = submitted


def autograde_and_check(run: GradingRun, submission: Submission) -> None:
    """nbgrader executes the notebook and records it while the hidden checks call the student's functions:
    nbgrader mostly waits for its kernel."""
    if submission.notebook is None:
        return
    deadline = run.autograde_deadline(submission.notebook)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        autograding = pool.submit(run.autograde, submission.student_id, deadline)
        submission.grade.checks = run_hidden_checks(run, submission)
        failure = autograding.result()
    if STOPPING.is_set():
        submission.stopped = True
    elif failure:
        submission.grade.problems.insert(0, f"nbgrader could not execute the notebook: {failure}")


def score(run: GradingRun, submission: Submission) -> None:
    submission.grade.scores = cell_scores(run.cells, submission.grade.checks)


def record_in_gradebook(run: GradingRun, submission: Submission) -> None:
    """A gradebook that refuses the grade (a full disk) is a reason for this submission, not a grader fault."""
    try:
        run.record(submission.grade)
        submission.grade.recorded = True
    except Exception:
        log.error("could not record %s in the gradebook: %s", submission.student_id, traceback.format_exc())
        submission.grade.problems.append("the grade could not be written to the gradebook")


def write_feedback(run: GradingRun, submission: Submission) -> None:
    page = run.feedback_path(submission.student_id)
    feedback.write(submission.grade, page)
    run.place_for_release_feedback(submission.student_id, page, submission.records)


STEPS = (take_submission, autograde_and_check, score, record_in_gradebook, write_feedback)


def grade_submission(run: GradingRun, student_id: str, path: Path) -> StudentGrade | None:
    """Grade one submission; never raises: what went wrong becomes a reason and zero points. None when the
    run was stopped before the grade was made: nothing of it is recorded."""
    submission = Submission(student_id, path, StudentGrade(student_id, run.assignment, run.cells))
    for step in STEPS:
        try:
            step(run, submission)
        except Exception as exc:  # a fault of the grader, not the student: zero, logged loudly
            log.error("grading %s failed (%s): %s", student_id, step.__name__, traceback.format_exc())
            submission.grade.problems.append(
                f"the grader failed on this submission ({type(exc).__name__}); ask your instructor")
            submission.grade.grader_failed = True
        if submission.stopped:
            return None  # stopped halfway: discarded whole, graded again by the next run
    return submission.grade


def run_hidden_checks(run: GradingRun, submission: Submission) -> list[CheckResult]:
    """checks/<assignment>/ against the notebook's code, run in a sandboxed worker; what goes wrong on the
    student's side becomes a reason, with the grader's folders left out of it."""
    problems = submission.grade.problems
    test_ids = {cell.grade_id for cell in run.cells}
    present = {notebook.nbgrader_meta(c).get("grade_id") for c in submission.notebook.cells}
    for cell in run.cells:
        if cell.grade_id not in present:
            problems.append(f"the test cell {cell.grade_id} was missing; nbgrader put it back")
    sandbox = run.sandbox if run.sandbox.enabled else None
    code = StudentCode(notebook.code_to_run(submission.notebook, test_ids), call_timeout=run.call_timeout,
                       cell_timeout=run.cell_timeout, start_timeout=run.cell_timeout * 3,
                       sandbox=sandbox, hidden_packages=run.sandbox.hidden_packages)
    try:
        try:
            code.ensure_started()
        except StudentCallError as exc:
            problems.append(run.redact(str(exc)))
        for error in code.cell_errors:
            problems.append(f"cell {error['cell']}: {run.redact(error['error'])}")
        results = run_checks(run.assignment, code)
    finally:
        code.close()
    for result in results:
        result.message = run.redact(result.message)
    return results

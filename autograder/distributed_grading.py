"""`python -m autograder grade ID SUBMISSIONS --out DIR --dask ADDRESS`: the submissions graded on the workers of
a Dask cluster, the results kept by this process alone.

The client (the process that runs the command) finds the submissions and reuses the saved grades that nothing
has changed since, as grading on one machine does; each other submission travels whole (its notebook's bytes
and exchange records) as one Dask task. A worker makes the grade: the steps of grading_steps.STEPS before
record_in_gradebook (take_submission, autograde_and_check, score), in a GradingRun of its own in a temporary
folder (one per worker thread and assignment, reused from task to task; its gradebook is thrown away), and
returns it with the grader fingerprint it was made with and what nbgrader left (its executed copy, the answer
cells' comments). The client checks that fingerprint is its own (a worker with another version of the course
grades nothing), leaves in DIR what take_submission and nbgrader's autograde would have (the submitted and
executed copies, the submission and its time in the gradebook), then runs the remaining steps
(record_in_gradebook, write_feedback) and saves the result, exactly as grading on one machine does: the
gradebook, grades.csv, the feedback pages and DIR/results/ are written here only, so reruns, resuming and
--regrade work the same. Dask runs a task again on another worker when its worker dies; the client keeps
each submission's grade once, when its task's result arrives.
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

from distributed import Client, as_completed, get_worker

from . import cache, course
from .exchange import exchange_records
from .grade import keep_result, reusable
from .grading_steps import STEPS, Submission, record_in_gradebook
from .nbgrader_run import GradingRun
from .proxy import STOPPING
from .results import StudentGrade, printable
from .sandbox import SandboxUnavailable, remove_stale_cgroups

log = logging.getLogger("autograder")

ON_WORKER = STEPS[:STEPS.index(record_in_gradebook)]  # take_submission, autograde_and_check, score: the grade
ON_CLIENT = STEPS[len(ON_WORKER):]                     # record_in_gradebook, write_feedback: what DIR keeps
CONNECT_TIMEOUT_S = 30
TASKS_PER_THREAD = 2  # tasks in flight per worker thread: enough to keep every worker busy, while the
# notebooks of a large class wait on the client's disk rather than in the scheduler's memory


# -- on a worker ------------------------------------------------------------------------------------------

_runs: dict = {}  # (thread, job) -> (GradingRun, its folder): made on a worker thread's first task of a job


def _worker_run(job: tuple) -> tuple[GradingRun, Path]:
    """This thread's GradingRun of `job`, (assignment, sandboxed, cell_timeout, call_timeout), in a temporary
    folder of its own inside the worker's local directory: nbgrader's API is not shared between threads."""
    key = (threading.get_ident(), job)
    if key not in _runs:
        assignment, sandboxed, cell_timeout, call_timeout = job
        try:
            parent = get_worker().local_directory
        except ValueError:  # not in a worker (called directly)
            parent = None
        folder = Path(tempfile.mkdtemp(prefix=f"autograder-{assignment}-", dir=parent))
        atexit.register(shutil.rmtree, folder, True)
        try:
            (folder / "incoming").mkdir()  # the sandbox lays an empty folder over both: they must exist
            (folder / "out").mkdir()
            run = GradingRun(assignment, folder / "out", None, folder / "incoming", sandboxed, cell_timeout,
                             call_timeout)
            try:
                run.sandbox.check()
            except SandboxUnavailable as exc:
                raise SandboxUnavailable(f"this worker cannot sandbox student code: {exc}") from None
            remove_stale_cgroups()
            run.prepare()
        except SystemExit as exc:  # an assignment this worker's checkout lacks, or nbgrader could not prepare it
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(str(exc)) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _runs[key] = (run, folder)
    return _runs[key]


def grade_remotely(job: tuple, student_id: str, content: bytes | None, records: dict, problems: list,
                   fingerprint: str) -> dict:
    """The Dask task: one submission's grade made on this worker (the steps ON_WORKER), as a dict that
    `_keep` reads. `content` is the notebook's bytes (None: no notebook was found), `records` its exchange
    records as the client read them and `problems` what reading them found. Nothing is graded when this
    worker's grader fingerprint is not `fingerprint`, the client's."""
    run, folder = _worker_run(job)
    answer = {"worker": _worker_address(), "fingerprint": run.fingerprint}
    if run.fingerprint != fingerprint:
        return answer
    incoming = folder / "incoming" / student_id
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    path = incoming / f"{run.assignment}.ipynb"
    if content is not None:
        path.write_bytes(content)
    for name, record in records.items():
        (incoming / name).write_bytes(record)
    submission = Submission(student_id, path, StudentGrade(student_id, run.assignment, run.cells,
                                                           problems=list(problems)))
    try:
        with _logged_here() as messages:
            faults = run_steps(run, submission, ON_WORKER)
        if submission.stopped:
            raise RuntimeError("grading was stopped on the worker")
        answer.update(grade=submission.grade.to_json(), faults=faults, log=messages,
                      executed=submission.notebook is not None,
                      autograded=_files(run.autograded_path(student_id).parent),
                      comments=_comments(run, student_id) if submission.notebook is not None else {})
        return answer
    finally:  # the worker keeps nothing of a submission
        for leftover in (incoming, run.submission_path(student_id).parent.parent,
                         run.autograded_path(student_id).parent.parent):
            shutil.rmtree(leftover, ignore_errors=True)
        _forget_submission(run, student_id)


def _worker_address() -> str:
    try:
        return get_worker().address
    except ValueError:
        return "(no worker)"


@contextlib.contextmanager
def _logged_here():
    """The grader's warnings and errors logged by this thread meanwhile, as (level, message): the client logs
    them again, where the instructor reads them."""
    messages, thread = [], threading.get_ident()
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append((record.levelno, record.getMessage()))
    handler.addFilter(lambda record: record.thread == thread)
    log.addHandler(handler)
    try:
        yield messages
    finally:
        log.removeHandler(handler)


def _files(folder: Path) -> dict[str, bytes]:
    """{path relative to `folder`: content} of the plain files nbgrader left there."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def _comments(run: GradingRun, student_id: str) -> dict[str, str | None]:
    """The comments nbgrader's autograde recorded for the answer cells ("No response." for one left as
    released), by cell name."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(run.db_url, course_id=course.COURSE_ID) as gb:
        try:
            notebook = gb.find_submission_notebook(run.assignment, run.assignment, student_id)
        except MissingEntry:
            return {}
        return {comment.name: comment.auto_comment for comment in notebook.comments}


def _forget_submission(run: GradingRun, student_id: str):
    """The worker's gradebook starts every task without the student's earlier submission."""
    from nbgrader.api import Gradebook, MissingEntry
    try:
        with Gradebook(run.db_url, course_id=course.COURSE_ID) as gb:
            gb.remove_submission(run.assignment, student_id)
    except MissingEntry:
        pass
    except Exception:
        log.warning("the worker's own gradebook could not forget %s: %s", student_id, traceback.format_exc())


# -- on both sides ----------------------------------------------------------------------------------------

def run_steps(run: GradingRun, submission: Submission, steps) -> list[str]:
    """grading_steps.grade_submission's loop over some of the steps: a grader fault becomes a reason and marks
    the grade; return the faults' tracebacks, "step: traceback", for the client to log."""
    faults = []
    for step in steps:
        try:
            step(run, submission)
        except Exception as exc:  # a fault of the grader, not the student: zero, logged loudly
            faults.append(f"{step.__name__}: {traceback.format_exc()}")
            submission.grade.problems.append(
                f"the grader failed on this submission ({type(exc).__name__}); ask your instructor")
            submission.grade.grader_failed = True
        if submission.stopped:
            break
    return faults


# -- on the client ----------------------------------------------------------------------------------------

def connect(address: str) -> Client:
    """A client of the scheduler at `address` (tcp://host:port), or of the one a scheduler file names."""
    try:
        if Path(address).is_file():
            return Client(scheduler_file=address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, ValueError) as exc:  # refused, timed out (TimeoutError), not an address
        raise SystemExit(f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {exc}") from None


def grade_on_dask(address: str, run: GradingRun, found: list, regrade: bool, report) -> dict[str, str]:
    """Grade `found`, [(student_id, notebook path)], on the workers of the Dask cluster at `address`; hand
    each grade to `report` once it is kept; return {student_id: why it was not graded}."""
    not_graded, waiting = {}, []
    for student_id, path in found:
        saved = reusable(run, student_id, path, regrade)[1]
        if saved is not None:
            report(saved)
        else:
            waiting.append((student_id, path))
    if not waiting or STOPPING.is_set():
        return not_graded
    client = connect(address)
    job = (run.assignment, run.sandbox.enabled, run.cell_timeout, run.call_timeout)
    token = uuid.uuid4().hex[:12]  # a key per submission and run: a rerun's task is never an earlier one's
    tasks = {}  # future -> (student_id, path, digest, content, records)
    finished = as_completed(loop=client.loop)
    try:
        threads = _wait_for_workers(client, address)
        queue = iter(waiting)
        more, counted = True, time.monotonic()
        while (more or not finished.is_empty()) and not STOPPING.is_set():
            if more and len(tasks) < TASKS_PER_THREAD * max(threads, 1):
                entry = next(queue, None)
                if entry is None:
                    more = False
                else:
                    future, kept = _send(client, job, token, run.fingerprint, *entry)
                    tasks[future] = kept
                    finished.add(future)
                    continue
            batch = finished.next_batch(block=False)
            if not batch:
                time.sleep(0.1)
                if time.monotonic() - counted > 5:  # workers come and go
                    threads, counted = _worker_threads(client, address, threads), time.monotonic()
                continue
            for future in batch:
                student_id, path, digest, content, records = tasks.pop(future)
                grade = _outcome(run, future, student_id, path, digest, content, records, not_graded)
                if grade is not None:
                    report(grade)
    finally:
        if tasks:  # stopped: what is queued never starts; what runs finishes on its worker and is dropped
            client.cancel(list(tasks))
        client.close()
    return not_graded


def _worker_threads(client: Client, address: str, before: int) -> int:
    threads = sum(client.nthreads().values())
    if before and not threads:
        log.warning("no Dask worker is left at %s: the submissions wait for one to join (Ctrl-C stops)", address)
    return threads


def _wait_for_workers(client: Client, address: str) -> int:
    """The cluster's worker threads, once it has any: a batch system may start its workers after the client."""
    told = False
    while not STOPPING.is_set():
        threads = sum(client.nthreads().values())
        if threads:
            return threads
        if not told:
            log.warning("waiting for a Dask worker to join the scheduler at %s", address)
            told = True
        time.sleep(1)
    return 0


def _send(client: Client, job: tuple, token: str, fingerprint: str, student_id: str, path: Path):
    """Submit one submission's task: its notebook and exchange records as take_submission would read them,
    and their digest as they are now, which the saved result will name."""
    digest, problems = cache.file_digest(path), []
    records = exchange_records(path.parent, problems)
    content = path.read_bytes() if path.is_file() else None
    future = client.submit(grade_remotely, job, student_id, content, records, problems, fingerprint,
                           key=f"grade-{job[0]}-{student_id}-{token}", pure=False)
    return future, (student_id, path, digest, content, records)


def _outcome(run: GradingRun, future, student_id: str, path: Path, digest: str, content, records,
             not_graded: dict) -> StudentGrade | None:
    """The grade a finished task made, kept; None (and the reason in `not_graded`) when it made none."""
    if future.status == "finished":
        answer = future.result()
        if answer["fingerprint"] == run.fingerprint:
            return _keep(run, student_id, path, digest, content, records, answer)
        why = (f"the Dask worker {answer['worker']} runs another version of the course (grader fingerprint "
               f"{answer['fingerprint'][:12]}, here {run.fingerprint[:12]}): start every worker from this "
               "checkout's commit and environment (restart workers after updating theirs), then run the same "
               "command again")
    elif future.status == "error":
        exc = future.exception()
        log.error("grading %s on the Dask cluster failed: %s", student_id,
                  printable(f"{type(exc).__name__}: {exc}"))
        why = f"its Dask task failed ({type(exc).__name__}; see the log above); run the same command again"
    else:  # cancelled or lost: the scheduler went away, or forgot the task
        why = f"its Dask task was {future.status} (did the scheduler stop?); run the same command again"
    not_graded[student_id] = why
    return None


def _keep(run: GradingRun, student_id: str, path: Path, digest: str, content, records, answer) -> StudentGrade:
    """What grading on one machine does with a grade once made: DIR keeps nbgrader's copies and the gradebook
    the submission as nbgrader's autograde left them, then the steps ON_CLIENT, then the saved result."""
    worker = answer["worker"]
    for level, message in answer["log"]:
        log.log(level, "(on the Dask worker %s) %s", worker, message)
    for fault in answer["faults"]:
        step, trace = fault.split(": ", 1)
        log.error("grading %s failed on the Dask worker %s (%s): %s", student_id, worker, step, trace)
    grade = StudentGrade.from_json(answer["grade"])
    grade.recorded = grade.reused = False
    submission = Submission(student_id, path, grade, records=records)

    def keep_nbgrader_files(run, submission):
        if answer["executed"]:
            _as_nbgrader_left_it(run, student_id, content, records, answer)

    for fault in run_steps(run, submission, (keep_nbgrader_files, *ON_CLIENT)):
        step, trace = fault.split(": ", 1)
        log.error("grading %s failed (%s): %s", student_id, step, trace)
    keep_result(run, grade, digest)
    return grade


def _as_nbgrader_left_it(run: GradingRun, student_id: str, content: bytes, records: dict, answer: dict):
    """The submitted copy take_submission makes, the executed copy nbgrader's autograde makes, and the
    submission (with the time in its timestamp.txt), the answer cells' comments and the late penalty it
    records in the gradebook."""
    from nbgrader.api import Gradebook
    submitted = run.submission_path(student_id)
    shutil.rmtree(submitted.parent, ignore_errors=True)
    submitted.parent.mkdir(parents=True)
    submitted.write_bytes(content)
    for name, record in records.items():
        (submitted.parent / name).write_bytes(record)
    executed = run.autograded_path(student_id).parent
    shutil.rmtree(executed, ignore_errors=True)
    for name, data in answer["autograded"].items():
        target = executed / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"the worker returned a file outside the executed copy's folder: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    timestamp = run.api.coursedir.get_existing_timestamp(str(submitted.parent))
    with Gradebook(run.db_url, course_id=course.COURSE_ID) as gb:  # as nbgrader's Autograde.init_assignment
        gb.update_or_create_student(student_id)
        if timestamp:
            gb.update_or_create_submission(run.assignment, student_id, timestamp=timestamp)
        else:
            gb.update_or_create_submission(run.assignment, student_id)
        notebook = gb.find_submission_notebook(run.assignment, run.assignment, student_id)
        for comment in notebook.comments:
            if comment.name in answer["comments"]:
                comment.auto_comment = answer["comments"][comment.name]
        gb.db.commit()
    import nbformat
    from nbgrader.preprocessors import AssignLatePenalties
    resources = {"nbgrader": {"notebook": run.assignment, "assignment": run.assignment, "student": student_id,
                              "db_url": run.db_url}}
    AssignLatePenalties(config=run.api.config, log=run.api.log).preprocess(nbformat.v4.new_notebook(), resources)

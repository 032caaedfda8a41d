"""`python -m autograder grade`: grade every submission of an assignment, whatever state it is in.

Each `SUBMISSIONS/<student_id>/<assignment>.ipynb` goes through grading_steps.STEPS: its notebook and
exchange records are taken into nbgrader's course folder; nbgrader executes and records it while the hidden
checks in checks/<assignment>/ call the student's functions in a separate worker process; each test cell
scores its points times the weighted share of its checks passed (scoring.py), and that score replaces
nbgrader's all-or-nothing one in the gradebook; a feedback page is written. Then grades.csv and the class
report (report.py), and with `--lms canvas` the file for Canvas's gradebook import.
A submission that cannot be read, executed or checked gets zero where due and a reason; the run goes on
with the next one. A rerun into the same folder reuses the grades that nothing has changed since (cache.py).
Submissions are graded one after another, by `--workers N` processes, or, with `--dask ADDRESS`, on the workers
of a Dask cluster while this process alone writes the results (distributed_grading.py).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import re
import signal
import traceback
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from . import cache, course
from .grades_csv import write_csv
from .grading_steps import grade_submission
from .nbgrader_run import GradingRun
from .proxy import STOPPING, stop_all
from .results import StudentGrade, printable
from .sandbox import SandboxUnavailable, die_with_parent, remove_stale_cgroups, stop_kernels

log = logging.getLogger("autograder")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")


def grade_or_reuse(run: GradingRun, student_id: str, path: Path, regrade: bool = False) -> StudentGrade | None:
    """The earlier run's grade when neither the submission nor the grader changed; else grade it.

    A result is saved only once its grade is in the gradebook, so a run killed halfway loses
    nothing and, rerun, grades just the submissions it had not finished.
    """
    digest, saved = reusable(run, student_id, path, regrade)
    if saved is not None:
        return saved
    grade = grade_submission(run, student_id, path)
    if grade is not None:
        keep_result(run, grade, digest)
    return grade


def reusable(run: GradingRun, student_id: str, path: Path, regrade: bool = False) -> tuple[str, StudentGrade | None]:
    """(the submission's digest, the earlier run's grade when neither the submission nor the grader changed)."""
    digest = cache.file_digest(path)
    return digest, None if regrade else cache.saved_grade(run.result_path(student_id), run.fingerprint, digest)


def keep_result(run: GradingRun, grade: StudentGrade, digest: str):
    """Save a grade that is in the gradebook, for the next run to reuse; forget an earlier run's otherwise."""
    result = run.result_path(grade.student_id)
    if grade.recorded and not grade.grader_failed:
        cache.save_grade(result, grade, run.fingerprint, digest)
    else:
        result.unlink(missing_ok=True)  # an earlier run's grade no longer stands: the report must not show it


_worker_run: GradingRun | None = None  # a pool worker's own, made once by _init_worker


def stop_this_process(*_):
    """Discard the grade being made: no new worker starts, running workers and kernels are killed."""
    stop_all()
    stop_kernels()


def _init_worker(*run_args):
    global _worker_run
    die_with_parent()
    # Ctrl-C reaches the whole process group: the main process decides, and tells the workers with SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_this_process)
    logging.basicConfig(level=logging.WARNING)
    course.configure_nbgrader()  # before nbgrader's first import: its warnings and logs, silenced as in the main process
    _worker_run = GradingRun(*run_args)


def _grade_in_worker(student_id, path, regrade):
    return grade_or_reuse(_worker_run, student_id, path, regrade)


def find_submissions(assignment: str, submissions: Path) -> tuple[list, list]:
    """([(student_id, notebook path)], [problems]) for SUBMISSIONS/<student_id>/<assignment>.ipynb, or for
    nbgrader's own layout SUBMISSIONS/<student_id>/<assignment>/<assignment>.ipynb, which `nbgrader collect`
    leaves in <course>/submitted/."""
    if not submissions.is_dir():
        raise SystemExit(f"no such folder: {submissions}")
    found, problems = [], []
    for folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
        if not STUDENT_ID.match(folder.name):
            problems.append(f"skipped folder {folder.name!r}: not a valid student id")
            continue
        plain, collected = folder / f"{assignment}.ipynb", folder / assignment / f"{assignment}.ipynb"
        if plain.exists() and collected.exists():
            problems.append(f"{folder.name} has both {plain.relative_to(submissions)} and "
                            f"{collected.relative_to(submissions)}: the first was graded")
        found.append((folder.name, collected if collected.exists() and not plain.exists() else plain))
    if not found:
        expected = f"{submissions}/<student_id>/{assignment}"
        raise SystemExit(f"no submissions in {submissions}: expected {expected}.ipynb or, as `nbgrader collect` "
                         f"leaves them, {expected}/{assignment}.ipynb")
    return found, problems


def grade_folder(assignment: str, submissions: Path, out: Path, workers: int = 1, db_url: str | None = None,
                 sandboxed: bool = True, cell_timeout: float = course.CELL_TIMEOUT_S,
                 call_timeout: float = course.CALL_TIMEOUT_S, regrade: bool = False, lms: str | None = None,
                 dask: str | None = None) -> tuple[list[StudentGrade], list[str]]:
    """Grade every submission in `submissions`; write grades.csv, feedback and report.html into `out` (and the
    gradebook file of `lms`, "canvas", when given). With `dask`, the address of a Dask scheduler (or its
    scheduler file), the submissions are graded on that cluster's workers (distributed_grading.py)."""
    if submissions.resolve().is_relative_to(out.resolve()):
        raise SystemExit(f"refusing to grade: {submissions} is inside the output folder {out}, which the grader "
                         "rewrites; collect the submissions elsewhere")
    found, problems = find_submissions(assignment, submissions)
    if dask is not None:
        try:
            from .distributed_grading import grade_on_dask  # here: dask is needed only with --dask
        except ImportError as exc:
            raise SystemExit(f"--dask needs dask and distributed (requirements.txt pins them): {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    run_args = (assignment, out, db_url, submissions, sandboxed, cell_timeout, call_timeout)
    run = GradingRun(*run_args)
    try:
        if dask is None:  # on a cluster, each worker checks its own before its first submission
            run.sandbox.check()
    except SandboxUnavailable as exc:
        raise SystemExit(f"refusing to grade: student code would run unsandboxed. {exc}") from None
    if not sandboxed:
        log.warning("grading WITHOUT a sandbox (--unsafe-no-sandbox): student code can read and write "
                    "whatever this user can")
    remove_stale_cgroups()
    results, not_graded = [], {}
    bar = tqdm(total=len(found), desc=f"grading {assignment}", unit="student")
    bar.tally = Counter()
    with Stopper() as stopper:
        run.prepare()
        if dask is not None:
            not_graded = grade_on_dask(dask, run, found, regrade, lambda grade: results.append(_report(grade, bar)))
        elif workers <= 1:
            for student_id, path in found:
                if STOPPING.is_set():
                    break
                grade = grade_or_reuse(run, student_id, path, regrade)
                if grade is not None:
                    results.append(_report(grade, bar))
        else:
            # The workers fork from a server process that imported the grading code and PyTorch (the checks'
            # float64 references) once, rather than each importing them anew: seconds of CPU on every run.
            # The server is single-threaded, unlike this process, so forking it is safe.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__, "torch", "autograder.fork_server"])
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                                        initargs=run_args) as pool:
                stopper.pool = pool
                with stopper.ignoring_sigint():  # the workers start with Ctrl-C ignored: the main process decides
                    pending = {pool.submit(_grade_in_worker, sid, path, regrade) for sid, path in found}
                while pending and not STOPPING.is_set():
                    done, pending = concurrent.futures.wait(pending, 0.5, concurrent.futures.FIRST_COMPLETED)
                    results += [_report(g, bar) for g in map(_outcome, done) if g is not None]
                for future in pending:
                    future.cancel()
                # the ones in flight end at once: their workers were told to discard them
                in_flight = concurrent.futures.as_completed([f for f in pending if not f.cancelled()])
                results += [_report(g, bar) for g in map(_outcome, in_flight) if g is not None]
    # again: a stopped run's sandboxes may still have been dying when this run began
    remove_stale_cgroups()
    problems += [f"{student_id} was not graded: {why}" for student_id, why in sorted(not_graded.items())]
    if len(results) + len(not_graded) < len(found) and not STOPPING.is_set():
        problems.append(f"{len(found) - len(results) - len(not_graded)} submissions were not graded: a grading "
                        "process stopped abruptly (see the log above); run the same command again to grade them")
    bar.close()
    results.sort(key=lambda g: g.student_id)
    problems += [f"the grader failed on {g.student_id}'s submission (see the log above)" for g in results
                 if g.grader_failed]
    problems += [f"{g.student_id}'s grade could not be written to the gradebook (see the log above)"
                 for g in results if not g.recorded]
    write_csv(results, out / "grades.csv")
    try:
        from .report import write_class_files  # here: matplotlib stays out of the grading workers
        write_class_files(assignment, out, lms)
    except Exception as exc:  # the grades stand without their report
        log.error("the class report could not be written: %s", traceback.format_exc())
        problems.append(f"the class report could not be written ({type(exc).__name__}); see the log above")
    if STOPPING.is_set():
        problems.append(f"stopped: {len(results)} of {len(found)} submissions graded (grades.csv lists those); "
                        "run the same command again to grade the rest")
    return results, problems


def _outcome(future) -> StudentGrade | None:
    """A pool worker's grade; None when it was discarded, or lost with its process (logged)."""
    try:
        return future.result()
    except Exception as exc:
        if not STOPPING.is_set():
            log.error("a grading process failed: %s", printable(f"{type(exc).__name__}: {exc}"))
        return None


class Stopper:
    """Ctrl-C or SIGTERM: the first stops the run within seconds (no new submission starts, the ones in flight
    are discarded whole, every sandbox is killed); a second stops at once."""

    def __init__(self):
        self.pool, self.previous = None, {}

    @contextlib.contextmanager
    def ignoring_sigint(self):
        """Processes started here inherit an ignored SIGINT (Python keeps it ignored): a Ctrl-C while they
        start up cannot kill them."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, self.handle)

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc):
        if self.stopping:
            return  # a second Ctrl-C while the stopped run writes its summary still stops at once
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def handle(self, signum, frame):
        stop_this_process()
        processes = list((self.pool._processes or {}).values()) if self.pool is not None else []
        for process in processes:
            try:
                os.kill(process.pid, signal.SIGKILL if self.stopping else signal.SIGTERM)
            except (ProcessLookupError, OSError):
                pass
        if self.stopping:
            os.write(2, b"\nstopped at once; run the same command again to grade the rest\n")
            os._exit(130)
        self.stopping = True
        os.write(2, b"\nstopping: the submissions being graded are discarded (press Ctrl-C again to stop at once)\n")

    stopping = False


def outcome(grade: StudentGrade) -> str:
    """How a submission's grading went, as the progress bar and the summary count it: "reused" (unchanged since
    the last run), "failed" (the grader failed on it, or its grade could not be recorded: grade it again),
    "with problems" (graded, with a problem of the notebook as a whole: unreadable, not executable, a cell that
    raised, a test cell missing; the class report lists them) or "graded"."""
    if grade.reused:
        return "reused"
    if grade.grader_failed or not grade.recorded:
        return "failed"
    return "with problems" if grade.problems else "graded"


def summary(results: list[StudentGrade], total: int) -> str:
    """One line: how many submissions of `total` ended each way."""
    counts = Counter(map(outcome, results))
    parts = [f"{counts[kind]} {kind}" for kind in ("graded", "with problems", "reused", "failed") if counts[kind]]
    missing = total - len(results)
    return f"{len(results)} of {total} submissions: " + ", ".join(parts or ["none"]) + (
        f"; {missing} not graded" if missing else "")


def _report(grade: StudentGrade, bar) -> StudentGrade:
    reasons = grade.problems + grade.lost_points()
    bar.write(printable(f"{grade.student_id}: {grade.score:g}/{grade.max_score:g}"
                        + (" (unchanged since the last run)" if grade.reused else "")
                        + (" | " + " | ".join(reasons) if reasons else "")))
    bar.tally[outcome(grade)] += 1
    bar.set_postfix({kind: bar.tally[kind] for kind in ("graded", "with problems", "reused", "failed")},
                    refresh=False)
    bar.update(1)
    return grade

"""`python -m autograder grade`: grade every submission of an assignment, whatever state it is in.

For each `SUBMISSIONS/<student_id>/<assignment>.ipynb`:
1. nbgrader autogrades the notebook (executes it, restores test cells, records the submission);
2. the hidden checks in checks/<assignment>/ run here, calling the student's functions in a
   separate worker process;
3. each test cell scores its points times the fraction of its hidden checks passed, and that
   score replaces nbgrader's all-or-nothing one in the gradebook;
4. grades.csv and a feedback page per student are written.
A submission that cannot be read, executed or checked gets zero where due and a reason; the run
goes on with the next one.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import dataclasses
import hashlib
import json
import os
import logging
import multiprocessing
import re
import shutil
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import course, feedback, notebook
from .proxy import STOPPING, StudentCallError, StudentCode, stop_all
from .runner import CheckResult, run_checks
from .sandbox import (KernelJail, Sandbox, SandboxedKernelManager, SandboxUnavailable, die_with_parent,
                      remove_stale_cgroups, stop_kernels)

log = logging.getLogger("autograder")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")


@dataclass
class StudentGrade:
    student_id: str
    assignment: str
    cells: list                                  # notebook.TestCell of the source, in order
    scores: dict = field(default_factory=dict)   # grade_id -> points earned
    checks: list = field(default_factory=list)   # runner.CheckResult
    problems: list = field(default_factory=list)  # reasons that concern the whole submission
    grader_failed: bool = False                    # a fault of the grader, not of the submission
    recorded: bool = False                         # written to the gradebook
    reused: bool = False                           # taken from an earlier run: nothing changed since

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        del data["recorded"], data["reused"]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "StudentGrade":
        data = dict(data)
        data["cells"] = [notebook.TestCell(**c) for c in data["cells"]]
        data["checks"] = [CheckResult(**c) for c in data["checks"]]
        return cls(**data, recorded=True, reused=True)

    @property
    def score(self) -> float:
        return round(sum(self.scores.get(c.grade_id, 0.0) for c in self.cells), 2)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells)

    def _why(self, cell) -> str:
        mine = [c for c in self.checks if c.cell == cell.grade_id]
        failed = [c for c in mine if not c.passed]
        if not mine:
            return "no check could run"
        if len(failed) == len(mine) and len({c.message for c in failed}) == 1 and failed[0].message:
            return f"all {len(mine)} checks failed: {failed[0].message}"
        return "; ".join(c.title + (f" ({c.message})" if c.message else "") for c in failed)

    def lost_points(self) -> list[str]:
        """One line per test cell that lost points, with the checks that failed."""
        lines = []
        for cell in self.cells:
            earned = self.scores.get(cell.grade_id, 0.0)
            if earned < cell.points:
                lines.append(f"{cell.grade_id} {earned:g}/{cell.points:g}: {self._why(cell)}")
        return lines


def cell_scores(cells, checks: list[CheckResult]) -> dict:
    """Points times the fraction of the cell's hidden checks passed (none run: no points)."""
    scores = {}
    for cell in cells:
        mine = [c for c in checks if c.cell == cell.grade_id]
        passed = sum(c.passed for c in mine)
        scores[cell.grade_id] = round(cell.points * passed / len(mine), 2) if mine else 0.0
    return scores


class Course:
    """nbgrader's course folder for one grading run, inside the output folder."""

    def __init__(self, assignment: str, out: Path, db_url: str | None, submissions: Path, sandboxed: bool = True,
                 cell_timeout: float = course.CELL_TIMEOUT_S, call_timeout: float = course.CALL_TIMEOUT_S):
        self.assignment = assignment
        self.cell_timeout, self.call_timeout = cell_timeout, call_timeout
        self.out = out.resolve()
        self.root = self.out / "nbgrader"
        self.db_url = db_url or f"sqlite:///{self.out / 'gradebook.db'}"
        # Student code must not see the gradebook (nor its server's socket), other students' work or the
        # hidden checks.
        hidden = [self.out, submissions.resolve(), *gradebook_folders(self.db_url)]
        if submissions.resolve().name == "submitted":  # nbgrader's course folder: its gradebook, its source/
            hidden.append(submissions.resolve().parent)
        self.sandbox = Sandbox(hide=hidden, enabled=sandboxed, hidden_packages=course.hidden_packages(assignment))
        self.source = notebook.read_source(course.source_notebook(assignment))
        self.cells = notebook.test_cells(self.source)
        self.fingerprint = grader_fingerprint(assignment)
        self._api = None

    @property
    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI
            from nbgrader.coursedir import CourseDirectory
            course.put_venv_on_path()
            course.quiet_nbgrader()
            config = course.nbgrader_config(self.root, self.root / "release", self.db_url, self.cell_timeout)
            self._api = NbGraderAPI(CourseDirectory(config=config), config=config)
            self._api.log.setLevel(logging.ERROR)
        return self._api

    def prepare(self):
        """Record the assignment and its cells in the gradebook (nbgrader's generate_assignment)."""
        self.root.mkdir(parents=True, exist_ok=True)
        result = self.api.generate_assignment(self.assignment, force=True, create=True)
        if not result["success"]:
            raise SystemExit(f"nbgrader could not prepare {self.assignment}:\n{result.get('error', '')}")

    def result_path(self, student_id: str) -> Path:
        return self.out / "results" / f"{student_id}.json"

    def submission_path(self, student_id: str) -> Path:
        return self.root / "submitted" / student_id / self.assignment / f"{self.assignment}.ipynb"

    def autograded_path(self, student_id: str) -> Path:
        return self.root / "autograded" / student_id / self.assignment / f"{self.assignment}.ipynb"

    def redact(self, text: str) -> str:
        """A student's own error message, with the grader's folders (which it may name) left out."""
        for folder in sorted({str(course.REPO), str(self.out), *map(str, self.sandbox.hide)}, key=len, reverse=True):
            text = re.sub(re.escape(folder) + r"[^\s'\"]*", "<hidden path>", text)
        return text

    def autograde_deadline(self, submitted) -> float:
        """Seconds nbgrader may take in all: every code cell its limit, plus the kernel's start and stop."""
        cells = sum(1 for c in submitted.cells if c.get("cell_type") == "code")
        return self.cell_timeout * (cells + 1) + 120

    def autograde(self, student_id: str, deadline: float) -> str | None:
        """Run nbgrader autograde, its kernel sandboxed, for at most `deadline` seconds; return None, or why
        it failed. nbgrader runs in a daemon thread: if it does not return in time, its kernel is killed
        and the grader goes on without waiting for it."""
        jail = SandboxedKernelManager.jail = KernelJail(self.sandbox)
        outcome = []

        def run():
            try:
                outcome.append(self.api.autograde(self.assignment, student_id, force=True, create=True))
            except Exception as exc:
                outcome.append({"success": False, "error": f"{type(exc).__name__}: {exc}"})
        thread = threading.Thread(target=run, daemon=True, name=f"nbgrader {student_id}")
        thread.start()
        ends = time.monotonic() + deadline
        while thread.is_alive() and time.monotonic() < ends and not STOPPING.is_set():
            thread.join(0.2)
        jail.close()  # kills whatever of the kernel is left, removes its sockets
        if STOPPING.is_set():
            return "grading was stopped"
        if not outcome:
            log.warning("nbgrader did not finish %s within %g s; its kernel was stopped", student_id, deadline)
            return f"it did not finish within {deadline:g} s"
        result = outcome[0]
        if result["success"]:
            return None
        text = printable(f"{result.get('log') or ''}\n{result.get('error') or ''}", keep_newlines=True)
        causes = [line.strip() for line in text.splitlines()
                  if re.match(r"^\s*[A-Za-z_.]*(Error|Exception|Timeout)\b.*:", line) and "NbGraderException" not in line]
        log.warning("nbgrader autograde failed for %s:\n%s", student_id, text[-3000:])
        return causes[-1][:300] if causes else "nbgrader could not execute the notebook"

    def record(self, grade: StudentGrade):
        """Write the cell scores into the gradebook, creating the submission if nbgrader could not."""
        from nbgrader.api import Gradebook, MissingEntry
        with Gradebook(self.db_url, course_id=course.COURSE_ID) as gb:
            gb.update_or_create_student(grade.student_id)
            try:
                gb.find_submission(self.assignment, grade.student_id)
            except MissingEntry:
                gb.add_submission(self.assignment, grade.student_id)
            for cell in self.cells:
                row = gb.find_grade(cell.grade_id, self.assignment, self.assignment, grade.student_id)
                row.auto_score = grade.scores.get(cell.grade_id, 0.0)
                row.manual_score = None
                row.needs_manual_grade = False
            gb.db.commit()


def gradebook_folders(db_url: str) -> list[Path]:
    """The folders that hold the gradebook: a sqlite file's folder, or a database server's Unix socket folder."""
    from sqlalchemy.engine import make_url
    url = make_url(db_url)
    if url.drivername.startswith("sqlite"):
        return [Path(url.database).resolve().parent] if url.database else []
    host_parameter = url.query.get("host", ())
    hosts = [url.host or "", *([host_parameter] if isinstance(host_parameter, str) else host_parameter)]
    sockets = [Path(h) for h in hosts if h.startswith("/")]
    # libpq's default socket folders, for a URL that names no host
    return sockets or [Path(p) for p in ("/run/postgresql", "/var/run/postgresql", "/tmp") if Path(p).is_dir()]


def grade_one(course_run: Course, student_id: str, path: Path) -> StudentGrade | None:
    """Grade one submission; never raises: what went wrong becomes a reason and zero points. None when the
    run was stopped before the grade was made: nothing of it is recorded."""
    grade = StudentGrade(student_id, course_run.assignment, course_run.cells)
    records = exchange_records(path.parent, grade.problems)
    try:
        submitted = notebook.read_submission(path) if path.is_file() else None
        if submitted is None:
            grade.problems.append(f"no {path.name} was found in the submission folder")
        else:
            target = course_run.submission_path(student_id)
            content = path.read_bytes()  # read first: SUBMISSIONS may be nbgrader's own submitted/ folder
            shutil.rmtree(target.parent, ignore_errors=True)
            target.parent.mkdir(parents=True)
            # only the notebook and nbgrader's exchange records: no file beside it (a numpy.py) comes along
            target.write_bytes(content)
            for name, record in records.items():
                (target.parent / name).write_bytes(record)
            # nbgrader mostly waits for its kernel: run the hidden checks meanwhile
            deadline = course_run.autograde_deadline(submitted)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                autograding = pool.submit(course_run.autograde, student_id, deadline)
                grade.checks = check_submission(course_run, submitted, grade)
                failure = autograding.result()
            if STOPPING.is_set():
                return None  # stopped halfway: discarded whole, graded again by the next run
            if failure:
                grade.problems.insert(0, f"nbgrader could not execute the notebook: {failure}")
    except ValueError as exc:  # an unreadable notebook
        grade.problems.append(f"{path.name} could not be read: {exc}")
    except Exception as exc:  # a fault of the grader, not the student: zero, logged loudly
        log.error("grading %s failed: %s", student_id, traceback.format_exc())
        grade.problems.append(f"the grader failed on this submission ({type(exc).__name__}); ask your instructor")
        grade.grader_failed = True
    grade.scores = cell_scores(course_run.cells, grade.checks)
    try:
        course_run.record(grade)
        grade.recorded = True
    except Exception:
        log.error("could not record %s in the gradebook: %s", student_id, traceback.format_exc())
        grade.problems.append("the grade could not be written to the gradebook")
    page = course_run.out / "feedback" / student_id / f"{course_run.assignment}.html"
    feedback.write(grade, page)
    place_for_release_feedback(course_run, student_id, page, records)
    return grade


# What nbgrader's exchange writes beside a submitted notebook, and `nbgrader collect` keeps: the submission
# time (the gradebook records it) and a secret from which `nbgrader release_feedback` names the student's
# released feedback page, md5(secret + notebook name), the name the student's `fetch_feedback` looks for.
EXCHANGE_RECORDS = ("timestamp.txt", "submission_secret.txt")


def exchange_records(folder: Path, problems: list) -> dict[str, bytes]:
    """{name: content} of the exchange records beside a submitted notebook. One that nbgrader could not
    read (a link, a large file, a time it cannot parse) is left out, with a reason in `problems`."""
    records = {}
    for name in EXCHANGE_RECORDS:
        path = folder / name
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            plain = path.is_file() and not path.is_symlink() and path.stat().st_size < 1000
            content = path.read_bytes() if plain else b""
        except OSError:
            content = b""
        if valid_exchange_record(name, content):
            records[name] = content
        else:
            problems.append(f"the {name} beside the notebook could not be read; it was ignored")
    return records


def valid_exchange_record(name: str, content: bytes) -> bool:
    """Whether nbgrader can use it: a secret of printable characters, a time its parser reads."""
    from nbgrader.utils import parse_utc
    text = content.decode("ascii", "replace")
    if name == "submission_secret.txt":
        return bool(re.fullmatch(r"[\x21-\x7e]+", text))  # nbgrader writes 128 hex digits
    try:
        return bool(text.strip()) and parse_utc(text.strip()) is not None
    except (ValueError, OverflowError):
        return False


def place_for_release_feedback(course_run: Course, student_id: str, page: Path, records: dict):
    """Copy the feedback page where `nbgrader release_feedback --CourseDirectory.root=DIR/nbgrader` looks for
    it, feedback/<student_id>/<assignment>/<assignment>.html beside the submission's exchange records. A
    submission without both records did not come through the exchange: nothing is placed (release_feedback
    would stop at it), and the page reaches the student some other way."""
    folder = course_run.root / "feedback" / student_id / course_run.assignment
    shutil.rmtree(folder, ignore_errors=True)
    if set(records) == set(EXCHANGE_RECORDS):
        folder.mkdir(parents=True)
        for name, record in records.items():
            (folder / name).write_bytes(record)
        shutil.copyfile(page, folder / page.name)


def grader_fingerprint(assignment: str) -> str:
    """Changes whenever the source notebook, the hidden checks (one assignment's may import another's
    references), the grader's code or the shared library (labs' checks use it) change."""
    digest = hashlib.sha256(course.source_notebook(assignment).read_bytes())
    package = Path(__file__).resolve().parent
    files = [*package.rglob("*.py"), course.CHECKS / "pytest.ini", *(course.REPO / "actlab").glob("*.py")]
    for path in sorted(files):
        digest.update(path.read_bytes())
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


def grade_or_reuse(course_run: Course, student_id: str, path: Path, regrade: bool = False) -> StudentGrade | None:
    """The earlier run's grade when neither the submission nor the grader changed; else grade it.

    A result is saved only once its grade is in the gradebook, so a run killed halfway loses
    nothing and, rerun, grades just the submissions it had not finished.
    """
    digest, saved = file_digest(path), course_run.result_path(student_id)
    if not regrade and saved.is_file():
        try:
            data = json.loads(saved.read_text())
            if data.pop("fingerprint") == course_run.fingerprint and data.pop("submission") == digest:
                return StudentGrade.from_json(data)
        except (ValueError, KeyError, TypeError):
            pass  # an unreadable result: grade again
    grade = grade_one(course_run, student_id, path)
    if grade is None:
        return None
    if grade.recorded and not grade.grader_failed:
        saved.parent.mkdir(parents=True, exist_ok=True)
        partial = saved.with_suffix(".partial")
        partial.write_text(json.dumps({**grade.to_json(), "fingerprint": course_run.fingerprint,
                                       "submission": digest}, indent=1))
        os.replace(partial, saved)  # atomic: a result file is always complete
    return grade


def check_submission(course_run: Course, submitted, grade: StudentGrade) -> list[CheckResult]:
    test_ids = {cell.grade_id for cell in course_run.cells}
    present = {notebook.nbgrader_meta(c).get("grade_id") for c in submitted.cells}
    for cell in course_run.cells:
        if cell.grade_id not in present:
            grade.problems.append(f"the test cell {cell.grade_id} was missing; nbgrader put it back")
    sandbox = course_run.sandbox if course_run.sandbox.enabled else None
    code = StudentCode(notebook.code_to_run(submitted, test_ids), call_timeout=course_run.call_timeout,
                       cell_timeout=course_run.cell_timeout, start_timeout=course_run.cell_timeout * 3,
                       sandbox=sandbox, hidden_packages=course_run.sandbox.hidden_packages)
    try:
        try:
            code.ensure_started()
        except StudentCallError as exc:
            grade.problems.append(course_run.redact(str(exc)))
        for error in code.cell_errors:
            grade.problems.append(f"cell {error['cell']}: {course_run.redact(error['error'])}")
        results = run_checks(course_run.assignment, code)
    finally:
        code.close()
    for result in results:
        result.message = course_run.redact(result.message)
    return results


# -- a whole folder -------------------------------------------------------------------------------
_worker_course: Course | None = None


def stop_this_process(*_):
    """Discard the grade being made: no new worker starts, running workers and kernels are killed."""
    stop_all()
    stop_kernels()


def _init_worker(*course_args):
    global _worker_course
    die_with_parent()
    # Ctrl-C reaches the whole process group: the main process decides, and tells the workers with SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_this_process)
    logging.basicConfig(level=logging.WARNING)
    _worker_course = Course(*course_args)


def _grade_in_worker(student_id, path, regrade):
    return grade_or_reuse(_worker_course, student_id, path, regrade)


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
                 call_timeout: float = course.CALL_TIMEOUT_S, regrade: bool = False
                 ) -> tuple[list[StudentGrade], list[str]]:
    """Grade every submission in `submissions`; write grades.csv and feedback into `out`."""
    if submissions.resolve().is_relative_to(out.resolve()):
        raise SystemExit(f"refusing to grade: {submissions} is inside the output folder {out}, which the grader "
                         "rewrites; collect the submissions elsewhere")
    found, problems = find_submissions(assignment, submissions)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(course.GRADING_ENV)  # nbgrader's kernels inherit it (spawned pool workers too)
    course_args = (assignment, out, db_url, submissions, sandboxed, cell_timeout, call_timeout)
    main = Course(*course_args)
    try:
        main.sandbox.check()
    except SandboxUnavailable as exc:
        raise SystemExit(f"refusing to grade: student code would run unsandboxed. {exc}") from None
    if not sandboxed:
        log.warning("grading WITHOUT a sandbox (--unsafe-no-sandbox): student code can read and write "
                    "whatever this user can")
    remove_stale_cgroups()
    results = []
    bar = tqdm(total=len(found), desc=f"grading {assignment}", unit="student")
    with Stopper() as stopper:
        main.prepare()
        if workers <= 1:
            for student_id, path in found:
                if STOPPING.is_set():
                    break
                grade = grade_or_reuse(main, student_id, path, regrade)
                if grade is not None:
                    results.append(_report(grade, bar))
        else:
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                                        initargs=course_args) as pool:
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
    if len(results) < len(found) and not STOPPING.is_set():
        problems.append(f"{len(found) - len(results)} submissions were not graded: a grading process stopped "
                        "abruptly (see the log above); run the same command again to grade them")
    bar.close()
    results.sort(key=lambda g: g.student_id)
    problems += [f"the grader failed on {g.student_id}'s submission (see the log above)" for g in results
                 if g.grader_failed]
    problems += [f"{g.student_id}'s grade could not be written to the gradebook (see the log above)"
                 for g in results if not g.recorded]
    write_csv(results, out / "grades.csv")
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


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` (which a student may have written) safe for a terminal: no escape sequence, no control
    character and, unless kept, no line break that could forge a line of the grader's own."""
    allowed = "\n" if keep_newlines else ""
    return "".join(c if c.isprintable() or c in allowed else ("\u23ce" if c in "\r\n" else "\ufffd")
                   for c in text)


def _report(grade: StudentGrade, bar) -> StudentGrade:
    reasons = grade.problems + grade.lost_points()
    bar.write(printable(f"{grade.student_id}: {grade.score:g}/{grade.max_score:g}"
                        + (" (unchanged since the last run)" if grade.reused else "")
                        + (" | " + " | ".join(reasons) if reasons else "")))
    bar.update(1)
    return grade


def write_csv(grades: list[StudentGrade], path: Path):
    cells = grades[0].cells if grades else []
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "assignment", "score", "max_score"] + [c.grade_id for c in cells])
        for g in grades:
            writer.writerow([g.student_id, g.assignment, f"{g.score:g}", f"{g.max_score:g}"]
                            + [f"{g.scores.get(c.grade_id, 0.0):g}" for c in cells])

"""nbgrader's side of one grading run: its course folder inside the output folder, its autograde run per
submission (sandboxed kernel, deadline), the gradebook, and feedback placed for `nbgrader release_feedback`."""
from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from pathlib import Path

from . import course, notebook
from .cache import grader_fingerprint
from .exchange import EXCHANGE_RECORDS
from .proxy import STOPPING
from .results import StudentGrade, printable
from .sandbox import KernelJail, Sandbox

log = logging.getLogger("autograder")


class GradingRun:
    """One assignment graded into one output folder: nbgrader's course folder there, the sandbox that hides
    the grader's folders, and the source's test cells."""

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
            course.configure_nbgrader()
            config = course.nbgrader_config(self.root, self.root / "release", self.db_url, self.cell_timeout)
            # in its configuration, not set afterwards: the constructor already lists the released assignments,
            # which logged "Released assignments:" once per process
            config.NbGraderAPI.log_level = "ERROR"
            self._api = NbGraderAPI(CourseDirectory(config=config), config=config)
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

    def feedback_path(self, student_id: str) -> Path:
        return self.out / "feedback" / student_id / f"{self.assignment}.html"

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
        jail = KernelJail(self.sandbox)
        outcome = []

        def run():
            try:
                outcome.append(self._nbgrader_autograde(student_id, jail))
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

    def _nbgrader_autograde(self, student_id: str, jail: KernelJail) -> dict:
        """What `NbGraderAPI.autograde` does, with this call's kernel jail in the app's own configuration (a
        copy): an nbgrader run that outlived its deadline can never start a kernel in a later one's jail."""
        from nbgrader.converters import Autograde
        from nbgrader.utils import capture_log, temp_attrs
        with temp_attrs(self.api.coursedir, assignment_id=self.assignment, student_id=student_id):
            app = Autograde(coursedir=self.api.coursedir, parent=self.api)
            app.update_config(jail.kernel_config())
            app.force, app.create_student = True, True
            return capture_log(app)

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

    def place_for_release_feedback(self, student_id: str, page: Path, records: dict):
        """Copy the feedback page where `nbgrader release_feedback --CourseDirectory.root=DIR/nbgrader` looks
        for it, feedback/<student_id>/<assignment>/<assignment>.html beside the submission's exchange records.
        A submission without both records did not come through the exchange: nothing is placed
        (release_feedback would stop at it), and the page reaches the student some other way."""
        folder = self.root / "feedback" / student_id / self.assignment
        shutil.rmtree(folder, ignore_errors=True)
        if set(records) == set(EXCHANGE_RECORDS):
            folder.mkdir(parents=True)
            for name, record in records.items():
                (folder / name).write_bytes(record)
            shutil.copyfile(page, folder / page.name)


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

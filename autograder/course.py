"""Where the course's files live, and the nbgrader configuration that ties them together."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from traitlets.config import Config

from actlab import settings

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
CHECKS = Path(__file__).resolve().parent / "checks"

# nbgrader's course id in the gradebook. It must not be empty: with "" nbgrader records no course row, and a
# database that enforces foreign keys (PostgreSQL) then refuses every assignment.
COURSE_ID = "activation-functions"
CELL_TIMEOUT_S = 60  # default wall-clock limit of one notebook cell, in nbgrader's kernel and in the worker
CALL_TIMEOUT_S = 10  # default wall-clock limit of one call of a student's function by a hidden check
# Where the released notebooks' links to the book point: the folder (or web address) of the built HTML
# book, ending in "/". The default is the book's copy inside the course kit (autograder/kit.py), seen from
# a notebook at exercises/<id>/<id>.ipynb in the kit. Set the book's web address here when it is published
# somewhere, then release again (`python -m autograder release`).
BOOK_URL = "../../book/"
# Given to every process that runs student code (never set in the grader's own environment): the labs
# then run their experiments at a smoke-test size (grades come from the hidden checks; see actlab/settings.py).
GRADING_ENV = settings.environment("smoke")


def hidden_packages(assignment: str) -> tuple:
    """Packages a submission may not import. The numpy assignments are answered with numpy: PyTorch
    (whose autograd would answer any backward pass) is not importable where their code runs."""
    return () if assignment.startswith("lab_") else ("torch",)


def assignments() -> list[str]:
    """Every assignment id: the folders of solutions/ that hold `<id>/<id>.ipynb`."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_notebook(assignment: str) -> Path:
    path = SOLUTIONS / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        known = ", ".join(assignments())
        raise SystemExit(f"unknown assignment {assignment!r}: no {path.relative_to(REPO)} (known: {known})")
    return path


def nbgrader_config(root: Path, release_dir: Path, db_url: str, cell_timeout: float = CELL_TIMEOUT_S) -> Config:
    """nbgrader reads solutions/ as its source folder and writes releases to `release_dir`."""
    (root / "exchange").mkdir(parents=True, exist_ok=True)  # unused, but nbgrader wants it writable
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = str(SOLUTIONS)
    c.CourseDirectory.release_directory = str(release_dir)
    c.CourseDirectory.db_url = db_url
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
    c.Exchange.root = str(root / "exchange")
    c.Execute.timeout = int(cell_timeout)
    # nbclient waits only 4 s for a cell's output after its reply, and nbgrader makes that an error: under
    # CPU load notebooks failed though no cell ran long. The output may take as long as the cell may.
    c.Execute.iopub_timeout = int(cell_timeout)
    # The kernel talks over IPC sockets in a folder of its own, not TCP ports any local user could
    # reach, and runs in the grader's sandbox (see sandbox.SandboxedKernelManager).
    c.Execute.kernel_manager_class = "autograder.sandbox.SandboxedKernelManager"
    c.Execute.allow_errors = True
    from .output_limit import BoundedOutput
    c.Autograde.autograde_preprocessors = BoundedOutput.in_autograde()
    # A deleted test cell is put back, so its grade is recorded like any other.
    c.OverwriteCells.add_missing_cells = True
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    return c


def configure_nbgrader() -> None:
    """Silence what nbgrader's dependencies print on every submission and a reader cannot act on, and let it
    create a gradebook without the `alembic` command on PATH."""
    import nbgrader.api
    nbgrader.api.get_alembic_version = alembic_head
    import warnings
    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session handling
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)  # old notebooks: nbformat adds ids
    logging.getLogger("traitlets").setLevel(logging.WARNING)  # "Released assignments: ..." per run


def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema. nbgrader asks the `alembic` command for it (found
    through PATH, so a grader started as .venv/bin/python without an activated venv failed); alembic's
    Python API gives the same answer in this process."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR
    config = AlembicConfig()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()

"""`python -m autograder release`: regenerate exercises/ from solutions/ through nbgrader."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from . import course


def release(assignment_ids: list[str], into: Path = course.EXERCISES) -> list[Path]:
    """Run nbgrader's generate_assignment for each id and write `into/<id>/`; return the notebooks."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course.put_venv_on_path()
    written = []
    # The gradebook that generate_assignment insists on writing is thrown away: releasing
    # must not leave a database in the repository.
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        tmp = Path(tmp)
        config = course.nbgrader_config(tmp, tmp / "release", f"sqlite:///{tmp}/gradebook.db")
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        api.log.setLevel(logging.WARNING)
        for assignment in assignment_ids:
            course.source_notebook(assignment)  # a clear error for an unknown id
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise SystemExit(f"nbgrader could not release {assignment}:\n{result['log']}\n{result['error']}")
            target = into / assignment
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(tmp / "release" / assignment, target)
            written.append(target / f"{assignment}.ipynb")
    return written

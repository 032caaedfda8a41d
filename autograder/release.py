"""`python -m autograder release`: regenerate exercises/ from solutions/ through nbgrader."""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path

from . import course

# A solution notebook links a chapter by its source, `../../book/<page>.md#<section>`, a link that opens in
# the repository; the released notebook links that page of the built book under course.BOOK_URL instead.
CHAPTER_LINK = re.compile(r"\]\(\.\./\.\./(book/[^)#\s]+)\.md(#[^)\s]*)?\)")


def link_the_built_book(notebook: Path, book_url: str = course.BOOK_URL) -> None:
    """Rewrite the chapter links of a released notebook's markdown cells to the book's HTML pages."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = CHAPTER_LINK.sub(lambda m: f"]({book_url}{m[1]}.html{m[2] or ''})", cell.source)
    nbformat.write(nb, str(notebook))


def release(assignment_ids: list[str], into: Path = course.EXERCISES) -> list[Path]:
    """Run nbgrader's generate_assignment for each id and write `into/<id>/`; return the notebooks."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course.configure_nbgrader()
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
            link_the_built_book(tmp / "release" / assignment / f"{assignment}.ipynb")
            target = into / assignment
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(tmp / "release" / assignment, target)
            written.append(target / f"{assignment}.ipynb")
    return written

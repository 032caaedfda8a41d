"""Reading notebooks on the trusted side: which cells are answers and tests, and the code to run."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat


@dataclass(frozen=True)
class TestCell:
    grade_id: str
    points: float
    title: str  # the docstring on the cell's first line: what the cell tests


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def test_cells(source_nb) -> list[TestCell]:
    """The autograded test cells of the instructor's source notebook, in order."""
    cells = []
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            cells.append(TestCell(meta["grade_id"], float(meta.get("points", 0)), first.strip('"\' ')))
    return cells


def read_source(path: Path):
    return nbformat.read(str(path), as_version=4)


def read_submission(path: Path):
    """Read a submitted notebook; raise ValueError with a reason a student understands."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except UnicodeDecodeError:
        raise ValueError("the file is not text (is it really a .ipynb notebook?)") from None
    except nbformat.reader.NotJSONError:
        raise ValueError("the file is not valid notebook JSON: was it edited outside Jupyter or cut short?") from None
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        raise ValueError(f"the notebook could not be read ({type(exc).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    return nb


def code_to_run(submission_nb, test_ids: set[str]) -> list[tuple[str, str]]:
    """(label, source) of every code cell a student wrote or kept, without the test cells.

    Test cells are recognised by the grade ids of the instructor's source notebook, not by what the
    submission's metadata claims, and are left out: hidden checks run outside the student's code.
    """
    cells = []
    for index, cell in enumerate(submission_nb.cells):
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in test_ids:
            continue
        cells.append((str(grade_id) if grade_id else f"{index + 1}", cell.source))
    return cells

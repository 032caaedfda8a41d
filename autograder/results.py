"""One student's grade as the grader builds, saves and reports it, and text from students made safe to print."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import notebook
from .runner import CheckResult


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
        data["checks"] = [CheckResult(**c) for c in data["checks"]]  # a result saved before weights: weight 1
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


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` (which a student may have written) safe for a terminal: no escape sequence, no control
    character and, unless kept, no line break that could forge a line of the grader's own."""
    allowed = "\n" if keep_newlines else ""
    return "".join(c if c.isprintable() or c in allowed else ("\u23ce" if c in "\r\n" else "\ufffd")
                   for c in text)

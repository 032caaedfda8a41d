"""grades.csv: one row per student, the total and each test cell's score."""
from __future__ import annotations

import csv
from pathlib import Path

from .results import StudentGrade


def write_csv(grades: list[StudentGrade], path: Path):
    cells = grades[0].cells if grades else []
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "assignment", "score", "max_score"] + [c.grade_id for c in cells])
        for g in grades:
            writer.writerow([g.student_id, g.assignment, f"{g.score:g}", f"{g.max_score:g}"]
                            + [f"{g.scores.get(c.grade_id, 0.0):g}" for c in cells])

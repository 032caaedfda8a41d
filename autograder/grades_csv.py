"""grades.csv: one row per student, the total and each test cell's score; and, for Canvas, grades-canvas.csv."""
from __future__ import annotations

import csv
from pathlib import Path

from .results import StudentGrade

# What Canvas's gradebook import reads (instructure/canvas-lms, lib/gradebook_importer.rb): a header whose first
# columns name the student (Student, ID, then SIS User ID and SIS Login ID, then Section), then one column per
# assignment; a row that starts with "Points Possible" gives each assignment's points. Canvas finds a student by
# ID (its own number), else by SIS User ID, else by SIS Login ID, else by name. A column titled "Name (123)" is
# Canvas's assignment 123; a plain title is the assignment of that title, created when there is none.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def write_csv(grades: list[StudentGrade], path: Path):
    cells = grades[0].cells if grades else []
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "assignment", "score", "max_score"] + [c.grade_id for c in cells])
        for g in grades:
            writer.writerow([g.student_id, g.assignment, f"{g.score:g}", f"{g.max_score:g}"]
                            + [f"{g.scores.get(c.grade_id, 0.0):g}" for c in cells])


def write_canvas_csv(grades: list[StudentGrade], path: Path, assignment: str, max_score: float) -> Path:
    """A file for Canvas's gradebook import: one column titled `assignment`, worth `max_score` points, and a
    row per student with the student id as SIS Login ID (and as the name); Canvas's own ID is left empty."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CANVAS_COLUMNS + [assignment])
        writer.writerow(["Points Possible", "", "", "", "", f"{max_score:g}"])
        for g in grades:
            writer.writerow([g.student_id, "", "", g.student_id, "", f"{g.score:g}"])
    return path

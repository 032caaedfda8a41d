"""Every assignment, through the instructor's own command: the reference earns full marks, the stub none."""
import csv
import re
import shutil
import subprocess
import sys

import pytest

from autograder import course, notebook
from helpers import solution

ASSIGNMENTS = course.assignments()


def max_points(assignment):
    return sum(cell.points for cell in notebook.test_cells(solution(assignment)))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_scores_full_marks_and_the_released_stub_zero(assignment, tmp_path):
    subs = tmp_path / "submissions"
    for student, source in [("reference", course.SOLUTIONS), ("stub", course.EXERCISES)]:
        (subs / student).mkdir(parents=True)
        shutil.copy(source / assignment / f"{assignment}.ipynb", subs / student)
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(subs),
                              "--out", str(tmp_path / "out"), "--workers", "2"],
                             cwd=course.REPO, capture_output=True, text=True, timeout=900)
    assert process.returncode == 0, process.stderr[-3000:]
    with open(tmp_path / "out" / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    total = max_points(assignment)
    assert float(rows["reference"]["max_score"]) == total
    assert float(rows["reference"]["score"]) == total, rows["reference"]
    assert float(rows["stub"]["score"]) == 0, rows["stub"]


def test_the_readme_lists_every_assignment_with_its_maximum_points():
    readme = (course.REPO / "README.md").read_text()
    for assignment in ASSIGNMENTS:
        row = re.search(rf"^\| `{assignment}` \|.*\| (\d+(?:\.\d+)?) \|$", readme, flags=re.M)
        assert row, f"README: no row for {assignment} in the assignments table"
        assert float(row.group(1)) == max_points(assignment), f"README: wrong points for {assignment}"

"""`make bench-grade`: seconds per submission for plain `nbgrader autograde` and for this grader.

Both grade the same N generated submissions of `activations` (a mix of correct, blank and wrong
answers), each as the whole command an instructor runs, start-up included.
"""
from __future__ import annotations

import argparse
import copy
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from . import course, notebook

WRONG_LEAKY = "def leaky_relu(x, alpha=0.01):\n    return np.where(x >= 0, x, 0.01 * x)"


def submissions(n: int) -> list:
    source = notebook.read_source(course.source_notebook("activations"))
    blank = nbformat.read(str(course.EXERCISES / "activations" / "activations.ipynb"), as_version=4)
    wrong = copy.deepcopy(source)
    for cell in wrong.cells:
        if notebook.nbgrader_meta(cell).get("grade_id") == "leaky_relu":
            cell.source = WRONG_LEAKY
    return [(source, blank, wrong)[i % 3] for i in range(n)]


def timed(argv) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=course.REPO)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=12, help="number of submissions (default 12)")
    n = parser.parse_args(argv).n
    course.configure_nbgrader()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        tmp = Path(tmp)
        plain, subs = tmp / "plain", tmp / "submissions"
        for i, nb in enumerate(submissions(n)):
            for folder in [subs / f"s{i:03d}", plain / "submitted" / f"s{i:03d}" / "activations"]:
                folder.mkdir(parents=True)
                nbformat.write(nb, str(folder / "activations.ipynb"))
        config = [f"--CourseDirectory.root={plain}", f"--CourseDirectory.source_directory={course.SOLUTIONS}",
                  f"--CourseDirectory.db_url=sqlite:///{plain / 'gradebook.db'}", f"--Exchange.root={tmp / 'exchange'}"]
        (tmp / "exchange").mkdir()
        subprocess.run([bindir / "nbgrader", "generate_assignment", "activations", "--force", *config], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=plain)
        plain_s = timed([bindir / "nbgrader", "autograde", "activations", "--force", *config])
        ours_s = timed([sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out", str(tmp / "ours")])
        graded = (tmp / "ours" / "grades.csv").read_text().count("\n") - 1
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"machine: {os.cpu_count()} cores, {cpu}; {n} submissions of activations ({graded} graded)")
    print(f"plain nbgrader autograde:   {plain_s / n:5.2f} s per submission ({plain_s:.1f} s in all)")
    print(f"this grader (sandboxed):    {ours_s / n:5.2f} s per submission ({ours_s:.1f} s in all)")
    print(f"ratio: {ours_s / plain_s:.2f}x (goal: at most 1.5x)")


if __name__ == "__main__":
    main()

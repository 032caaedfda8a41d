"""`make bench-grade`: seconds per submission for plain `nbgrader autograde` and for this grader.

Both grade the same N generated submissions of `activations`, each as the whole command an instructor runs,
start-up included. `--class` makes them a realistic class instead of the plain mix of correct, blank and wrong
answers: correct, typical mistakes, partly answered, blank and broken notebooks, in the proportions below,
graded with `--workers` (2 by default), the same class by both graders.
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


# Typical mistakes of the activations assignment (the tests' corpus has them all): (answer cell, source).
MISTAKES = [
    ("leaky_relu", WRONG_LEAKY),
    ("sigmoid", "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))"),
    ("relu", "def relu(x):\n    x[x < 0] = 0\n    return x"),
    ("gelu", "def gelu(x, approximate='none'):\n    x = np.asarray(x)\n"
             "    return 0.5 * x * (1 + np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))"),
    ("softmax", "def softmax(x, axis=-1, temperature=1.0):\n    e = np.exp(np.asarray(x) / temperature)\n"
                "    return e / e.sum(axis=axis, keepdims=True)"),
    ("log_softmax", "def log_softmax(x, axis=-1):\n    return np.log(softmax(x, axis=axis))"),
]
# A class: out of 20 students, 8 correct, 6 with one or two typical mistakes, 3 partly answered, 1 blank and
# 2 broken (a syntax error in an answer; a notebook cut off in the middle of its JSON). Hangs are left out:
# each costs the cell time-out whatever the grader, and the attack tests cover them.
CLASS_MIX = ["correct"] * 8 + ["mistakes"] * 6 + ["partial"] * 3 + ["blank"] + ["syntax error", "cut off"]


def with_answers(nb, answers: dict):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        grade_id = notebook.nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def submissions(n: int, realistic: bool = False) -> list[bytes]:
    """n notebooks (as the bytes of their files): the plain mix of correct, blank and wrong, or a class."""
    source = notebook.read_source(course.source_notebook("activations"))
    blank = nbformat.read(str(course.EXERCISES / "activations" / "activations.ipynb"), as_version=4)
    answers = {notebook.nbgrader_meta(c)["grade_id"]: c.source for c in source.cells
               if notebook.nbgrader_meta(c).get("solution")}
    wrong = with_answers(source, dict([MISTAKES[0]]))
    if not realistic:
        return [nbformat.writes((source, blank, wrong)[i % 3]).encode() for i in range(n)]
    made = []
    for i in range(n):
        kind = CLASS_MIX[i % len(CLASS_MIX)]
        if kind == "correct":
            nb = source
        elif kind == "mistakes":
            nb = with_answers(source, dict(MISTAKES[j % len(MISTAKES)] for j in (i, i + 3)))
        elif kind == "partial":
            nb = with_answers(blank, dict(list(answers.items())[: len(answers) * (1 + i % 3) // 4]))
        elif kind == "blank":
            nb = blank
        else:
            nb = with_answers(source, {"relu": "def relu(x):\n    return np.maximum(x, 0"})
        text = nbformat.writes(nb).encode()
        made.append(text[: len(text) // 2] if kind == "cut off" else text)
    return made


def timed(argv, check=True) -> float:
    """Seconds the command took; nbgrader exits non-zero when a notebook cannot be read (check=False)."""
    start = time.perf_counter()
    subprocess.run(argv, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=course.REPO)
    return time.perf_counter() - start


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=12, help="number of submissions (default 12)")
    parser.add_argument("--class", dest="realistic", action="store_true",
                        help="a realistic class (correct, typical mistakes, partial, blank, broken)")
    parser.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: 2 "
                        "with --class, else 1)")
    args = parser.parse_args(argv)
    n, workers = args.n, args.workers or (2 if args.realistic else 1)
    course.configure_nbgrader()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        tmp = Path(tmp)
        plain, subs = tmp / "plain", tmp / "submissions"
        for i, content in enumerate(submissions(n, args.realistic)):
            for folder in [subs / f"s{i:03d}", plain / "submitted" / f"s{i:03d}" / "activations"]:
                folder.mkdir(parents=True)
                (folder / "activations.ipynb").write_bytes(content)
        config = [f"--CourseDirectory.root={plain}", f"--CourseDirectory.source_directory={course.SOLUTIONS}",
                  f"--CourseDirectory.db_url=sqlite:///{plain / 'gradebook.db'}", f"--Exchange.root={tmp / 'exchange'}"]
        (tmp / "exchange").mkdir()
        subprocess.run([bindir / "nbgrader", "generate_assignment", "activations", "--force", *config], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=plain)
        # nbgrader autograde grades one submission at a time; --workers N is this grader's alone
        plain_s = timed([bindir / "nbgrader", "autograde", "activations", "--force", *config], check=False)
        ours_s = timed([sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out",
                        str(tmp / "ours"), "--workers", str(workers)])
        graded = (tmp / "ours" / "grades.csv").read_text().count("\n") - 1
    mix = "a realistic class" if args.realistic else "correct, blank and wrong"
    print(f"machine: {machine()}; {n} submissions of activations, {mix} ({graded} graded)")
    print(f"plain nbgrader autograde:   {plain_s / n:5.2f} s per submission ({plain_s:.1f} s in all)")
    print(f"this grader (sandboxed, --workers {workers}): {ours_s / n:5.2f} s per submission ({ours_s:.1f} s in all)")
    print(f"ratio: {ours_s / plain_s:.2f}x (goal: at most 1.00x, no dearer than plain nbgrader)")
    if args.realistic:
        print(f"the class in {ours_s / 60:.2f} minutes with --workers {workers} (goal for 200 on 2 cores: 5 minutes)")


if __name__ == "__main__":
    main()

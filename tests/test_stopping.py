"""Stopping a run: Ctrl-C (SIGINT to the process group) or SIGTERM stops grading within seconds, leaves no
sandbox running, and a rerun into the same folder completes the class with exactly the grades of a run
that was never stopped; after SIGKILL, nothing the grader started outlives it either."""
import csv
import glob
import os
import random
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from autograder import course
from helpers import released, solution, with_answer

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists("/usr/bin/bwrap"), reason="needs bubblewrap (make test installs it)")]
CLASS = 12
WRONG = {"sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(x))",
         "relu": "def relu(x):\n    return np.maximum(x, 0.1)",
         "softmax": "def softmax(x, axis=-1, temperature=1.0):\n    e = np.exp(x)\n    return e / e.sum()"}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """A class of 12: correct, blank, and each with one typical mistake, in turn (each kind at least twice)."""
    folder = tmp_path_factory.mktemp("class")
    kinds = [solution(), released()] + [with_answer(solution(), name, source) for name, source in WRONG.items()]
    for i in range(CLASS):
        (folder / f"s{i:02d}").mkdir()
        nbformat.write(kinds[i % len(kinds)], str(folder / f"s{i:02d}" / "activations.ipynb"))
    return folder


def grade(submissions, out, **popen):
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", "activations", str(submissions),
                             "--out", str(out), "--workers", "2"], cwd=course.REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **popen)


def rows(out):
    with open(out / "grades.csv") as f:
        return sorted(tuple(row.values()) for row in csv.DictReader(f))


def gradebook(out):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course.COURSE_ID) as gb:
        return sorted((s.student.id, s.score, tuple(sorted((g.name, g.score) for nb in s.notebooks for g in nb.grades)))
                      for s in gb.assignment_submissions("activations"))


def sandboxes_of(out):
    """Processes whose command line names the run's output folder: every sandbox hides it."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if str(out).encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def stale_cgroups():
    """The graders' pids cgroups whose creator (its pid is in the name) is no longer running."""
    paths = glob.glob("/sys/fs/cgroup/pids/autograder-*") + glob.glob("/sys/fs/cgroup/autograder-*")
    return {p for p in paths if not os.path.exists(f"/proc/{p.split('-')[1]}")}


@pytest.fixture(scope="module")
def uninterrupted(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "out"
    started = time.monotonic()
    process = grade(submissions, out)
    process.communicate(timeout=1200)
    assert process.returncode == 0
    return rows(out), gradebook(out), time.monotonic() - started


@pytest.mark.parametrize("how", ["SIGINT", "SIGINT twice", "SIGTERM", "SIGKILL"])
def test_a_stopped_run_ends_cleanly_and_a_rerun_gives_the_same_grades(how, submissions, uninterrupted, tmp_path):
    out = tmp_path / "out"
    before = stale_cgroups()
    process = grade(submissions, out)
    # a random point while the run is under way (a fraction of an uninterrupted run's time), the same every time
    time.sleep(random.Random(how).uniform(0.2, 0.6) * uninterrupted[2])
    stopped_at = time.monotonic()
    if how.startswith("SIGINT"):  # as a terminal sends it: to the whole process group
        os.killpg(process.pid, signal.SIGINT)
        if how == "SIGINT twice":  # the second stops at once
            time.sleep(0.5)
            os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(getattr(signal, how))
    stdout, stderr = process.communicate(timeout=120)
    seconds = time.monotonic() - stopped_at
    time.sleep(1)  # the kernel reaps what SIGKILL left a moment later
    assert sandboxes_of(out) == [], "a sandbox outlived the run"
    if how != "SIGKILL":
        assert process.returncode == 130, stderr[-2000:]
        assert seconds < (5 if how == "SIGINT twice" else 30), f"took {seconds:.0f} s to stop"
        assert "run the same command again" in stderr
        if how != "SIGINT twice":  # stopping at once leaves the cgroups to the next run
            assert stale_cgroups() <= before
    rerun = grade(submissions, out)
    rerun.communicate(timeout=1200)
    assert rerun.returncode == 0
    assert stale_cgroups() <= before, "a cgroup of the stopped run was not removed by the next one"
    expected_rows, expected_gradebook, _ = uninterrupted
    assert rows(out) == expected_rows
    assert gradebook(out) == expected_gradebook

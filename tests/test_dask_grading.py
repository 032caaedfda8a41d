"""Grading on a Dask cluster (`grade --dask`): a scheduler and two workers, each a process of its own on this
machine, grade a class exactly as one machine does (grades.csv, saved results, feedback, the gradebook), a rerun
reuses every grade, and a worker killed halfway loses and duplicates no grade."""
import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import course
from helpers import released, solution, with_answer

DASK = Path(sys.executable).with_name("dask")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (make test installs it)"),
              pytest.mark.skipif(importlib.util.find_spec("distributed") is None or not DASK.exists(),
                                 reason="needs dask and distributed in the environment (requirements.txt pins them)")]
STUDENTS = {"full", "stub", "leaky", "sigmoid", "syntax", "badjson", "exchange", "nothing"}
GRADE_LINE = re.compile(r"^([A-Za-z0-9_.@+-]+): [0-9.]+/[0-9.]+")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """A class of 8: correct, blank, two typical mistakes, a syntax error, a notebook cut off in its JSON, one
    that came through nbgrader's exchange (its time and secret beside it) and a folder without a notebook."""
    folder = tmp_path_factory.mktemp("class")
    notebooks = {
        "full": solution(), "stub": released(), "exchange": solution(),
        "leaky": with_answer(solution(), "leaky_relu",
                             "def leaky_relu(x, alpha=0.01):\n    return np.where(x >= 0, x, 0.01 * x)"),
        "sigmoid": with_answer(solution(), "sigmoid", "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))"),
        "syntax": with_answer(solution(), "sigmoid", "def sigmoid(x:\n    return x"),
    }
    for student_id, nb in notebooks.items():
        (folder / student_id).mkdir()
        nbformat.write(nb, str(folder / student_id / "activations.ipynb"))
    (folder / "exchange" / "timestamp.txt").write_text("2026-01-05 10:00:00.000000 UTC")
    (folder / "exchange" / "submission_secret.txt").write_text("5e" * 64)
    (folder / "badjson").mkdir()
    (folder / "badjson" / "activations.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')
    (folder / "nothing").mkdir()
    return folder


def environment() -> dict:
    """The course's environment, as a worker needs it: its bin/ on PATH, the repository importable."""
    return {**os.environ, "PATH": f"{DASK.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(course.REPO), "OMP_WAIT_POLICY": "PASSIVE"}


def stop(process: subprocess.Popen):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes (one single-threaded worker each, no nanny: a worker
    killed stays dead) on localhost, started from the repository root; all stopped at the end."""
    root = tmp_path_factory.mktemp("cluster")
    scheduler_file = root / "scheduler.json"
    started, logs = [], []

    def start(name, argv):
        logs.append(open(root / f"{name}.log", "w"))
        started.append(subprocess.Popen([DASK, *argv], cwd=course.REPO, env=environment(),
                                        stdout=subprocess.DEVNULL, stderr=logs[-1]))
        return started[-1]
    try:
        scheduler = start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file",
                                        scheduler_file, "--dashboard-address", "127.0.0.1:0"])
        deadline = time.monotonic() + 60
        while not (scheduler_file.exists() and "address" in scheduler_file.read_text()):
            assert time.monotonic() < deadline and scheduler.poll() is None, (root / "scheduler.log").read_text()
            time.sleep(0.2)
        workers = {}
        for name in ("w0", "w1"):
            workers[name] = start(name, ["worker", "--scheduler-file", scheduler_file, "--nworkers", "1",
                                         "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                                         "--dashboard-address", "127.0.0.1:0", "--name", name,
                                         "--local-directory", root / name])
        waited = subprocess.run([sys.executable, "-c", "import sys; from distributed import Client; "
                                 "client = Client(scheduler_file=sys.argv[1], timeout=60); "
                                 "client.wait_for_workers(2, timeout=120); client.close()", scheduler_file],
                                cwd=course.REPO, env=environment(), capture_output=True, text=True, timeout=300)
        assert waited.returncode == 0, waited.stderr[-3000:]
        yield {"scheduler_file": scheduler_file, "workers": workers, "root": root}
    finally:
        for process in reversed(started):
            stop(process)
        for log in logs:
            log.close()


def grade_command(submissions, out, *options) -> list:
    return [sys.executable, "-m", "autograder", "grade", "activations", str(submissions), "--out", str(out), *options]


def graded(submissions, out, *options) -> subprocess.CompletedProcess:
    return subprocess.run(grade_command(submissions, out, *options), cwd=course.REPO, env=environment(),
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def local(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    process = graded(submissions, out, "--workers", "1")
    assert process.returncode == 0, process.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def on_dask(submissions, cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("dask") / "out"
    process = graded(submissions, out, "--dask", str(cluster["scheduler_file"]))
    return process, out


def rows(out) -> list:
    with open(out / "grades.csv") as f:
        return list(csv.DictReader(f))


def results(out) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))}


def gradebook(out) -> list:
    """Every submission in the gradebook: its student, score, time, cell scores and answer cells' comments."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course.COURSE_ID) as gb:
        return sorted((s.student.id, s.score, str(s.timestamp),
                       tuple(sorted((g.name, g.score) for nb in s.notebooks for g in nb.grades)),
                       tuple(sorted((c.name, c.comment or "") for nb in s.notebooks for c in nb.comments)))
                      for s in gb.assignment_submissions("activations"))


def assert_graded_as_on_one_machine(out, local):
    assert rows(out) == rows(local)
    assert {row["student_id"] for row in rows(out)} == STUDENTS
    mine, expected = results(out), results(local)
    assert set(mine) == STUDENTS
    for student_id in STUDENTS:
        assert mine[student_id]["scores"] == expected[student_id]["scores"], student_id
        assert mine[student_id] == expected[student_id], student_id  # checks, messages, problems, fingerprint
    book = gradebook(out)
    assert [entry[0] for entry in book] == sorted(STUDENTS)  # each student exactly once
    assert book == gradebook(local)
    scores = {row["student_id"]: float(row["score"]) for row in rows(out)}
    assert {entry[0]: entry[1] for entry in book} == scores


def test_the_cluster_grades_a_class_exactly_as_one_machine(on_dask, local):
    process, out = on_dask
    assert process.returncode == 0, process.stderr[-3000:]
    assert_graded_as_on_one_machine(out, local)
    assert float({r["student_id"]: r for r in rows(out)}["full"]["score"]) == 25
    for student_id in STUDENTS:  # the same pages; nbgrader's copies where it keeps them
        page = Path("feedback", student_id, "activations.html")
        assert (out / page).read_text() == (local / page).read_text(), student_id
    for student_id in ("full", "exchange", "stub"):
        assert (out / "nbgrader" / "autograded" / student_id / "activations" / "activations.ipynb").is_file()
    released_page = out / "nbgrader" / "feedback" / "exchange" / "activations"
    assert sorted(p.name for p in released_page.iterdir()) == ["activations.html", "submission_secret.txt",
                                                              "timestamp.txt"]
    assert "2026-01-05 10:00:00" in dict((e[0], e[2]) for e in gradebook(out))["exchange"]


def test_a_rerun_on_the_cluster_reuses_every_grade(on_dask, cluster, local, submissions):
    _, out = on_dask
    rerun = graded(submissions, out, "--dask", str(cluster["scheduler_file"]))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    reused = [line for line in rerun.stdout.splitlines() if "(unchanged since the last run)" in line]
    assert sorted(GRADE_LINE.match(line).group(1) for line in reused) == sorted(STUDENTS)
    assert_graded_as_on_one_machine(out, local)


def processes_mentioning(folder: Path) -> list[int]:
    """Processes whose command line names a path inside `folder`: a worker's sandboxes name its grading
    folder, inside the worker's local directory (the worker itself names only that directory)."""
    found, needle = [], f"{folder}/".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if needle in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_a_worker_killed_halfway_loses_and_duplicates_no_grade(cluster, local, submissions, tmp_path):
    """Runs last in this file: it leaves the cluster one worker. The worker killed is one that runs a sandbox
    (it is grading a submission) when the first grade is reported, w0 if neither does."""
    out = tmp_path / "out"
    workers = cluster["workers"]
    assert all(worker.poll() is None for worker in workers.values())
    victim = None
    graded_lines = []
    with open(tmp_path / "stderr", "w") as stderr, \
            subprocess.Popen(grade_command(submissions, out, "--dask", str(cluster["scheduler_file"])),
                             cwd=course.REPO, env={**environment(), "PYTHONUNBUFFERED": "1"},
                             stdout=subprocess.PIPE, stderr=stderr, text=True) as process:
        try:
            for line in process.stdout:  # one line per grade (the progress bar is on stderr)
                match = GRADE_LINE.match(line)
                if match:
                    graded_lines.append(match.group(1))
                    if len(graded_lines) == 1:
                        busy = [name for name in workers if processes_mentioning(cluster["root"] / name)]
                        victim = (busy or ["w0"])[0]
                        workers[victim].send_signal(signal.SIGKILL)
            process.wait(600)
        finally:
            stop(process)
    assert victim is not None and workers[victim].wait(30) == -signal.SIGKILL
    assert process.returncode == 0, (tmp_path / "stderr").read_text()[-3000:]
    assert sorted(graded_lines) == sorted(STUDENTS)  # every submission graded, and reported, exactly once
    assert_graded_as_on_one_machine(out, local)
    time.sleep(1)
    assert processes_mentioning(cluster["root"] / victim) == [], "a sandbox outlived the worker that started it"

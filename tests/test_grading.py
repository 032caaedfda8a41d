"""The instructor's `grade` command, end to end, on a class with broken and wrong submissions."""
import csv
import os
import re
import subprocess
import sys

import nbformat
import pytest

from autograder import course
from helpers import released, solution, with_answer

pytestmark = pytest.mark.slow
MAX = 25


def write(folder, nb):
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / "activations.ipynb"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one class of varied submissions with the real command; return (process, out, csv rows)."""
    root = tmp_path_factory.mktemp("class")
    subs, out = root / "submissions", root / "out"
    write(subs / "full", solution())
    write(subs / "stub", released())
    write(subs / "syntax", with_answer(solution(), "sigmoid", "def sigmoid(x:\n    return x"))
    deleted = solution()
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_relu"]
    write(subs / "deleted", deleted)
    write(subs / "wrong", with_answer(solution(), "leaky_relu",
                                      "def leaky_relu(x, alpha=0.01):\n    return np.where(x >= 0, x, 0.01 * x)"))
    settings = solution()
    settings.cells.append(nbformat.v4.new_code_cell("import os\nprint('lab size:', os.environ.get('ACTLAB_SIZE'))"))
    write(subs / "settings", settings)
    (subs / "badjson").mkdir()
    (subs / "badjson" / "activations.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')
    (subs / "nothing").mkdir()
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", "activations", str(subs),
                              "--out", str(out), "--workers", "2"],
                             cwd=course.REPO, capture_output=True, text=True, timeout=600)
    with open(out / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return process, out, rows


def test_every_submission_gets_a_grade_and_the_run_exits_0(graded):
    process, out, rows = graded
    assert process.returncode == 0, process.stderr[-3000:]
    assert set(rows) == {"full", "stub", "syntax", "deleted", "wrong", "settings", "badjson", "nothing"}


def test_the_run_prints_no_log_of_nbgraders_own_that_an_instructor_cannot_act_on(graded):
    process, _, _ = graded
    noise = [line for line in process.stderr.splitlines() if re.search(r"\bINFO\b|Released assignments", line)]
    assert noise == []


def test_the_kernel_runs_labs_at_the_smoke_size_though_the_grader_does_not_set_it(graded):
    _, out, rows = graded
    autograded = nbformat.read(str(out / "nbgrader" / "autograded" / "settings" / "activations" / "activations.ipynb"),
                               as_version=4)
    printed = [o.get("text", "") for c in autograded.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "lab size: smoke\n" in printed and "ACTLAB_SIZE" not in os.environ and rows["settings"]["score"] == str(MAX)


def test_grades_csv_has_the_fixed_columns_then_one_per_test_cell(graded):
    _, out, rows = graded
    header = (out / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["student_id", "assignment", "score", "max_score"]
    assert header[4:] == [f"test_{name}" for name in ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "prelu",
                                                      "elu", "selu", "gelu", "silu", "swish", "softplus",
                                                      "softmax", "log_softmax"]]
    assert all(row["max_score"] == str(MAX) and row["assignment"] == "activations" for row in rows.values())


def test_scores_are_what_each_submission_earned(graded):
    _, _, rows = graded
    score = {sid: float(row["score"]) for sid, row in rows.items()}
    assert score["full"] == MAX and score["deleted"] == MAX
    assert score["stub"] == score["badjson"] == score["nothing"] == 0
    # a syntax error costs sigmoid and the functions built on it, nothing else
    syntax = rows["syntax"]
    assert float(syntax["test_sigmoid"]) == float(syntax["test_silu"]) == float(syntax["test_swish"]) == 0
    assert score["syntax"] == MAX - 2 - 1 - 2
    # ignoring alpha loses part of leaky_relu's point
    assert 0 < float(rows["wrong"]["test_leaky_relu"]) < 1 and score["wrong"] == MAX - 1 + float(rows["wrong"]["test_leaky_relu"])


def test_each_student_gets_a_logged_reason(graded):
    process, _, _ = graded
    lines = {line.split(":")[0]: line for line in process.stdout.splitlines() if ": " in line}
    assert "could not be read" in lines["badjson"] and "not valid notebook JSON" in lines["badjson"]
    assert "no activations.ipynb" in lines["nothing"]
    assert "SyntaxError" in lines["syntax"]
    assert "test_relu was missing" in lines["deleted"]
    assert "uses the keyword argument it is given" in lines["wrong"]
    assert lines["full"].strip() == f"full: {MAX}/{MAX}", "a correct submission has nothing to report"


def test_the_gradebook_holds_the_same_grades(graded):
    from nbgrader.api import Gradebook
    _, out, rows = graded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("activations")}
        assert not any(s.needs_manual_grade for s in gb.assignment_submissions("activations"))
    # nbgrader adds the cells' scores (2 decimals each) as floats: 24.689999999999998 for 24.69
    assert {sid: round(score, 2) for sid, score in scores.items()} == {sid: float(row["score"]) for sid, row in rows.items()}


def test_feedback_explains_failures_without_showing_hidden_checks(graded):
    _, out, rows = graded
    hidden = [p.read_text() for p in (course.CHECKS / "activations").glob("*.py")]
    for student in rows:
        page = (out / "feedback" / student / "activations.html").read_text()
        assert f"Score: {rows[student]['score']} / {MAX}" in page
        for forbidden in ["def test_", "assert_close", "checks/activations", "references", "torch", ".py"]:
            assert forbidden not in page, (student, forbidden)
        # no line of a hidden check's code appears in the page
        code_lines = {l.strip() for text in hidden for l in text.splitlines() if len(l.strip()) > 25}
        assert not [l for l in code_lines if l in page]
    wrong = (out / "feedback" / "wrong" / "activations.html").read_text()
    assert "leaky_relu with alpha=0.2" in wrong and "values are wrong" in wrong
    assert "not valid notebook JSON" in (out / "feedback" / "badjson" / "activations.html").read_text()


def grade_command(subs, out, *extra):
    return [sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out", str(out), *extra]


def test_a_rerun_reuses_unchanged_grades_and_a_regrade_gives_identical_results(graded):
    _, out, _ = graded
    subs = out.parent / "submissions"
    before = (out / "grades.csv").read_text()
    feedback_before = (out / "feedback" / "wrong" / "activations.html").read_text()
    rerun = subprocess.run(grade_command(subs, out), cwd=course.REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0
    assert rerun.stdout.count("(unchanged since the last run)") == 8
    assert f"8 of 8 submissions: 8 reused. Grades: {out / 'grades.csv'}" in rerun.stdout
    assert (out / "grades.csv").read_text() == before
    regrade = subprocess.run(grade_command(subs, out, "--regrade"), cwd=course.REPO, capture_output=True, text=True,
                             timeout=600)
    assert regrade.returncode == 0 and "unchanged" not in regrade.stdout
    assert (out / "grades.csv").read_text() == before
    assert (out / "feedback" / "wrong" / "activations.html").read_text() == feedback_before


def test_a_run_killed_halfway_resumes_without_losing_or_duplicating_a_grade(tmp_path):
    import signal
    import time
    from nbgrader.api import Gradebook
    subs, out = tmp_path / "submissions", tmp_path / "out"
    for i in range(4):
        write(subs / f"s{i}", solution() if i % 2 == 0 else released())
    process = subprocess.Popen(grade_command(subs, out), cwd=course.REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((out / "results").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p.stem for p in (out / "results").glob("*.json")}
    assert 1 <= len(done_before) < 4, "the run should have been killed halfway"
    resumed = subprocess.run(grade_command(subs, out), cwd=course.REPO, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0
    assert resumed.stdout.count("(unchanged since the last run)") == len(done_before)
    with open(out / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores == {"s0": MAX, "s1": 0, "s2": MAX, "s3": 0}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submissions = gb.assignment_submissions("activations")
        assert sorted(s.student.id for s in submissions) == ["s0", "s1", "s2", "s3"]
        assert {s.student.id: s.score for s in submissions} == scores


def test_without_bubblewrap_the_grader_refuses_unless_told_it_is_unsafe(tmp_path):
    subs = tmp_path / "submissions"
    write(subs / "alice", solution())
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}  # no bwrap, no prlimit to be found
    refused = subprocess.run(grade_command(subs, tmp_path / "out"), cwd=course.REPO, capture_output=True, text=True,
                             env=env, timeout=300)
    assert refused.returncode != 0
    assert "refusing to grade" in refused.stderr and "--unsafe-no-sandbox" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    unsafe = subprocess.run(grade_command(subs, tmp_path / "out2", "--unsafe-no-sandbox"), cwd=course.REPO,
                            capture_output=True, text=True, timeout=300)
    assert unsafe.returncode == 0 and "WITHOUT a sandbox" in unsafe.stderr
    assert "alice,activations,25,25" in (tmp_path / "out2" / "grades.csv").read_text()


def test_a_grade_that_cannot_be_written_makes_the_run_fail(tmp_path):
    """The run goes on with the others, but says which grade was lost and exits 1."""
    write(tmp_path / "subs" / "kept", solution())
    write(tmp_path / "subs" / "lost", solution())
    # the gradebook refuses one student's grade (a full disk, a database gone away)
    failing = ("import sys\nfrom autograder import nbgrader_run, __main__ as cli\n"
               "record = nbgrader_run.GradingRun.record\n"
               "def failing(self, g):\n    if g.student_id == 'lost':\n        raise OSError('disk full')\n"
               "    return record(self, g)\nnbgrader_run.GradingRun.record = failing\nsys.exit(cli.main(sys.argv[1:]))")
    process = subprocess.run([sys.executable, "-c", failing, "grade", "activations", str(tmp_path / "subs"),
                              "--out", str(tmp_path / "out")], cwd=course.REPO, capture_output=True, text=True,
                             timeout=600)
    assert process.returncode == 1
    assert "lost's grade could not be written to the gradebook" in process.stderr
    assert "kept,activations,25,25" in (tmp_path / "out" / "grades.csv").read_text()
    assert not (tmp_path / "out" / "results" / "lost.json").exists()  # a rerun grades it again


def test_a_class_graded_while_every_core_is_busy_has_no_execution_failure(tmp_path):
    """nbclient's wait for a cell's output follows the cell timeout, not its 4-second default."""
    for i in range(4):
        write(tmp_path / "subs" / f"s{i}", solution())
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 * os.cpu_count())]
    try:
        process = subprocess.run([sys.executable, "-m", "autograder", "grade", "activations", str(tmp_path / "subs"),
                                  "--out", str(tmp_path / "out"), "--workers", "2"], cwd=course.REPO,
                                 capture_output=True, text=True, timeout=900)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert process.returncode == 0, process.stderr[-3000:]
    assert "could not execute" not in process.stdout + process.stderr
    assert (tmp_path / "out" / "grades.csv").read_text().count(",activations,25,25,") == 4

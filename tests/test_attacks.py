"""The attack corpus: hostile submissions, graded in one run beside honest ones.

Every cheat scores no point it did not earn, every honest submission in the same run is graded
exactly, the gradebook holds exactly the grades it should, nothing a student started outlives the
run, and no feedback page shows hidden test code, check paths or expected values.
"""
import csv
import json
import os
import socket
import subprocess
import sys
import threading

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import course
from helpers import released, solution

pytestmark = pytest.mark.slow
MAX = 25
CHECK_FILE = course.CHECKS / "activations" / "test_elementwise.py"


def add_cell(nb, source, grade_id=None, at=None):
    cell = new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
                                     "solution": True, "task": False}
    nb.cells.insert(len(nb.cells) if at is None else at, cell)
    return nb


def replace_tests(nb, source):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cell.source = source
    return nb


def drop_tests(nb):
    nb.cells = [c for c in nb.cells if not (c.metadata.get("nbgrader", {}).get("grade")
                                            and not c.metadata.get("nbgrader", {}).get("solution"))]
    return nb


def duplicate_test_cells(nb):
    extra = [new_code_cell("pass", metadata=json.loads(json.dumps(c.metadata))) for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade")]
    nb.cells += extra
    return nb


# name -> (notebook factory, the most it may score). `ctx` holds the run's paths and a listening port.
ATTACKS = {
    "allclose_patch": (lambda ctx: add_cell(released(), "import numpy, numpy.testing\nnumpy.allclose = lambda *a, **k: True\n"
                                            "numpy.testing.assert_allclose = lambda *a, **k: None", at=2), 0),
    "input_transformer": (lambda ctx: add_cell(released(), "get_ipython().input_transformers_cleanup.append("
                                               "lambda lines: ['pass\\n'])", at=2), 0),
    "fake_checks_module": (lambda ctx: add_cell(released(), "import sys, types\nfor name in ['autograder', "
                                                "'autograder.checking', 'autograder.checks', 'pytest']:\n"
                                                "    sys.modules[name] = types.ModuleType(name)", at=2), 0),
    "edited_tests": (lambda ctx: replace_tests(released(), "pass"), 0),
    "deleted_tests": (lambda ctx: drop_tests(released()), 0),
    "duplicated_grade_ids": (lambda ctx: duplicate_test_cells(released()), 0),
    "os_exit": (lambda ctx: add_cell(solution(), "import os\nos._exit(0)"), MAX),
    "hanging_function": (lambda ctx: add_cell(solution(), "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                              "def sigmoid(x):\n    while True:\n        pass"), MAX - 2 - 1 - 2),
    "hanging_top_level": (lambda ctx: add_cell(released(), "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                               "while True:\n    pass"), 0),
    "fork_bomb": (lambda ctx: add_cell(solution(), "import os\ntry:\n    while True:\n        os.fork()\n"
                                       "except OSError:\n    pass"), MAX),
    "memory_bomb": (lambda ctx: add_cell(solution(), "hog = bytearray(64 * 2**30)"), MAX),
    "write_gradebook": (lambda ctx: add_cell(released(), f"for path in [{str(ctx['out'] / 'gradebook.db')!r}, "
                                             f"{str(ctx['subs'] / 'honest' / 'activations.ipynb')!r}, "
                                             f"{str(ctx['out'] / 'grades.csv')!r}]:\n"
                                             "    try:\n        open(path, 'w').write('owned')\n"
                                             "    except OSError:\n        pass"), 0),
    "read_checks": (lambda ctx: add_cell(released(), f"source = open({str(CHECK_FILE)!r}).read()\n"
                                         "print(source)"), 0),
    "network": (lambda ctx: add_cell(released(), f"import socket\nsocket.create_connection(('127.0.0.1', {ctx['port']}), "
                                     "timeout=2).sendall(b'leak')"), 0),
    "huge_output": (lambda ctx: add_cell(solution(), "print('x' * 100_000_000)"), MAX),
    "recursion_bomb": (lambda ctx: add_cell(released(), "import sys\nsys.setrecursionlimit(10**7)\n"
                                            "def down(n):\n    return down(n + 1)\ndown(0)"), 0),
    "threads_left_running": (lambda ctx: add_cell(solution(), "import threading, time\n"
                                                  "def spin():\n    while True:\n        time.sleep(0.01)\n"
                                                  "for _ in range(8):\n    threading.Thread(target=spin, daemon=False).start()"), MAX),
    "fake_all_passed": (lambda ctx: add_cell(released(), "print('All tests passed! Score: 25/25')\n"
                                             "print('{\"id\": 1, \"ok\": true, \"value\": 1.0}')"), 0),
}
HONEST = {"honest": (lambda ctx: solution(), MAX), "blank": (lambda ctx: released(), 0)}


def student_processes(marker):
    """Processes whose command line mentions the run's folder (kernels, workers, their children)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    subs, out = root / "submissions", root / "out"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    connections = []

    def accept():
        while listener.fileno() != -1:
            try:
                connections.append(listener.accept())
            except OSError:
                pass
    threading.Thread(target=accept, daemon=True).start()
    ctx = {"out": out, "subs": subs, "port": listener.getsockname()[1]}
    for student, (make, _) in {**ATTACKS, **HONEST}.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(make(ctx), str(subs / student / "activations.ipynb"))
    # files planted beside a notebook must not be picked up
    for name, text in [("numpy.py", "allclose = lambda *a, **k: True\n"), ("sitecustomize.py", "import os\n"),
                       ("evil.pth", "import os; os.environ['HACKED'] = '1'\n")]:
        (subs / "edited_tests" / name).write_text(text)
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out", str(out),
                              "--workers", "2", "--cell-timeout", "8", "--call-timeout", "3"],
                             cwd=course.REPO, capture_output=True, text=True, timeout=1200)
    leftovers = student_processes(str(out))
    listener.close()
    with open(out / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return process, out, rows, leftovers, connections


def test_the_run_finishes_and_grades_everyone(attacked):
    process, _, rows, _, _ = attacked
    assert process.returncode == 0, process.stderr[-3000:]
    assert set(rows) == set(ATTACKS) | set(HONEST)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_a_cheat_scores_no_point_it_did_not_earn(attacked, student):
    _, _, rows, _, _ = attacked
    assert float(rows[student]["score"]) <= ATTACKS[student][1]


def test_honest_submissions_in_the_same_run_are_graded_exactly(attacked):
    _, _, rows, _, _ = attacked
    assert float(rows["honest"]["score"]) == MAX and float(rows["blank"]["score"]) == 0
    # attacks that leave the answers intact keep the points of the answers they did not break
    for student in ["os_exit", "memory_bomb", "huge_output", "threads_left_running"]:
        assert float(rows[student]["score"]) > 0, student


def test_the_gradebook_holds_exactly_the_grades_of_the_run(attacked):
    from nbgrader.api import Gradebook
    _, out, rows, _, _ = attacked
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("activations")}
    assert scores == {sid: float(row["score"]) for sid, row in rows.items()}


def test_no_student_process_outlives_the_run(attacked):
    _, _, _, leftovers, _ = attacked
    assert leftovers == []


def test_no_submission_reached_the_network_or_wrote_outside_its_folder(attacked):
    _, out, _, _, connections = attacked
    assert connections == []
    assert "owned" not in (out / "grades.csv").read_text()
    honest = (out.parent / "submissions" / "honest" / "activations.ipynb").read_text()
    assert honest.startswith("{")
    assert CHECK_FILE.read_text().startswith('"""')


def test_no_feedback_shows_hidden_checks_paths_or_expected_values(attacked):
    _, out, rows, _, _ = attacked
    hidden = "\n".join(p.read_text() for p in (course.CHECKS / "activations").glob("*.py"))
    code_lines = {line.strip() for line in hidden.splitlines() if len(line.strip()) > 30}
    for student in rows:
        page = (out / "feedback" / student / "activations.html").read_text()
        for forbidden in ["def test_", "assert_close", "autograder/checks", "test_elementwise", "references.py",
                          str(course.REPO)]:
            assert forbidden not in page, (student, forbidden)
        assert not [line for line in code_lines if line in page], student

"""The attack corpus: hostile submissions, graded in one run beside honest ones.

Every cheat scores no point it did not earn, every honest submission in the same run is graded
exactly, the gradebook holds exactly the grades it should, nothing a student started outlives the
run, and no feedback page shows hidden test code, check paths or expected values.
"""
import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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

# The second corpus: the grader's own files, its waits and its console. Each runs in the kernel and in the
# worker alike; `WORKER` is true in the worker, whose reply pipe is the number in sys.argv[2].
WHERE = "import os, sys, time\nWORKER = sys.argv[0].endswith('worker.py')\n"


def plant_links(ctx):
    """Every folder the code can write to, its files replaced by links (symbolic and hard) to the grader's."""
    targets = [str(ctx["out"] / "gradebook.db"), str(ctx["out"] / "grades.csv"), str(ctx["subs"] / "honest" / "activations.ipynb")]
    return WHERE + f"""
folders = {{os.getcwd(), os.path.expanduser('~'), '/tmp', '/dev/shm'}}
folders |= {{os.path.dirname(a) for a in sys.argv if a.endswith('.json')}}
for folder in folders:
    for name in os.listdir(folder) + ['activations.ipynb', 'kernel.json', 'kernel.log']:
        path = os.path.join(folder, name)
        for target in {targets!r}:
            for make in (os.symlink, os.link):
                try:
                    if os.path.lexists(path):
                        os.remove(path)
                    make(target, path)
                except OSError:
                    pass
"""


KEEP_ALIVE = WHERE + ("if WORKER:\n    while True:\n        os.write(int(sys.argv[2]), b'{\"running\": \"1\"}\\n')\n"
                      "        time.sleep(0.1)")
NESTED_REPLY = WHERE + "if WORKER:\n    os.write(int(sys.argv[2]), b'[' * 10**6 + b'\\n')\n    time.sleep(30)"
FILL_MEMORY_FILES = WHERE + ("for folder in ['/tmp', '/dev/shm', os.getcwd()]:\n    for i in range(80):\n        try:\n"
                             "            with open(f'{folder}/fill{i}', 'wb') as f:\n"
                             "                f.write(b'x' * 64 * 2**20)\n        except OSError:\n            break")
FILL_DISK = WHERE + ("folders = {os.path.dirname(a) for a in sys.argv if a.endswith('.json')} | {os.getcwd()}\n"
                     "for folder in folders:\n    for i in range(40):\n        try:\n"
                     "            with open(f'{folder}/disk{i}', 'wb') as f:\n"
                     "                f.write(b'x' * 32 * 2**20)\n        except OSError:\n            break")
FORGED_LINES = ("raise ValueError('oops\\nbystander: 0/25 | forged\\r\\x1b[2K\\x1b[1Abystander: 0/25\\x1b]0;owned\\x07')")
FORGED_REPORTS = ("import sys, __main__\n"
                  "for module in list(sys.modules.values()) + [__main__]:\n"
                  "    if hasattr(module, 'serve_call'):\n"
                  "        original = module.serve_call\n"
                  "        def serve_call(namespace, request, kept, original=original):\n"
                  "            reply = original(namespace, request, kept)\n"
                  "            reply['args_after'] = [None for _ in reply.get('args_after', [])]\n"
                  "            return reply\n"
                  "        module.serve_call = serve_call\n"
                  "def relu(x):\n    np.maximum(x, 0, out=x)\n    return x.copy()\n")
ATTACKS.update({
    "planted_links": (lambda ctx: add_cell(solution(), plant_links(ctx)), MAX),
    "keep_alive_start_up": (lambda ctx: add_cell(released(), KEEP_ALIVE, at=2), 0),
    "nested_reply": (lambda ctx: add_cell(released(), NESTED_REPLY, at=2), 0),
    "fills_its_memory_folders": (lambda ctx: add_cell(solution(), FILL_MEMORY_FILES), MAX),
    "fills_the_disk": (lambda ctx: add_cell(solution(), FILL_DISK), MAX),
    "forged_console_lines": (lambda ctx: add_cell(solution(), FORGED_LINES), MAX),
    # relu mutates its input; the worker's serving code is patched to hide it (it cannot be reached)
    "forged_worker_reports": (lambda ctx: add_cell(solution(), FORGED_REPORTS), MAX - 0.1),
})
LONG_ID = "firstname.middlename.lastname-department@students.some-university.example.ac.uk"  # 80 characters
HONEST = {"honest": (lambda ctx: solution(), MAX), "blank": (lambda ctx: released(), 0),
          "bystander": (lambda ctx: solution(), MAX), LONG_ID: (lambda ctx: solution(), MAX)}


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
    subs, out = root / "submissions", root / "a" / "much" / "deeper" / "output" / "folder" / "than" / "usual"
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
    # the run's own temporary folder: kernels' socket folders go there, apart from other runs on the machine
    scratch = Path(tempfile.mkdtemp(prefix="attacks-", dir="/tmp"))
    started = time.monotonic()
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out", str(out),
                              "--workers", "2", "--cell-timeout", "8", "--call-timeout", "3"],
                             cwd=course.REPO, capture_output=True, text=True, timeout=1500,
                             env={**os.environ, "TMPDIR": str(scratch)})
    ctx["seconds"] = time.monotonic() - started
    ctx["socket_folders_left"] = set(glob.glob(f"{scratch}/ag-*"))
    shutil.rmtree(scratch, ignore_errors=True)
    leftovers = student_processes(str(out))
    listener.close()
    with open(out / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    process.ctx = ctx
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
    for student in ["os_exit", "memory_bomb", "huge_output", "threads_left_running", "planted_links",
                    "fills_its_memory_folders", "fills_the_disk", "forged_console_lines"]:
        assert float(rows[student]["score"]) > 0, student


def test_the_gradebook_holds_exactly_the_grades_of_the_run(attacked):
    from nbgrader.api import Gradebook
    _, out, rows, _, _ = attacked
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course.COURSE_ID) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("activations")}
    assert scores == {sid: float(row["score"]) for sid, row in rows.items()}


def test_no_student_process_outlives_the_run(attacked):
    _, _, _, leftovers, _ = attacked
    assert leftovers == []


def test_no_submission_reached_the_network_or_wrote_outside_its_folder(attacked):
    process, out, _, _, connections = attacked
    assert connections == []
    assert "owned" not in (out / "grades.csv").read_text()
    honest = (process.ctx["subs"] / "honest" / "activations.ipynb").read_text()
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


def test_the_run_ends_in_bounded_time_and_leaves_nothing_behind(attacked):
    """Every wait has a deadline: keep-alive start-ups and nested replies included, 33 submissions end well
    inside the limit; nothing a submission wrote stays, in the output folder or in /tmp."""
    process, out, _, _, _ = attacked
    assert process.ctx["seconds"] < 1200
    assert process.ctx["socket_folders_left"] == set()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert size < 50 * 2**20, f"{size / 2**20:.0f} MiB left in the output folder"


def test_planted_links_changed_none_of_the_graders_files(attacked):
    _, out, rows, _, _ = attacked
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course.COURSE_ID) as gb:
        assert gb.find_submission("activations", "honest").score == MAX
    assert not (out / "gradebook.db").is_symlink() and os.access(out / "gradebook.db", os.W_OK)
    assert float(rows["planted_links"]["score"]) == MAX


def test_a_students_text_cannot_forge_a_line_of_the_console(attacked):
    process, _, _, _, _ = attacked
    console = process.stdout + process.stderr
    assert [line for line in console.splitlines() if line.lstrip().startswith("bystander: 0")] == [], "a forged line"
    assert "\x1b[2K" not in console and "\x1b]0;" not in console


def test_a_forged_worker_report_does_not_hide_a_mutated_input(attacked):
    _, out, rows, _, _ = attacked
    assert float(rows["forged_worker_reports"]["score"]) < MAX
    assert "changed its input array in place" in (out / "feedback" / "forged_worker_reports" / "activations.html").read_text()

"""A student with nothing but the course kit: installs it, fills the notebooks, checks them.

What the kit's README tells a student to do, done here: a fresh virtual environment, the kit's wheel
installed with `pip install "<wheel>[lab]"` (with requirements.txt as constraints, so that the CPU wheel
of PyTorch is the one installed), and a working folder that holds
only the kit's notebooks, filled with the reference answers of solutions/. Every notebook is run by
the documented self-check, `python -m actlab.check`, with the fresh environment's Python: no
repository on sys.path, no user-level Jupyter settings (a temporary HOME). The labs run at the size the
grader uses (`--quick`, ACTLAB_SIZE=smoke).

Installing PyTorch and JupyterLab takes minutes, so the environment is made once per set of inputs (the
wheel's dependencies, requirements.txt, this Python) and kept outside the repository, in
~/.cache/activation-functions/student-env-<digest>/; each run installs the kit's freshly built wheel into it
again. A change of any input makes a new one from scratch.
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import course, kit
from helpers import filled, released, with_answer

pytestmark = pytest.mark.slow
NUMPY_ASSIGNMENTS = ["neuron", "activations", "derivatives", "backprop"]
LABS = [a for a in course.assignments() if a.startswith("lab_")]


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """(the unzipped kit, the fresh environment's python, an empty working folder, its environment)."""
    root = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(kit.build_kit(root / "kit.zip", book=None)) as archive:
        archive.extractall(root)
    unpacked = root / kit.KIT
    (wheel,) = unpacked.glob("actlab-*.whl")
    venv = student_environment()
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
                              str(wheel)], capture_output=True, text=True, timeout=600, cwd=root)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    work, home = root / "work", root / "home"
    work.mkdir()
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "HOME": str(home), "LANG": "C.UTF-8",
           "OMP_WAIT_POLICY": "PASSIVE", "CUDA_VISIBLE_DEVICES": ""}
    return unpacked, python, work, env


def student_environment() -> Path:
    """A virtual environment in which the README's command installed the kit's wheel, made once per set of
    inputs. It is made where it is used (a venv's scripts name its path); `complete` marks a finished one.
    A lock keeps two test runs (or processes) from making, or removing, it at the same time."""
    digest = hashlib.sha256(sys.version.encode())
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((course.REPO / name).read_bytes())
    # outside the repository, which a student's environment must not see
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "activation-functions"
    home.mkdir(parents=True, exist_ok=True)
    venv = home / f"student-env-{digest.hexdigest()[:16]}"
    with open(home / "student-env.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / "complete").exists():
            return venv
        for old in home.glob("student-env-*"):  # made for other inputs, or an attempt that did not finish
            shutil.rmtree(old, ignore_errors=True)
        with tempfile.TemporaryDirectory() as wheel_folder:
            wheel = kit.build_wheel(Path(wheel_folder))
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                      f"{wheel}[lab]", "-c", str(course.REPO / "requirements.txt")],
                                     capture_output=True, text=True, timeout=900, cwd=wheel_folder)
        assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
        (venv / "complete").touch()
        return venv


def run(student, *argv, timeout=600):
    _, python, work, env = student
    return subprocess.run([str(python), *argv], capture_output=True, text=True, timeout=timeout, cwd=work, env=env)


def place(student, assignment, nb) -> Path:
    """Write `nb` into the working folder as the kit lays it out: exercises/<id>/<id>.ipynb."""
    path = student[2] / "exercises" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def own_environment_cell(venv: Path):
    """A last cell that fails unless the kernel runs the fresh environment's Python, and imports actlab
    from it rather than from the repository."""
    return new_code_cell(f"""import importlib.util, sys
assert sys.prefix == {str(venv)!r}, sys.prefix
assert not [p for p in sys.path if p.startswith({str(course.REPO)!r})], sys.path
spec = importlib.util.find_spec("actlab")
assert spec is not None and spec.origin.startswith({str(venv)!r}), spec""")


def test_the_kit_holds_the_wheel_the_notebooks_and_a_readme_naming_the_one_install_command(student):
    unpacked = student[0]
    (wheel,) = unpacked.glob("actlab-*.whl")
    readme = (unpacked / "README.md").read_text()
    assert f'pip install "{wheel.name}[lab]"' in readme and "python -m actlab.check" in readme
    assert f'pip install "{wheel.name}[lab]"' in (course.REPO / "book" / "exercises.md").read_text()
    for assignment in course.assignments():
        shipped = unpacked / "exercises" / assignment / f"{assignment}.ipynb"
        assert shipped.read_bytes() == (course.EXERCISES / assignment / f"{assignment}.ipynb").read_bytes()


def test_the_installed_library_is_the_wheels_and_the_repository_is_out_of_reach(student):
    _, python, _, _ = student
    probe = run(student, "-c", "import sys, actlab, autograder", timeout=120)
    assert "No module named 'autograder'" in probe.stderr
    where = run(student, "-c", "import actlab, sys; print(actlab.__file__); print(sys.path)", timeout=120)
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(python.parent.parent)) and str(course.REPO) not in where.stdout


@pytest.mark.parametrize("assignment", NUMPY_ASSIGNMENTS + LABS)
def test_the_notebook_filled_with_the_reference_answers_passes_the_self_check(student, assignment):
    nb = filled(assignment)
    nb.cells.append(own_environment_cell(student[1].parent.parent))
    path = place(student, assignment, nb)
    quick = ["--quick"] if assignment.startswith("lab_") else []
    check = run(student, "-m", "actlab.check", *quick, str(path.relative_to(student[2])))
    assert check.returncode == 0 and "PASSED" in check.stdout, check.stdout + check.stderr


def test_the_self_check_fails_a_wrong_answer_and_names_its_test_cell(student):
    wrong = with_answer(filled("neuron"), "step", "def step(z):\n    return (np.asarray(z) > 0).astype(float)\n")
    path = place(student, "neuron", wrong)
    check = run(student, "-m", "actlab.check", str(path))
    assert check.returncode == 1, check.stdout + check.stderr
    assert "FAILED" in check.stdout and "test_step" in check.stdout and "AssertionError" in check.stdout
    assert "test_weighted_sum" not in check.stdout  # the cells that pass are not blamed


def test_the_self_check_fails_a_notebook_not_yet_answered(student):
    path = place(student, "activations", released("activations"))
    check = run(student, "-m", "actlab.check", str(path))
    assert check.returncode == 1 and "not answered yet" in check.stdout, check.stdout + check.stderr

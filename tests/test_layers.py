"""The test suite's layers: every test file is in exactly one, and a bare `pytest` at the root collects the
project's tests only, never the grader's hidden checks."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import LAYERS

TESTS = Path(__file__).resolve().parent


def test_every_test_file_is_in_exactly_one_layer():
    listed = [name for names in LAYERS.values() for name in names]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(p.name for p in TESTS.glob("test_*.py"))


def test_a_bare_pytest_at_the_root_collects_the_projects_tests_only(tmp_path):
    """The root's pytest.ini in a copy of the repository's layout (its hidden checks, a solution notebook's
    folder, one project test): a bare `pytest` collects the project test alone."""
    root = TESTS.parent
    shutil.copy(root / "pytest.ini", tmp_path)
    shutil.copytree(root / "autograder" / "checks", tmp_path / "autograder" / "checks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_project.py").write_text("def test_project():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}  # as typed, not as this run was
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    assert ids == ["tests/test_project.py::test_project"], out.stdout[-2000:] + out.stderr[-2000:]

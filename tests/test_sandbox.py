"""The sandbox around student code: the shared library is visible, nothing else of the course is."""
import shutil

import pytest

from autograder import course
from autograder.proxy import StudentCode
from autograder.sandbox import Sandbox

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (make test installs it)")

PROBE = '''
import os
def can_import_actlab():
    import actlab.plots
    return True
def sees(path):
    return os.path.exists(path)
def can_write(path):
    try:
        open(path, "w").close()
        return True
    except OSError:
        return False
'''


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("scratch")
    with StudentCode([("1", PROBE)], sandbox=Sandbox(), scratch=scratch) as code:
        yield code, scratch


def test_student_code_can_import_the_shared_library(sandboxed):
    code, _ = sandboxed
    assert code.can_import_actlab() is True


def test_student_code_sees_no_hidden_check_and_no_solution(sandboxed):
    code, _ = sandboxed
    assert code.sees(str(course.CHECKS / "activations")) is False
    assert code.sees(str(course.SOLUTIONS)) is False
    assert code.sees(str(course.REPO / "actlab" / "plots.py")) is True


def test_student_code_writes_only_to_its_scratch_folder(sandboxed):
    code, scratch = sandboxed
    assert code.can_write(str(scratch / "mine.txt")) is True
    assert code.can_write(str(course.REPO / "actlab" / "evil.py")) is False

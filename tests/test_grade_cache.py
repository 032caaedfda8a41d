"""Reusing a grade: an earlier run's grade stands while the submission, the assignment's source and checks,
the shared check files, the grading code and the student library are unchanged, and only then.

Each test changes a copy of the repository, never the real files."""
import json
import shutil

import pytest

from autograder import course, notebook
from autograder.cache import GRADING_CODE, grader_fingerprint, save_grade, saved_grade
from autograder.results import StudentGrade
from autograder.runner import CheckResult
from autograder.scoring import cell_scores

ASSIGNMENT = "activations"
# Modules of autograder/ that do not take part in grading, and why a change to them keeps every grade.
NOT_GRADING = {
    "__init__.py": "the package's docstring, and a module its processes leave unimported",
    "fork_server.py": "the grading pool's fork server dies with the grader",
    "__main__.py": "the command line",
    "bench.py": "timing against plain nbgrader",
    "feedback.py": "the page's wording and style; pages are written anew on every run",
    "grade.py": "the run over a folder",
    "grades_csv.py": "grades.csv, written anew on every run",
    "kit.py": "the students' course kit",
    "profile_grading.py": "timing each step of grading",
    "release.py": "releasing exercises",
    "report.py": "the class report, written anew on every run",
}


@pytest.fixture
def repo(tmp_path):
    """A copy of what a fingerprint may read: the grader, its checks, the student library, the source and README."""
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(course.REPO / "autograder", tmp_path / "autograder", ignore=skip)
    shutil.copytree(course.REPO / "actlab", tmp_path / "actlab", ignore=skip)
    shutil.copytree(course.SOLUTIONS / ASSIGNMENT, tmp_path / "solutions" / ASSIGNMENT)
    shutil.copy(course.REPO / "README.md", tmp_path / "README.md")
    return tmp_path


def edit(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write("\n# edited\n")


@pytest.mark.parametrize("changed", ["autograder/feedback.py", "autograder/kit.py", "autograder/grade.py",
                                     "README.md", "autograder/checks/derivatives/references.py",
                                     "autograder/checks/lab_speed/new_check_file.txt",
                                     f"autograder/checks/{ASSIGNMENT}/__pycache__/references.cpython-311.pyc"])
def test_a_change_that_cannot_change_a_grade_keeps_the_fingerprint(repo, changed):
    before = grader_fingerprint(ASSIGNMENT, repo)
    edit(repo / changed)
    assert grader_fingerprint(ASSIGNMENT, repo) == before


@pytest.mark.parametrize("changed", [f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                                     f"autograder/checks/{ASSIGNMENT}/references.py",
                                     f"autograder/checks/{ASSIGNMENT}/test_softmax.py",
                                     f"autograder/checks/{ASSIGNMENT}/data/new_case.json",
                                     "autograder/checks/conftest.py", "autograder/checks/pytest.ini",
                                     "autograder/checks/shared_references.py", "actlab/device.py",
                                     *(f"autograder/{module}" for module in GRADING_CODE)])
def test_a_change_that_can_change_a_grade_changes_the_fingerprint(repo, changed):
    before = grader_fingerprint(ASSIGNMENT, repo)
    edit(repo / changed)
    assert grader_fingerprint(ASSIGNMENT, repo) != before


def test_a_grading_module_that_disappears_changes_the_fingerprint(repo):
    before = grader_fingerprint(ASSIGNMENT, repo)
    (repo / "autograder" / "proxy.py").unlink()
    assert grader_fingerprint(ASSIGNMENT, repo) != before


def test_every_module_of_the_grader_is_declared_grading_code_or_not():
    """A new module must say whether its change regrades: in cache.GRADING_CODE, or here with the reason."""
    package = course.REPO / "autograder"
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py")
               if "checks" not in p.relative_to(package).parts and "__pycache__" not in p.parts}
    assert modules - set(GRADING_CODE) - set(NOT_GRADING) == set()
    assert set(GRADING_CODE) <= modules, "a module named in GRADING_CODE does not exist"
    assert not set(GRADING_CODE) & set(NOT_GRADING)


def test_a_result_saved_before_checks_had_weights_loads_with_weight_1(tmp_path):
    cells = [notebook.TestCell("test_relu", 2.0, "relu")]
    grade = StudentGrade("alice", ASSIGNMENT, cells, scores={"test_relu": 1.0},
                         checks=[CheckResult("t::a", "test_relu", True, "a", ""),
                                 CheckResult("t::b", "test_relu", False, "b", "wrong")])
    result = tmp_path / "alice.json"
    save_grade(result, grade, "grader", "submission")
    data = json.loads(result.read_text())
    for check in data["checks"]:
        del check["weight"]
    result.write_text(json.dumps(data))
    reused = saved_grade(result, "grader", "submission")
    assert reused.reused and [c.weight for c in reused.checks] == [1.0, 1.0]
    assert saved_grade(result, "another grader", "submission") is None
    assert saved_grade(result, "grader", "another submission") is None


def test_a_cells_score_is_its_points_times_the_passed_checks_share_of_the_weight():
    cells = [notebook.TestCell("test_relu", 3.0, "relu"), notebook.TestCell("test_elu", 2.0, "elu")]
    checks = [CheckResult("plain", "test_relu", True, "plain", "", weight=2.0),
              *(CheckResult(f"case[{i}]", "test_relu", i == 0, "case", "", weight=1 / 3) for i in range(3))]
    # passed: 2 + 1/3 of a total weight of 3; test_elu has no check that ran
    assert cell_scores(cells, checks) == {"test_relu": round(3.0 * (2 + 1 / 3) / 3, 2), "test_elu": 0.0}

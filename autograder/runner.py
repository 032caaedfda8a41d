"""Run an assignment's hidden checks against one submission's code, in this (trusted) process."""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import pytest

from . import course, misconceptions
from .checking import CheckFailure
from .proxy import StudentCallError

STUDENT_KEY = pytest.StashKey()


@dataclass
class CheckResult:
    nodeid: str
    cell: str
    passed: bool
    title: str     # the check's docstring: what it tests, in words for students
    message: str   # why it failed, safe to show a student ("" when passed)
    weight: float = 1.0  # its share of the cell's points, relative to the cell's other checks
    misconception: str = ""  # the key of the assignment's misconception that explains the failure, if one does
    hint: str = ""           # that misconception in a student's words: what it means and the fix
    section: str = ""        # where the book explains it: a link


def check_title(item) -> str:
    """What a check tests, in words for students: its docstring's first line, and for a case of a parametrized
    check the values it tries, so that no two checks of a cell share a title."""
    title = (item.function.__doc__ or item.name).strip().splitlines()[0]
    callspec = getattr(item, "callspec", None)
    return f"{title} ({callspec.id})" if callspec is not None else title


def check_weight(item) -> float:
    """A check's declared share, `@pytest.mark.cell(grade_id, weight=w)` (1 when not given), split evenly among
    the cases of a parametrized check that back the same cell: adding a case never re-weighs the other checks."""
    weight = item.get_closest_marker("cell").kwargs.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
        raise ValueError(f"{item.nodeid} declares the weight {weight!r}; a weight is a positive number")
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return weight
    cell = item.get_closest_marker("cell").args[0]
    cases = [other for other in item.session.items
             if getattr(other, "originalname", None) == item.originalname and other.parent is item.parent
             and (mark := other.get_closest_marker("cell")) is not None and mark.args[0] == cell]
    return weight / max(1, len(cases))


def student_message(excinfo) -> str:
    """Only messages written for students are shown; any other failure is described by the title."""
    if excinfo is not None and isinstance(excinfo.value, (CheckFailure, StudentCallError)):
        return str(excinfo.value)
    return ""


class _Collector:
    def __init__(self, assignment):
        self.assignment = assignment
        self.results: list[CheckResult] = []
        self.problems: list[str] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or report.failed:
            marker = item.get_closest_marker("cell")
            if marker is None:
                self.problems.append(f"{item.nodeid} has no cell marker")
                return
            doc = check_title(item)
            message = "" if report.passed else student_message(call.excinfo)
            try:
                weight = check_weight(item)
            except ValueError as exc:
                self.problems.append(str(exc))
                return
            result = CheckResult(item.nodeid, marker.args[0], report.passed, doc, message, float(weight))
            if message and (known := misconceptions.explain(self.assignment, item.name, message)):
                result.misconception, result.hint, result.section = known.key, known.hint, known.url
            self.results.append(result)

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(f"could not collect {report.nodeid}: {report.longreprtext[-2000:]}")


class _Inject:
    def __init__(self, code, cells):
        self.code, self.cells = code, cells

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config):
        config.stash[STUDENT_KEY] = self.code

    def pytest_collection_modifyitems(self, config, items):
        if self.cells is None:
            return
        keep = [i for i in items if (m := i.get_closest_marker("cell")) is None or m.args[0] in self.cells]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def run_checks(assignment: str, code, cells=None) -> list[CheckResult]:
    """Run checks/<assignment>/ with `code` (a proxy.StudentCode) as the `student` fixture; only the checks
    of the test cells named in `cells`, when given (a maintainer's test of one answer)."""
    collector = _Collector(assignment)
    misconceptions.table(assignment)  # a broken table stops here, before any check runs
    # nbgrader's thread runs beside the checks: an object of its that Python cleans up during a check
    # ("unclosed socket") must not fail that check, so pytest's unraisable and thread exception hooks are off;
    # and its logging plugin is off, since it walks the logging module's table of loggers while nbgrader's
    # thread adds to it ("dictionary changed size during iteration": the grader failed on a submission)
    # No plugin of the environment is loaded (pytest-xdist, pytest-randomly...): the checks need none, and
    # reading every package's entry points cost a tenth of a second per submission.
    args = [str(course.CHECKS / assignment), "-q", "--tb=no", "--capture=sys", "--disable-plugin-autoload",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging",
            "-c", str(course.CHECKS / "pytest.ini")]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = pytest.main(args, plugins=[collector, _Inject(code, cells)])
    if collector.problems or status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the hidden checks of {assignment} are broken (pytest exit {status}): "
                           + "; ".join(collector.problems) + out.getvalue()[-3000:])
    # a check whose set-up failed has a report for its set-up only: keep one result per check
    seen, unique = set(), []
    for result in collector.results:
        if result.nodeid not in seen:
            seen.add(result.nodeid)
            unique.append(result)
    return unique

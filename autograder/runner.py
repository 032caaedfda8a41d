"""Run an assignment's hidden checks against one submission's code, in this (trusted) process."""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import pytest

from . import course
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


def student_message(excinfo) -> str:
    """Only messages written for students are shown; any other failure is described by the title."""
    if excinfo is not None and isinstance(excinfo.value, (CheckFailure, StudentCallError)):
        return str(excinfo.value)
    return ""


class _Collector:
    def __init__(self):
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
            doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
            message = "" if report.passed else student_message(call.excinfo)
            self.results.append(CheckResult(item.nodeid, marker.args[0], report.passed, doc, message))

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(f"could not collect {report.nodeid}: {report.longreprtext[-2000:]}")


class _Inject:
    def __init__(self, code):
        self.code = code

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config):
        config.stash[STUDENT_KEY] = self.code


def run_checks(assignment: str, code) -> list[CheckResult]:
    """Run checks/<assignment>/ with `code` (a proxy.StudentCode) as the `student` fixture."""
    collector = _Collector()
    # nbgrader's thread runs beside the checks: an object of its that Python cleans up during a check
    # ("unclosed socket") must not fail that check, so pytest's unraisable and thread exception hooks are off
    args = [str(course.CHECKS / assignment), "-q", "--tb=no", "--capture=sys", "-p", "no:cacheprovider",
            "-p", "no:randomly", "-p", "no:unraisableexception", "-p", "no:threadexception",
            "-c", str(course.CHECKS / "pytest.ini")]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = pytest.main(args, plugins=[collector, _Inject(code)])
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

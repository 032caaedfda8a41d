"""Each assignment's table of misconceptions: valid, every entry names real checks and a real section of the
book, and the feedback page shows the entry that explains a failed check, with its link."""
import contextlib
import io
import re

import pytest
from docutils.nodes import make_id

from autograder import course, feedback, misconceptions
from autograder import notebook
from autograder.results import StudentGrade
from autograder.runner import CheckResult

TABLES = [a for a in course.assignments() if misconceptions.table_path(a).exists()]


def check_names(assignment) -> set[str]:
    """The names of an assignment's hidden checks with their cases, as the feedback names them."""
    names = set()

    class Names:
        def pytest_collection_modifyitems(self, items):
            names.update(item.name for item in items)

    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main([str(course.CHECKS / assignment), "--collect-only", "-q", "-p", "no:cacheprovider",
                     "-c", str(course.CHECKS / "pytest.ini")], plugins=[Names()])
    assert names, f"no checks collected for {assignment}"
    return names


def section_ids(page) -> set[str]:
    """The ids a page of the book gives its sections: its labels `(name)=` and its headings' ids."""
    text = (course.REPO / "book" / f"{page}.md").read_text()
    return set(re.findall(r"^\((.+?)\)=\s*$", text, re.M)) | {make_id(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_the_course_has_a_table_for_the_numpy_assignments():
    assert {"activations"} <= set(TABLES)


@pytest.mark.parametrize("assignment", TABLES)
def test_every_entry_names_checks_that_exist_and_a_section_of_the_book(assignment):
    names = check_names(assignment)
    for entry in misconceptions.table(assignment):
        for pattern in entry.checks:
            named = misconceptions.Misconception(entry.key, (pattern,), "", "", "", "")
            assert any(map(named.names, names)), f"[{entry.key}] names no check of {assignment}: {pattern}"
        page, _, anchor = entry.section.partition("#")
        assert (course.REPO / "book" / f"{page}.md").exists(), f"[{entry.key}]: the book has no page {page}"
        assert anchor in section_ids(page), f"[{entry.key}]: {page} has no section {anchor}"


def test_the_first_entry_that_matches_the_check_and_its_message_explains_it():
    (known,) = [m for m in misconceptions.table("activations") if m.key == "log-of-softmax"]
    check = "test_log_softmax_is_finite_where_softmax_underflows"
    assert known.explains(check, "log_softmax caused a numpy warning: divide by zero encountered in log")
    assert not known.explains(check, "log_softmax caused a numpy warning: overflow encountered in exp")
    assert misconceptions.explain("activations", check, "overflow encountered in exp").key == "log-softmax-overflow"
    assert misconceptions.explain("activations", check, "3 of 12 values are wrong") is None
    assert misconceptions.explain("activations", "test_large_inputs_are_finite_and_warning_free[relu]",
                                  "overflow") is None


@pytest.mark.parametrize("text, complaint", [
    ("[a]\nchecks = ['t']\nmeans = 'm'\nfix = 'f'\n", "needs checks, means, fix and section"),
    ("[a]\nchecks = ['t']\nmeans = 'm'\nfix = 'f'\nsection = 's'\ncolour = 'red'\n", "nothing else"),
    ("[a]\nchecks = 't'\nmeans = 'm'\nfix = 'f'\nsection = 's'\n", "checks is a list"),
    ("[a]\nchecks = ['t']\nmessage = '(unclosed'\nmeans = 'm'\nfix = 'f'\nsection = 's'\n", "not a regular"),
    ("[a]\nchecks = ['t']\nmeans = ''\nfix = 'f'\nsection = 's'\n", "non-empty"),
    ("[a\n", "not valid TOML"),
])
def test_a_broken_table_is_refused_with_the_entry_at_fault(tmp_path, monkeypatch, text, complaint):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "misconceptions.toml").write_text(text)
    monkeypatch.setattr(course, "CHECKS", tmp_path)
    misconceptions.table.cache_clear()
    try:
        with pytest.raises(misconceptions.TableError, match=re.escape(complaint)):
            misconceptions.table("broken")
    finally:
        misconceptions.table.cache_clear()


def test_the_feedback_page_shows_the_misconception_and_links_the_book():
    (known,) = [m for m in misconceptions.table("activations") if m.key == "sigmoid-overflow"]
    check = CheckResult("checks/activations/test_elementwise.py::test_large[sigmoid]", "test_sigmoid", False,
                        "stays finite", "sigmoid caused a numpy warning: overflow encountered in exp", 3.0,
                        known.key, known.hint, known.url)
    grade = StudentGrade("s1", "activations", [notebook.TestCell("test_sigmoid", 3.0, "sigmoid")], checks=[check])
    page = feedback.render(grade)
    assert "Likely cause: exp(-x) overflows for large negative x" in page
    assert f"href='{course.BOOK_URL}activations.html#sec-sigmoid'" in page

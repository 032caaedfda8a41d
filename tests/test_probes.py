"""Probe modules, the checks' code that runs where the student's code runs, are ordinary Python files: the
worker runs them as modules of their own, so they import nothing of the grader, and no check executes a string."""
import ast
import sys

import numpy as np
import pytest

from autograder import course
from autograder.proxy import Student, StudentCode

# What the worker runs: each lab's probes.py, and the shared modules of the checks they import
PROBE_FILES = sorted(course.CHECKS.glob("*/probes.py")) + [course.CHECKS / "probe_kit.py"]
ALLOWED_PACKAGES = set(sys.stdlib_module_names) | {"numpy", "torch"}


def parsed(path):
    return ast.parse(path.read_text(), filename=str(path))


def imported_modules(tree):
    """(module, names, at module level?) of every import statement; a relative import's module starts with '.'."""
    top = set(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, [], node in top) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or ""), [alias.name for alias in node.names], node in top


def short(path):
    return path.relative_to(course.CHECKS).as_posix()


def test_every_lab_that_builds_objects_in_the_worker_has_a_probe_module():
    assert {p.parent.name for p in PROBE_FILES[:-1]} == {"lab_autograd", "lab_dying_relu", "lab_gradient_flow",
                                                         "lab_shootout", "lab_speed"}


@pytest.mark.parametrize("path", PROBE_FILES, ids=short)
def test_a_probe_module_imports_only_the_standard_library_numpy_torch_and_probe_modules(path):
    """The worker has no grader to import, and finds a shared probe module only as a module-level global."""
    for module, names, at_top in imported_modules(parsed(path)):
        if module == "autograder.checks":
            assert at_top, f"{short(path)}: import the checks' shared probe modules at module level"
            assert all((course.CHECKS / f"{name}.py") in PROBE_FILES for name in names), f"{short(path)}: {names}"
        else:
            assert module.split(".")[0] in ALLOWED_PACKAGES, f"{short(path)} imports {module}"


@pytest.mark.parametrize("path", sorted(course.CHECKS.rglob("*.py")), ids=short)
def test_no_check_executes_a_string_and_every_program_is_a_probe_module(path):
    tree = parsed(path)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    executed = [ast.unparse(c) for c in calls
                if isinstance(c.func, ast.Name) and c.func.id in ("exec", "eval", "compile")]
    assert not executed, f"{short(path)} executes strings: {executed}"
    # `_program=probes`, bound by `from . import probes`, a probe module of the same folder
    imported = {name for module, names, _ in imported_modules(tree) if module == "." for name in names}
    for keyword in (k for c in calls for k in c.keywords if k.arg == "_program"):
        assert isinstance(keyword.value, ast.Name) and keyword.value.id in imported, ast.unparse(keyword)
        assert path.parent / f"{keyword.value.id}.py" in PROBE_FILES


STUDENT_NORMS = """
import torch.nn.functional as F
from torch import nn


def layer_grad_norms(model, X, y):
    model.zero_grad()
    F.cross_entropy(model(X), y).backward()
    return [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]
"""


def test_a_probe_that_imports_probe_kit_runs_in_a_worker_and_builds_the_graders_networks():
    """The worker cannot import autograder: probe_kit reaches it with the probe, and both sides build one network."""
    from autograder.checks.lab_gradient_flow import probes, references
    seed, config = 3, dict(activation="tanh", depth=2, width=5, init="he")
    with StudentCode([("1", STUDENT_NORMS)]) as code:
        [norms], parameters = code.call("layer_grad_norms_probe", Student("layer_grad_norms"), seed, config,
                                        _program=probes).value
    assert isinstance(norms, list) and all(isinstance(n, float) for n in norms)
    assert np.allclose(norms, references.reference_norms(seed, config), rtol=1e-9, atol=0.0)
    expected = references.parameters(seed, config)
    assert len(parameters) == len(expected) and all(np.array_equal(a, e) for a, e in zip(parameters, expected))

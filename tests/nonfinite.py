"""Answers that return nan or inf where a number is due, for proving that hidden checks refuse them.

nan compares False with everything, so a check written `if abs(a - b) > tol: fail` passes a nan. The
answers made here are the reference solution with the floats of every result spoiled (nan or inf, in
one place or everywhere): shapes, dtypes and purity stay right, so only the checks that never look at
a value may pass them.
"""
from __future__ import annotations

from autograder import notebook

from helpers import failed_checks, solution, with_answers

# Appended to the notebook's imports cell: spoils the floats of a result, inside tuples and lists too.
SPOIL = '''

def _spoil(value, fill, everywhere):
    if isinstance(value, (tuple, list)):
        return type(value)(_spoil(item, fill, everywhere) for item in value)
    if isinstance(value, (float, np.floating)):
        return type(value)(fill)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        value = value.copy()
        if everywhere:
            value[...] = fill
        elif value.size:
            value.flat[0] = fill
    return value
'''

WRAP = '''

_right_{name} = {name}


def {name}(*args, **kwargs):
    return _spoil(_right_{name}(*args, **kwargs), float("{fill}"), {everywhere})
'''


def nonfinite_answers(assignment, fill, everywhere):
    """The reference notebook of `assignment` whose every answer returns `fill` (nan, inf) in place of
    its first float (everywhere=False) or of all of them (everywhere=True)."""
    nb = solution(assignment)
    tests = {cell.grade_id for cell in notebook.test_cells(nb)}
    sources = {notebook.nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
               if notebook.nbgrader_meta(c).get("solution") and notebook.nbgrader_meta(c)["grade_id"] not in tests}
    spoiled = {name: source + WRAP.format(name=name, fill=fill, everywhere=everywhere)
               for name, source in sources.items()}
    imports = next(c.source for c in nb.cells if notebook.nbgrader_meta(c).get("grade_id") == "imports")
    return with_answers(nb, {"imports": imports + SPOIL, **spoiled})


def checks_passed(results):
    """{test cell: names of its passed checks}, without the parameter part."""
    return {cell: {r.nodeid.split("::")[-1].split("[")[0] for r in rs if r.passed} for cell, rs in results.items()}


def assert_only_value_blind_checks_pass(results, value_blind):
    """Every check fails but those in `value_blind` (purity, errors raised, dtype: none of them reads a value)."""
    assert results and all(failed_checks(results, cell) for cell in results), "some test cell lost no point"
    passed = {name for names in checks_passed(results).values() for name in names}
    assert passed <= set(value_blind), f"checks that passed nan or inf: {passed - set(value_blind)}"

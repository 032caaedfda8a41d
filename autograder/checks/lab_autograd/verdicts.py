"""The lab_autograd checks' verdicts on the student's classes: the call of the probes (probes.py) that run them
in the worker, and the comparison of what they return with the grader's references (references.py).

The probes only compute, and return plain arrays: the class's value and gradient through autograd, and called
directly with a ctx of the probes' own (which no patch of autograd in the student's process can change).
Every verdict is a comparison made here or in the checks: against PyTorch's own functions in float64, and, for
the gradient check, against centred differences the grader computes from the forward values the probes return.
"""
from dataclasses import dataclass

import numpy as np

from autograder.checking import CheckFailure, as_array, assert_close
from autograder.proxy import Student, StudentCallError

from . import probes
from .references import reference


def call(student, cls, probe, *args):
    """Run the probe called `probe` (probes.py) on the student's class `cls` in the worker, under the class's own
    name: errors read as the class's."""
    try:
        return student.call(cls, Student(cls), probe, *args, _program=probes).value
    except StudentCallError as exc:
        raise CheckFailure(str(exc)) from None


def through_autograd(cls):
    return f"the gradient reaching x through {cls}.apply"


def called_directly(cls):
    return f"the gradient that {cls}.backward returns (called directly)"


@dataclass
class Run:
    """What the student's class gave on one input: through autograd (`value`, `gradient`) and called directly
    (`direct_value`, `direct_gradient`), and the input as the call left it."""
    value: np.ndarray
    gradient: np.ndarray
    direct_value: np.ndarray
    direct_gradient: np.ndarray
    input_after: object

    def values(self, cls):
        return [(self.value, f"{cls}.apply"), (self.direct_value, f"{cls}.forward (called directly)")]

    def gradients(self, cls):
        return [(self.gradient, through_autograd(cls)), (self.direct_gradient, called_directly(cls))]


def gradient_array(grad, what):
    if grad is None:
        raise CheckFailure(f"{what}: no gradient for x; the output's shape should be the input's, and backward "
                           "should return a tensor, the gradient for x")
    return as_array(grad, what)


def run(student, cls, x, g, extra):
    result = call(student, cls, "both_ways", x, g, extra)
    if not isinstance(result, (list, tuple)) or len(result) != 5:
        raise CheckFailure(f"{cls} could not be run")
    value, grad, direct_value, direct_grad, after = result
    return Run(as_array(value, f"{cls}.apply"), gradient_array(grad, through_autograd(cls)),
               as_array(direct_value, f"{cls}.forward"), gradient_array(direct_grad, called_directly(cls)), after)


def assert_matches(student, cls, x, g, extra, what, rtol, atol, values=True, gradients=True):
    """The student's values and gradients on (x, g), both ways, equal PyTorch's float64 ones; returns the Run."""
    result = run(student, cls, x, g, extra)
    expected_value, expected_grad = reference(cls, x, g, extra)
    if values:
        for value, name in result.values(cls):
            assert_close(value, expected_value, f"{name} {what}", rtol=rtol, atol=atol)
    if gradients:
        for grad, name in result.gradients(cls):
            assert_close(grad, expected_grad, f"{name} {what}", rtol=rtol, atol=atol)
    return result

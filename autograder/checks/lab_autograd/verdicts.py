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
from .references import other_gradients, other_values, reference


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


# what a common mistake gives instead (references.other_values, other_gradients), as the message names it
LOOK_ALIKES = {
    "tanh approximation": "the values of the tanh approximation, not the exact GELU",
    "beta ignored": "those for beta = 1, as if beta were not there",
    "grad_output ignored": "the derivative alone: grad_output is not multiplied in",
    "factor 1 - s missing": "grad_output * s: the factor (1 - s) is missing",
    "output formula on the input": "grad_output * x * (1 - x): the formula in terms of the output s, applied to the "
                                   "input x",
    "x phi(x) missing": "grad_output * Phi(x): the product rule's second term, x * phi(x), is missing",
    "second term missing": "grad_output * s: the product rule's second term, beta * x * s * (1 - s), is missing",
    "chain rule beta missing": "those of s + x * s * (1 - s): the chain rule's factor beta is missing",
}


def assert_close_or_look_alike(actual, expected, what, rtol, atol, others):
    """assert_close; a wrong result that equals what a common mistake gives says which (misconceptions.toml
    explains each to the student). `others` computes {mistake: result} only when needed."""
    try:
        assert_close(actual, expected, what, rtol=rtol, atol=atol)
    except CheckFailure as failure:
        for mistake, other in others().items():
            try:
                assert_close(actual, other, what, rtol=rtol, atol=atol)
            except CheckFailure:
                continue
            raise CheckFailure(f"{failure}: they are {LOOK_ALIKES[mistake]}") from None
        raise


def assert_gradient(grad, cls, x, g, extra, what, rtol, atol):
    """One gradient equals PyTorch's float64 one, or says which common mistake it is."""
    assert_close_or_look_alike(grad, reference(cls, x, g, extra)[1], what, rtol, atol,
                               lambda: other_gradients(cls, x, g, extra))


def assert_matches(student, cls, x, g, extra, what, rtol, atol, values=True, gradients=True):
    """The student's values and gradients on (x, g), both ways, equal PyTorch's float64 ones; returns the Run."""
    result = run(student, cls, x, g, extra)
    expected_value, expected_grad = reference(cls, x, g, extra)
    if values:
        for value, name in result.values(cls):
            assert_close_or_look_alike(value, expected_value, f"{name} {what}", rtol, atol,
                                       lambda: other_values(cls, x, extra))
    if gradients:
        for grad, name in result.gradients(cls):
            assert_close_or_look_alike(grad, expected_grad, f"{name} {what}", rtol, atol,
                                       lambda: other_gradients(cls, x, g, extra))
    return result

"""The course library holds no answer to any graded function.

`actlab` is the one part of the repository that a student's notebook can import, in JupyterLab and in
the grader's sandbox. A library function that computes what an answer cell must compute is a free
answer: bound by name (`from actlab.nets import layer_grad_norms`) it earns full marks. So the library
keeps only what the labs need around the students' functions (data, models, training, timing, plots,
the experiments, which take the students' functions as arguments); the instructor's references live in
the solution notebooks and autograder/checks/, and the book's own versions in book/_activations.py and
book/labs/_instruments.py (outside the library, and outside the sandbox).

The graded functions are the top-level `def`s and `class`es of the answer cells (nbgrader
"solution": true) of every solution notebook. Two checks:

- by name: no public name of any actlab module is the name of a graded function;
- by behaviour: no callable in actlab (module-level, or a value of a module-level dict) returns what a
  graded function returns, when called with that function's arguments. The references are the
  solution notebooks' own answer cells. Probed: every lab function, and every numpy function of one
  array (the activations, their derivatives, the step); no actlab class is a torch.autograd.Function.

On the library as it was before this test (commit b1e5663) both failed: by name nets.layer_grad_norms
and nets.dead_fraction; by behaviour also flow.nets_init_weights_, flow.nets_dead_fraction,
flow.nets_with_leaky_relu, shootout.matching_mlp, shootout.loss_and_accuracy and
activations.REFERENCE['identity'].
"""
import functools
import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import actlab
from autograder import course
from helpers import code_cells, graded_names

GRADED = {assignment: graded_names(assignment) for assignment in course.assignments()}


@functools.lru_cache(maxsize=None)
def references(assignment) -> dict:
    """The instructor's answers: the notebook's imports cell and answer cells, executed here."""
    namespace = {}
    for meta, source in code_cells(assignment):
        if meta.get("solution") or meta.get("grade_id") == "imports":
            exec(compile(source, f"{assignment}:{meta['grade_id']}", "exec"), namespace)
    return namespace


def library_modules():
    modules = [actlab]
    for info in pkgutil.walk_packages(actlab.__path__, prefix="actlab."):
        modules.append(importlib.import_module(info.name))
    return modules


def library_callables() -> list[tuple[str, object]]:
    """(label, object) of every function and class of actlab a notebook can reach at a module's top level,
    and of every callable value of a module-level dict; classes from other packages are left out."""
    found = []
    for module in library_modules():
        for name, value in vars(module).items():
            if name.startswith("__") or inspect.ismodule(value):
                continue
            items = ([(f"{name}[{key!r}]", v) for key, v in value.items()] if isinstance(value, dict)
                     else [(name, value)])
            for label, obj in items:
                foreign_class = inspect.isclass(obj) and not obj.__module__.startswith("actlab")
                if callable(obj) and not foreign_class:
                    found.append((f"{module.__name__}.{label}", obj))
    return found


# -- by name ------------------------------------------------------------------------------------

def test_every_assignment_has_graded_functions_and_the_list_includes_the_lab_instruments():
    assert all(GRADED.values()), {a: names for a, names in GRADED.items() if not names}
    every = {name for names in GRADED.values() for name in names}
    assert {"layer_grad_norms", "dead_fraction", "build_mlp", "elementwise_traffic", "SigmoidFunction",
            "sigmoid_grad", "softmax"} <= every


def test_no_library_module_has_a_public_name_of_a_graded_function():
    graded = {name: assignment for assignment, names in GRADED.items() for name in names}
    clashes = [f"{module.__name__}.{name} (graded in {graded[name]})" for module in library_modules()
               for name in vars(module) if not name.startswith("_") and name in graded]
    assert clashes == [], "the library answers graded functions: " + ", ".join(clashes)


def test_no_library_class_is_an_autograd_function():
    functions = [label for label, obj in library_callables()
                 if inspect.isclass(obj) and issubclass(obj, torch.autograd.Function)]
    assert functions == [], f"lab_autograd asks for torch.autograd.Functions; the library has {functions}"


# -- by behaviour -------------------------------------------------------------------------------

def _numbers(value):
    """A float array of `value`, or None when it is not numbers (a module, a dict, a figure, ...)."""
    if value is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            array = np.asarray(value, dtype=np.float64)
    except Exception:
        return None
    return array if array.size else None


def _same(summary, expected, rtol):
    """Whether two summaries (nested lists of strings and numbers) agree."""
    if isinstance(expected, str) or isinstance(summary, str):
        return summary == expected
    if isinstance(expected, (list, tuple)) and any(isinstance(e, (str, list, tuple)) for e in expected):
        return (isinstance(summary, (list, tuple)) and len(summary) == len(expected)
                and all(_same(s, e, rtol) for s, e in zip(summary, expected)))
    a, b = _numbers(summary), _numbers(expected)
    return a is not None and b is not None and a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=1e-12)


def _call_quietly(fn, args):
    """fn(*args), or None when the arguments do not fit its signature or the call fails."""
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        return None
    except ValueError:
        pass  # no signature to read (some builtins): the call itself says whether the arguments fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except Exception:
            return None
        finally:
            import matplotlib.pyplot as plt
            plt.close("all")


def _linear_net(widths=(6, 10, 10, 3), activation=nn.ReLU, seed=0):
    torch.manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    return nn.Sequential(*layers[:-1]).double()


def _batch(n_in=6, n_out=3, seed=1):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(40, n_in, generator=generator, dtype=torch.float64)
    return X, torch.randint(0, n_out, (40,), generator=generator)


def _net_with_dead_units():
    """Units 0-2 of hidden layer 1 and 0-4 of hidden layer 2 are off on every input (weights 0, bias -1)."""
    net = _linear_net()
    with torch.no_grad():
        for layer, count in [(net[0], 3), (net[2], 5)]:
            layer.weight[:count] = 0.0
            layer.bias[:count] = -1.0
    return net


def _weight_statistics(model):
    """[module type names, std of each Linear weight, largest |bias|]: what an initialisation decides."""
    if not isinstance(model, nn.Module):
        return None
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return [[type(m).__name__ for m in model.children()], [m.weight.std().item() for m in linears],
            max(m.bias.abs().max().item() for m in linears)]


def _output_on_batch(model):
    with torch.no_grad():
        return model(_batch()[0]) if isinstance(model, nn.Module) else None


# assignment, graded function, fresh arguments, summary(result, arguments), rtol
LAB_PROBES = [
    ("lab_gradient_flow", "layer_grad_norms", lambda: (_linear_net(activation=nn.Tanh), *_batch()),
     lambda result, args: result, 1e-6),
    *[("lab_gradient_flow", "init_weights_", lambda scheme=scheme: (_linear_net((300, 400, 50)), scheme),
       lambda result, args: _weight_statistics(args[0]), 0.05) for scheme in ("xavier", "he")],
    ("lab_dying_relu", "dead_fraction", lambda: (_net_with_dead_units(), _batch()[0]),
     lambda result, args: result, 1e-6),
    ("lab_dying_relu", "with_leaky_relu", lambda: (_linear_net(), 0.2),
     lambda result, args: _output_on_batch(result) if result is not args[0] else None, 1e-6),
    *[("lab_shootout", "build_mlp", lambda activation=activation: (300, 400, 2, 10, activation),
       lambda result, args: _weight_statistics(result), 0.05) for activation in ("tanh", "relu", "selu")],
    ("lab_shootout", "evaluate", lambda: (_linear_net(), *_batch()), lambda result, args: result, 1e-6),
    ("lab_speed", "elementwise_traffic", lambda: (1000, torch.float16), lambda result, args: result, 0),
    ("lab_speed", "unfused_bias_activation_traffic", lambda: (1000, torch.float16), lambda result, args: result, 0),
    ("lab_speed", "fused_bias_activation_traffic", lambda: (1000, torch.float16), lambda result, args: result, 0),
    ("lab_speed", "achieved_gbps", lambda: (6000, 3e-6), lambda result, args: result, 1e-9),
    ("lab_speed", "fraction_of_peak", lambda: (2700.0, 3000.0), lambda result, args: result, 1e-9),
]


@pytest.fixture(scope="module")
def probing(tmp_path_factory):
    """Calls run at smoke-test sizes and may not compile: a stray call of an experiment stays cheap."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(actlab.settings.VARIABLE, "smoke")
        patch.setattr(torch, "compile", lambda *args, **kwargs: pytest.fail("probing tried torch.compile"))
        patch.chdir(tmp_path_factory.mktemp("probing"))
        yield library_callables()


def test_the_probes_cover_every_lab_function_but_the_autograd_classes():
    probed = {(assignment, name) for assignment, name, *_ in LAB_PROBES}
    labs = {(a, name) for a, names in GRADED.items() if a.startswith("lab_") for name in names}
    assert labs - probed == {("lab_autograd", n) for n in GRADED["lab_autograd"]}


@pytest.mark.parametrize("assignment, name, make_args, summarize, rtol", LAB_PROBES,
                         ids=[f"{name}{i}" for i, (_, name, *_) in enumerate(LAB_PROBES)])
def test_no_library_callable_returns_what_a_lab_function_returns(probing, assignment, name, make_args, summarize,
                                                                 rtol):
    reference = references(assignment)[name]
    args = make_args()
    torch.manual_seed(0)
    expected = summarize(reference(*args), args)
    assert expected is not None and expected != [], f"the probe of {name} tells nothing"
    answers = []
    for label, fn in probing:
        args = make_args()
        torch.manual_seed(0)
        result = _call_quietly(fn, args)
        try:
            summary = summarize(result, args)
        except Exception:
            continue
        if summary is not None and _same(summary, expected, rtol):
            answers.append(label)
    assert answers == [], f"{assignment}.{name} is answered by the library: {answers}"


def test_no_library_callable_returns_an_activation_or_its_derivative_of_one_array(probing):
    x = np.array([-2.5, -1.0, -0.3, 0.2, 0.7, 1.5, 3.0])
    expected = {}
    for assignment in ("neuron", "activations", "derivatives"):
        namespace = references(assignment)
        for name in GRADED[assignment]:
            value = _call_quietly(namespace[name], (x.copy(),))
            if _numbers(value) is not None:
                expected[f"{assignment}.{name}"] = value
    assert {"neuron.step", "activations.sigmoid", "activations.softmax", "derivatives.gelu_grad"} <= set(expected)
    answers = [f"{label} = {graded}" for label, fn in probing
               for result in [_call_quietly(fn, (x.copy(),))]
               for graded, value in expected.items() if _same(result, value, 1e-9)]
    assert answers == [], f"the library answers: {answers}"

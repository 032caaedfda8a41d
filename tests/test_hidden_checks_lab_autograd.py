"""The hidden checks of `lab_autograd` pass every correct implementation and fail realistic wrong ones."""
import pytest

from autograder.checks.lab_autograd.hand_written import Notebook
from helpers import assert_every_misconception_is_shown, failed_checks, hidden_results, solution, with_answers

ASSIGNMENT = "lab_autograd"


def function_class(name, forward, backward):
    """A torch.autograd.Function called `name` with the given method bodies (indented by 8 spaces)."""
    args = "x, beta" if name == "SwishFunction" else "x"
    return (f"class {name}(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, {args}):\n{forward}"
            f"\n    @staticmethod\n    def backward(ctx, grad_output):\n{backward}")


def sigmoid(forward=None, backward="        (s,) = ctx.saved_tensors\n        return grad_output * s * (1 - s)\n"):
    forward = forward or ("        e = torch.exp(-x.abs())\n        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
                          "        ctx.save_for_backward(s)\n        return s\n")
    return function_class("SigmoidFunction", forward, backward)


GELU_FORWARD = "        ctx.save_for_backward(x)\n        return x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))\n"


def gelu(forward=GELU_FORWARD, derivative="cdf + x * pdf"):
    backward = ("        (x,) = ctx.saved_tensors\n        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))\n"
                "        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)\n"
                f"        return grad_output * ({derivative})\n")
    return function_class("GELUFunction", forward, backward)


SWISH_BACKWARD = ("        x, s = ctx.saved_tensors\n"
                  "        return grad_output * (s + ctx.beta * x * s * (1 - s)), None\n")


def swish(backward=SWISH_BACKWARD,
          forward="        s = torch.sigmoid(beta * x)\n        ctx.save_for_backward(x, s)\n        ctx.beta = beta\n"
                  "        return x * s\n"):
    return function_class("SwishFunction", forward, backward)


NOT_A_FUNCTION = ("class SigmoidFunction:\n    \"\"\"autograd through torch.sigmoid: no backward of its own\"\"\"\n"
                  "    @staticmethod\n    def apply(x):\n        return torch.sigmoid(x)\n")
STATE_ON_THE_CLASS = sigmoid(
    forward="        e = torch.exp(-x.abs())\n"
            "        SigmoidFunction.s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
            "        return SigmoidFunction.s.clone()\n",
    backward="        s = SigmoidFunction.s\n        return grad_output * s * (1 - s)\n")
NAIVE = sigmoid(forward="        ctx.save_for_backward(x)\n        return 1 / (1 + torch.exp(-x))\n",
                backward="        (x,) = ctx.saved_tensors\n"
                         "        return grad_output * torch.exp(-x) / (1 + torch.exp(-x)) ** 2\n")
IN_PLACE = sigmoid(forward="        x.clamp_(-100, 100)  # 'avoids overflow', but changes the caller's tensor\n"
                           "        s = 1 / (1 + torch.exp(-x))\n        ctx.save_for_backward(s)\n        return s\n")
TANH_GELU = gelu(forward="        ctx.save_for_backward(x)\n"
                         "        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))\n")
GELU_IN_FLOAT64 = gelu(forward="        x = x.to(torch.float64)  # 'for accuracy'\n" + GELU_FORWARD)
SWISH_IGNORES_BETA = swish(backward="        x, s = ctx.saved_tensors\n        s1 = torch.sigmoid(x)\n"
                                    "        return grad_output * (s1 + x * s1 * (1 - s1)), None\n")

VALUES = {"test_forward_values_match_pytorch_in_float64", "test_edge_inputs_in_float64", "test_float32_stays_float32",
          "test_every_shape_from_0d_to_3d_and_empty"}
GRADIENTS = {"test_gradients_match_pytorch_for_a_random_upstream_gradient", "test_edge_inputs_in_float64",
             "test_float32_stays_float32", "test_every_shape_from_0d_to_3d_and_empty",
             "test_gradient_comes_from_your_backward", "test_backward_is_written_by_hand",
             "test_two_calls_in_flight_do_not_interfere", "test_backward_agrees_with_centred_differences_of_forward"}

# The input saved, and used in backward as if it were the output s
SAVES_THE_INPUT = sigmoid(forward="        e = torch.exp(-x.abs())\n        ctx.save_for_backward(x)\n"
                                  "        return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n")
SWISH_WITHOUT_INNER_BETA = swish(backward="        x, s = ctx.saved_tensors\n"
                                          "        return grad_output * (s + x * s * (1 - s)), None\n")
SWISH_WITHOUT_NONE = swish(backward="        x, s = ctx.saved_tensors\n"
                                    "        return grad_output * (s + ctx.beta * x * s * (1 - s))\n")
SWISH_BETA = {"test_swish_honours_beta_in_forward_and_backward", "test_swish_with_beta_in_float32"}

# (answer cell, wrong source, checks that must fail, the misconception that explains one of them or None).
# Each is a mistake students really make.
WRONG = [
    ("SigmoidFunction", sigmoid(backward="        (s,) = ctx.saved_tensors\n        return grad_output * s\n"),
     GRADIENTS, "sigmoid-missing-factor"),  # forgets (1 - s)
    ("SigmoidFunction", sigmoid(backward="        (s,) = ctx.saved_tensors\n        return s * (1 - s)\n"),
     GRADIENTS, "grad-output-ignored"),  # ignores grad_output
    ("SigmoidFunction", NAIVE, {"test_edge_inputs_in_float64", "test_huge_float32_inputs_stay_finite"},
     "sigmoid-overflow"),
    ("SigmoidFunction", NOT_A_FUNCTION, {"test_gradient_comes_from_your_backward"}, "not-a-function"),
    ("SigmoidFunction", STATE_ON_THE_CLASS, {"test_two_calls_in_flight_do_not_interfere"}, "state-on-the-class"),
    ("SigmoidFunction", IN_PLACE, {"test_does_not_modify_its_input"}, "input-changed-in-place"),
    ("SigmoidFunction", SAVES_THE_INPUT, GRADIENTS, "saved-input-used-as-output"),
    ("GELUFunction", TANH_GELU, VALUES, "gelu-tanh-approximation"),
    ("GELUFunction", gelu(derivative="cdf"), GRADIENTS, "gelu-product-rule"),  # forgets x * phi(x)
    ("GELUFunction", GELU_IN_FLOAT64, {"test_float32_stays_float32"}, "dtype-changed"),
    ("SwishFunction", SWISH_IGNORES_BETA, SWISH_BETA | {"test_backward_agrees_with_centred_differences_of_forward"},
     "swish-beta-ignored"),
    ("SwishFunction", swish(backward="        x, s = ctx.saved_tensors\n        return grad_output * s, None\n"),
     GRADIENTS | {"test_swish_honours_beta_in_forward_and_backward"},
     "swish-product-rule"),  # differentiates as if s did not depend on x
    ("SwishFunction", SWISH_WITHOUT_INNER_BETA,
     SWISH_BETA | {"test_backward_agrees_with_centred_differences_of_forward"}, "swish-chain-rule-beta"),
    ("SwishFunction", SWISH_WITHOUT_NONE, GRADIENTS - {"test_backward_is_written_by_hand"}, "missing-none-for-beta"),
]

def groups(wrong):
    """Each worker imports torch (seconds): wrong answers run in groups, at most one per answer cell (the
    three classes are independent, so one cell's mistake cannot cost another cell points)."""
    by_cell = {}
    for entry in wrong:
        by_cell.setdefault(entry[0], []).append(entry)
    return [[entries[i] for entries in by_cell.values() if i < len(entries)]
            for i in range(max(len(entries) for entries in by_cell.values()))]


def assert_each_loses_points_on_its_checks_only(group, exactly=False):
    """With the group's sources in their cells, each cell fails its `must_fail` checks (only those, if `exactly`),
    and the misconception `explained_by` (the entry's fourth item, None for none) explains one of them.
    Only these cells' checks run (test_hidden_checks.py shows that no cell's checks depend on another's answer)."""
    wrong_cells = {f"test_{grade_id}" for grade_id, *_ in group}
    results = hidden_results(with_answers(solution(ASSIGNMENT), {g: source for g, source, *_ in group}), ASSIGNMENT,
                             wrong_cells)
    for grade_id, _, must_fail, explained_by in group:
        failed = failed_checks(results, f"test_{grade_id}")
        assert must_fail == failed if exactly else must_fail <= failed, \
            f"{grade_id}: expected {must_fail} to fail, failed: {failed}"
        if explained_by:
            shown = {r.misconception: r.message for r in results[f"test_{grade_id}"] if not r.passed}
            assert explained_by in shown, f"{grade_id}: expected [{explained_by}] to explain a failure; shown {shown}"


@pytest.mark.slow
@pytest.mark.parametrize("group", groups(WRONG), ids=lambda group: "+".join(g for g, *_ in group))
def test_a_wrong_implementation_loses_points_on_the_checks_it_should(group):
    assert_each_loses_points_on_its_checks_only(group)


# A notebook cell that patches autograd in the student's process, beside a backward that forgets (1 - s):
# Tensor.backward sends PyTorch's own sigmoid gradient to x, and gradcheck always passes. With checks that
# took gradients through Tensor.backward and gradcheck's verdict in the worker, it earned full marks.
PATCHED_AUTOGRAD = """
_real_backward = torch.Tensor.backward


def _pytorchs_gradient_whatever_backward_says(self, gradient=None, *args, **kwargs):
    node = self.grad_fn
    if node is None or "SigmoidFunction" not in type(node).__name__:
        return _real_backward(self, gradient, *args, **kwargs)
    x = node.next_functions[0][0].variable
    with torch.enable_grad():
        t = x.detach().requires_grad_(True)
        _real_backward(torch.sigmoid(t), gradient)
    x.grad = t.grad if x.grad is None else x.grad + t.grad


torch.Tensor.backward = _pytorchs_gradient_whatever_backward_says
torch.autograd.gradcheck = lambda *args, **kwargs: True

""" + sigmoid(backward="        (s,) = ctx.saved_tensors\n        return grad_output * s\n")


@pytest.mark.slow
def test_a_notebook_that_patches_autograd_does_not_pass_a_wrong_backward():
    assert_each_loses_points_on_its_checks_only([("SigmoidFunction", PATCHED_AUTOGRAD, GRADIENTS, None)])


# Backward passes that ask autograd for the derivative: right values and gradients, against the rule.
# Each loses the hand-written check and nothing else.
AUTOGRAD_GRAD = function_class(
    "GELUFunction", "        ctx.save_for_backward(x)\n        return F.gelu(x)\n",
    "        (x,) = ctx.saved_tensors\n        with torch.enable_grad():\n"
    "            x = x.detach().requires_grad_(True)\n"
    "            (dx,) = torch.autograd.grad(F.gelu(x), x, grad_output)\n        return dx\n")
HELPER_CALLS_BACKWARD = (
    "def sigmoid_derivative(x):\n    with torch.enable_grad():\n        t = x.detach().requires_grad_(True)\n"
    "        torch.sigmoid(t).sum().backward()\n    return t.grad\n\n\n"
    + sigmoid(forward="        ctx.save_for_backward(x)\n        return torch.sigmoid(x)\n",
              backward="        (x,) = ctx.saved_tensors\n        return grad_output * sigmoid_derivative(x)\n"))
FUNC_VJP = "from torch.func import vjp\n\n" + swish(
    backward="        x, _ = ctx.saved_tensors\n"
             "        _, pullback = vjp(lambda t: t * torch.sigmoid(ctx.beta * t), x)\n"
             "        return pullback(grad_output)[0], None\n")
# hidden from a reading of the code (names built from strings): caught by the call with autograd switched off
HIDDEN_AUTOGRAD_GRAD = sigmoid(
    forward="        ctx.save_for_backward(x)\n        return torch.sigmoid(x)\n",
    backward="        (x,) = ctx.saved_tensors\n"
             "        differentiate = torch.__dict__['auto' + 'grad'].__dict__['gr' + 'ad']\n"
             "        with torch.__dict__['enable_' + 'grad']():\n"
             "            t = x.detach().clone()\n            t.requires_grad = True\n"
             "            (dx,) = differentiate(torch.sigmoid(t), t, grad_output)\n        return dx\n")
HAND_WRITTEN = {"test_backward_is_written_by_hand"}
DELEGATING = [("GELUFunction", AUTOGRAD_GRAD, HAND_WRITTEN, "derivative-from-autograd"),
              ("SigmoidFunction", HELPER_CALLS_BACKWARD, HAND_WRITTEN, "derivative-from-autograd"),
              ("SwishFunction", FUNC_VJP, HAND_WRITTEN, "derivative-from-autograd"),
              ("SigmoidFunction", HIDDEN_AUTOGRAD_GRAD, HAND_WRITTEN, "derivative-from-autograd")]


@pytest.mark.slow
@pytest.mark.parametrize("group", groups(DELEGATING), ids=lambda group: "+".join(g for g, *_ in group))
def test_a_backward_that_asks_autograd_loses_the_hand_written_check_only(group):
    assert_each_loses_points_on_its_checks_only(group, exactly=True)


def test_every_misconception_of_the_table_is_shown_to_a_wrong_implementation():
    assert_every_misconception_is_shown(ASSIGNMENT, WRONG, DELEGATING)


# Correct implementations that differ from the reference: torch.sigmoid in forward, the input saved
# instead of the output, GELU through erfc (more accurate than PyTorch in the left tail), the
# setup_context style of torch >= 2.0, and a Swish built on the student's own SigmoidFunction.
RIGHT = [
    {"SigmoidFunction": sigmoid(forward="        ctx.save_for_backward(x)\n        return torch.sigmoid(x)\n",
                                backward="        (x,) = ctx.saved_tensors\n        s = torch.sigmoid(x)\n"
                                         "        return grad_output * s * (1 - s)\n"),
     "GELUFunction": gelu(forward="        ctx.save_for_backward(x)\n"
                                  "        return x * 0.5 * torch.erfc(-x / math.sqrt(2))\n",
                          derivative="0.5 * torch.erfc(-x / math.sqrt(2)) + x * pdf"),
     "SwishFunction": "class SwishFunction(torch.autograd.Function):\n"
                      "    @staticmethod\n    def forward(x, beta):\n        return x * torch.sigmoid(beta * x)\n\n"
                      "    @staticmethod\n    def setup_context(ctx, inputs, output):\n"
                      "        x, beta = inputs\n        ctx.save_for_backward(x)\n        ctx.beta = beta\n\n"
                      "    @staticmethod\n    def backward(ctx, grad_output):\n"
                      "        (x,) = ctx.saved_tensors\n        s = torch.sigmoid(ctx.beta * x)\n"
                      "        return grad_output * s * (1 + ctx.beta * x * (1 - s)), None\n"},
    {"SwishFunction": swish(forward="        s = SigmoidFunction.apply(beta * x)\n        ctx.save_for_backward(x, s)\n"
                                    "        ctx.beta = beta\n        return x * s\n")},
]


@pytest.mark.slow
@pytest.mark.parametrize("sources", RIGHT, ids=["-".join(s) for s in RIGHT])
def test_a_different_correct_implementation_gets_full_marks(sources):
    results = hidden_results(with_answers(solution(ASSIGNMENT), sources), ASSIGNMENT)
    assert {cell: failed_checks(results, cell) for cell in results if failed_checks(results, cell)} == {}


# The reading of the code alone (no worker: fast). Each source holds a SigmoidFunction whose backward
# returns `grad_output * <derivative>`, the derivative written as below.
def sigmoid_with_derivative(derivative, before=""):
    return before + sigmoid(forward="        ctx.save_for_backward(x)\n        return torch.sigmoid(x)\n",
                            backward=f"        (x,) = ctx.saved_tensors\n        return grad_output * {derivative}\n")


BY_HAND = {
    "torch functions": sigmoid_with_derivative("torch.sigmoid(x) * (1 - torch.sigmoid(x))"),
    "a helper of the notebook": sigmoid_with_derivative(
        "derivative(x)", "def derivative(x):\n    s = torch.nn.functional.sigmoid(x)\n    return s * (1 - s)\n\n"),
    "a method of its own class": sigmoid_with_derivative("SigmoidFunction.local_backward(x)").replace(
        "    @staticmethod\n    def backward", "    @staticmethod\n    def local_backward(x):\n"
        "        return torch.sigmoid(x) * (1 - torch.sigmoid(x))\n\n    @staticmethod\n    def backward"),
    "Function imported, once_differentiable": sigmoid_with_derivative(
        "torch.sigmoid(x) * (1 - torch.sigmoid(x))",
        "from torch.autograd import Function\nfrom torch.autograd.function import once_differentiable\n\n").replace(
        "(torch.autograd.Function)", "(Function)").replace(
        "    def backward", "    @once_differentiable\n    def backward"),
}
ASKS_AUTOGRAD = {
    "torch.autograd.grad": AUTOGRAD_GRAD.replace("GELUFunction", "SigmoidFunction"),
    ".backward() in a helper": HELPER_CALLS_BACKWARD,
    "torch.func.vjp imported": FUNC_VJP.replace("SwishFunction", "SigmoidFunction"),
    "an alias of torch.autograd": sigmoid_with_derivative("ag.grad(torch.sigmoid(x), x)[0]", "ag = torch.autograd\n"),
    "grad imported under another name": sigmoid_with_derivative(
        "d(torch.sigmoid(x), x)[0]", "from torch.autograd import grad as d\n"),
    "torch.autograd.functional": sigmoid_with_derivative("torch.autograd.functional.jacobian(torch.sigmoid, x)"),
    "PyTorch's derivative kernel": sigmoid_with_derivative("torch.ops.aten.sigmoid_backward(grad_output, x)"),
    "getattr with a built name": sigmoid_with_derivative("getattr(torch, 'auto' + 'grad')"),
    "eval": sigmoid_with_derivative("eval('torch.autograd.grad')(torch.sigmoid(x), x)[0]"),
}


@pytest.mark.parametrize("source", BY_HAND.values(), ids=BY_HAND.keys())
def test_the_code_reading_accepts_a_derivative_computed_by_hand(source):
    assert Notebook([{"label": "SigmoidFunction", "source": source}]).delegation("SigmoidFunction") is None


@pytest.mark.parametrize("source", ASKS_AUTOGRAD.values(), ids=ASKS_AUTOGRAD.keys())
def test_the_code_reading_finds_a_derivative_asked_of_autograd(source):
    assert Notebook([{"label": "SigmoidFunction", "source": source}]).delegation("SigmoidFunction") is not None


def test_the_code_reading_reads_the_last_definition_and_finds_a_missing_class():
    cells = [{"label": "1", "source": ASKS_AUTOGRAD["eval"]}, {"label": "2", "source": BY_HAND["torch functions"]}]
    assert Notebook(cells).delegation("SigmoidFunction") is None
    assert Notebook(cells[::-1]).delegation("SigmoidFunction") is not None
    assert Notebook([{"label": "1", "source": "SigmoidFunction = type('S', (), {})"}]).delegation("SigmoidFunction")

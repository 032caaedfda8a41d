"""Whether a class computes its gradient by hand: a reading of the submission's code, done in the grader.

The lab's rule: a Function's backward is written by hand; neither it nor its forward may ask autograd for a
derivative (torch.autograd.grad, .backward(), torch.func, torch.autograd.functional, forward-mode AD,
torch.enable_grad). The code read here is the notebook's own code cells (the `student` proxy's `cells`,
taken from the submitted file, never from the student's process): the class, and every function or class
of the notebook that it names, followed through the names they use in turn.
"""
from __future__ import annotations

import ast
import re

MAGIC_LINE = re.compile(r"^\s*[%!]")  # run as `pass` by the worker
AUTOGRAD_MODULES = ("torch.autograd", "torch.func", "functorch", "torch._functorch")
# what a Function may import from autograd: the base class and its decorator
FUNCTION_TOOLS = {"Function", "FunctionCtx", "function", "once_differentiable"}
# what reaches autograd from code: torch.autograd.grad, y.backward(), y.grad_fn, torch.func.vjp, torch.enable_grad()
AUTOGRAD_WORDS = {"autograd", "backward", "grad", "grad_fn", "func", "functorch", "forward_ad", "enable_grad",
                  "set_grad_enabled", "requires_grad_", "vjp", "jvp", "jacobian", "hessian", "jacrev", "jacfwd",
                  "grad_and_value", "gradcheck", "_execution_engine", "run_backward", "_ImperativeEngine"}
# names that hide from a reader what code calls
INDIRECTIONS = {"eval", "exec", "compile", "__import__", "importlib", "globals", "vars", "locals", "builtins",
                "__builtins__"}


def parse_cells(cells):
    """[(label, module)] of the cells that parse, magics read as `pass` as the worker runs them."""
    parsed = []
    for cell in cells:
        source = "\n".join("pass" if MAGIC_LINE.match(line) else line for line in cell["source"].splitlines())
        try:
            parsed.append((cell["label"], ast.parse(source)))
        except (SyntaxError, ValueError):
            pass
    return parsed


def top_level(statements):
    """The statements that run at a cell's top level, also inside if, try, with and for blocks."""
    for node in statements:
        yield node
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            for block in ("body", "orelse", "finalbody"):
                yield from top_level(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                yield from top_level(handler.body)


def autograd_imports(node) -> list[str]:
    """The names an import statement binds to autograd's tools (`from torch.autograd import grad as g`: g)."""
    if isinstance(node, ast.Import):
        # `import torch.autograd` binds `torch`, whose autograd is then reached as an attribute
        return [alias.asname or alias.name for alias in node.names
                if alias.name.startswith(AUTOGRAD_MODULES) and (alias.asname or "." not in alias.name)]
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if module.startswith(AUTOGRAD_MODULES):
            return [alias.asname or alias.name for alias in node.names if alias.name not in FUNCTION_TOOLS]
        if module == "torch":
            return [alias.asname or alias.name for alias in node.names if alias.name in AUTOGRAD_WORDS]
    return []


def assigned_names(node):
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


class Notebook:
    """The notebook's top-level definitions, and the names it binds to autograd (`ag = torch.autograd`)."""

    def __init__(self, cells):
        self.definitions = {}  # name -> (cell label, node); a later cell's definition wins, as when it runs
        self.autograd_names = set()
        for label, module in parse_cells(cells):
            for node in top_level(module.body):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.definitions[node.name] = (label, node)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    self.autograd_names.update(autograd_imports(node))
                elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                    if any(self.reaches_autograd(n) for n in ast.walk(node.value)):
                        self.autograd_names.update(assigned_names(node))

    def reaches_autograd(self, node, own_classes=()) -> bool:
        """Whether this one node asks autograd for something, or hides from a reader what it calls."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [getattr(node, "module", None) or ""] + [alias.name for alias in node.names]
            return bool(autograd_imports(node)) or any(
                m.split(".")[0] in INDIRECTIONS or m.startswith(AUTOGRAD_MODULES) for m in modules)
        if isinstance(node, ast.Attribute) and (node.attr in AUTOGRAD_WORDS or node.attr.endswith("_backward")):
            # a method of one of the notebook's classes (SigmoidFunction.backward(ctx, g)) is the notebook's
            # own code, read on its own; ctx.save_for_backward is what a Function must call
            own = isinstance(node.value, ast.Name) and node.value.id in own_classes
            return not own and node.attr != "save_for_backward"  # torch.ops.aten.gelu_backward is not own code
        if isinstance(node, ast.Name):
            return node.id in self.autograd_names or node.id in INDIRECTIONS
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr"):
            name = node.args[1] if len(node.args) > 1 else None
            return not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or name.value in AUTOGRAD_WORDS
        return False

    def delegation(self, class_name, checked_separately=()):
        """None if the class, and the notebook's functions and classes it names, compute by hand; else
        (cell label, line, code) of the first place that asks autograd, or why the class cannot be read.
        Classes in `checked_separately` are not followed: each is judged on its own."""
        definition = self.definitions.get(class_name)
        if definition is None or not isinstance(definition[1], ast.ClassDef):
            return ("", 0, f"no `class {class_name}` statement")
        classes = {name for name, (_, node) in self.definitions.items() if isinstance(node, ast.ClassDef)}
        to_read, seen = [class_name], set(checked_separately) - {class_name}
        while to_read:
            name = to_read.pop()
            if name in seen:
                continue
            seen.add(name)
            label, definition = self.definitions[name]
            for node in body_nodes(definition):
                if self.reaches_autograd(node, classes):
                    return (label, node.lineno, ast.unparse(node)[:80])
                if isinstance(node, ast.Name) and node.id in self.definitions:
                    to_read.append(node.id)
        return None


def body_nodes(definition):
    """Every node of a def's or class's body and of its defaults; not its decorators nor base classes
    (`torch.autograd.Function`, `@once_differentiable` are no delegation)."""
    roots = list(definition.body)
    if isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
        roots += definition.args.defaults + [d for d in definition.args.kw_defaults if d is not None]
    for root in roots:
        stack = [root]
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.extend(node.body)
                if not isinstance(node, ast.ClassDef):
                    stack.extend(node.args.defaults)
            else:
                stack.extend(ast.iter_child_nodes(node))

"""The student side of grading: runs a submission's code cells and serves calls to its functions.

Started by `proxy.StudentCode` as `python -I worker.py REQUEST_FD REPLY_FD`, with stdout and stderr
sent elsewhere, so nothing a student prints can pass for a reply. Uses only the standard library,
numpy and codec.py (beside it, the wire format both sides share); the grader checks every reply, so
this file need not be trusted.
"""
import hashlib
import json
import os
import re
import sys
import traceback
import types
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec  # noqa: E402  (beside this file; `python -I` leaves the script's folder off the path)

del sys.path[0]
del sys.modules["codec"]  # bound here, before student code runs: `import codec` cannot reach this one

MAGIC_LINE = re.compile(r"^\s*[%!]")  # IPython magics and shell escapes mean nothing outside a kernel


def error_line(exc):
    """`TypeError: message (line N)`: the student's own error, without the grader's frames."""
    line = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("<cell"):
            line = f" ({frame.filename[1:-1]}, line {frame.lineno})"
            break
    if isinstance(exc, SyntaxError):
        line = ""  # its message already names the cell and the line
    return f"{type(exc).__name__}: {exc}{line}"[:500]


def run_cells(cells, namespace, announce):
    """Execute each cell like a notebook does: an error is recorded and the next cell still runs."""
    errors = []
    for cell in cells:
        announce(cell["label"])  # if this cell kills or hangs the process, the grader knows which
        source = "\n".join("pass" if MAGIC_LINE.match(l) else l for l in cell["source"].splitlines())
        try:
            exec(compile(source, f"<cell {cell['label']}>", "exec"), namespace)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the cell failed, we go on
            errors.append({"cell": cell["label"], "error": error_line(exc)})
    return errors


class Missing(LookupError):
    """A name the call needs is not among the student's."""


def resolver(namespace, kept):
    """How this worker turns a request's references into values (see codec.decode)."""
    def resolve(form, data):
        if form == "kept":
            value = kept[data["__kept__"]]
            for index in data["__path__"]:
                value = value[index]
            return value
        if form == "function":
            return eval(data["__function__"], {"np": np})  # the grader's own source, never the student's
        if not callable(namespace.get(data["__student__"])):
            raise Missing(data["__student__"])
        return namespace[data["__student__"]]
    return resolve


def load_program(modules, programs):
    """The grader's probe module (the last) and the modules of its own it imports, each executed once as a
    module under its name: probes build objects where the student's code runs (a torch model) and call
    the student's functions on them."""
    for program in modules:
        key = (program["name"], hashlib.sha256(program["source"].encode()).hexdigest())
        if key not in programs:
            *parents, _ = program["name"].split(".")
            for i in range(len(parents)):  # empty packages above it, so that `from a.b import kit` finds it
                sys.modules.setdefault(".".join(parents[:i + 1]), types.ModuleType(".".join(parents[:i + 1])))
            module = types.ModuleType(program["name"])
            module.__file__ = program["filename"]
            sys.modules[program["name"]] = module
            exec(compile(program["source"], program["filename"], "exec"), module.__dict__)
            if parents:
                setattr(sys.modules[".".join(parents)], program["name"].rsplit(".", 1)[1], module)
            programs[key] = module
    return programs[key].__dict__


def serve_call(namespace, request, kept, programs):
    where = load_program(request["program"], programs) if request.get("program") else namespace
    function = where.get(request["call"])
    if not callable(function):
        return {"ok": False, "missing": True, "error": f"{request['call']} is not defined"}
    resolve = resolver(namespace, kept)
    try:
        args = [codec.decode(a, resolve) for a in request["args"]]
        kwargs = {k: codec.decode(v, resolve) for k, v in request["kwargs"].items()}
    except Missing as exc:
        return {"ok": False, "missing": True, "name": exc.args[0], "error": f"{exc.args[0]} is not defined"}
    except (KeyError, IndexError, TypeError) as exc:
        return {"ok": False, "error": f"a value your code returned earlier could not be used ({type(exc).__name__})"}
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:
            return {"ok": False, "error": error_line(exc)}
    if request.get("keep"):
        kept[request["keep"]] = value
    try:
        reply = {"ok": True, "value": codec.encode(value, lenient=bool(request.get("keep")))}
    except codec.CannotSend as exc:
        return {"ok": False, "error": f"{request['call']} {exc}"}
    reply["args_after"] = [codec.encode(a) if isinstance(a, np.ndarray) else None for a in args]
    reply["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught]
    return reply


class RefuseImports:
    """A meta path finder that makes `import <name>` fail with the reason (used where no sandbox hides them)."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ImportError(f"{fullname} is not available in this assignment: answer it with numpy")
        return None


def main(argv, serve=serve_call, run=run_cells, dumps=json.dumps, loads=json.loads, fail=error_line):
    # The protocol is bound here, as arguments, before any student code runs, and the student's code gets
    # a __main__ module of its own: no name it can import or assign (`import __main__`, sys.modules)
    # reaches the code that answers the grader.
    requests = os.fdopen(int(argv[1]), "r", encoding="utf-8")
    replies = os.fdopen(int(argv[2]), "w", encoding="utf-8")

    def send(message):
        replies.write(dumps(message) + "\n")
        replies.flush()

    setup = loads(requests.readline())
    if setup.get("refuse_imports"):
        sys.meta_path.insert(0, RefuseImports(setup["refuse_imports"]))
    student = types.ModuleType("__main__")
    sys.modules["__main__"] = student
    sys.modules.pop("worker", None)
    namespace = student.__dict__
    errors = run(setup["cells"], namespace, lambda label: send({"running": label}))
    send({"ready": True, "errors": errors})
    kept = {}  # results the grader asked to keep for later calls, by key
    programs = {}  # the grader's probe modules, executed once each
    for line in requests:
        request = loads(line)
        try:
            reply = serve(namespace, request, kept, programs)
        except BaseException as exc:  # encoding the answer failed in an unexpected way
            reply = {"ok": False, "error": fail(exc)}
        reply["id"] = request["id"]
        send(reply)


if __name__ == "__main__":
    main(sys.argv)

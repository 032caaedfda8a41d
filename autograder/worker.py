"""The student side of grading: runs a submission's code cells and serves calls to its functions.

Started by `proxy.StudentCode` as `python -I worker.py REQUEST_FD REPLY_FD`, with stdout and stderr
sent elsewhere, so nothing a student prints can pass for a reply. Uses only the standard library
and numpy. Everything it sends is JSON whose arrays are .npy bytes (no pickle); the grader checks
every reply, so this file need not be trusted.
"""
import base64
import io
import json
import os
import re
import sys
import traceback
import types
import warnings

import numpy as np

MAGIC_LINE = re.compile(r"^\s*[%!]")  # IPython magics and shell escapes mean nothing outside a kernel


def encode(value):
    """JSON-ready form of None, bool, int, float, str, numpy values, and lists/tuples/dicts of them."""
    if isinstance(value, (np.ndarray, np.generic)):
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii"),
                "__scalar__": isinstance(value, np.generic)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return {"__seq__": [encode(v) for v in value], "__tuple__": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def encode_lenient(value):
    """`encode`, but a value that cannot cross (a dict, a class instance) becomes an opaque marker.

    Used for results the worker keeps for a later call (a forward pass's cache): the grader sees
    what it can check and hands the rest back by reference.
    """
    if isinstance(value, (list, tuple)):
        return {"__seq__": [encode_lenient(v) for v in value], "__tuple__": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__opaque__": "dict"}
    try:
        return encode(value)
    except TypeError:
        return {"__opaque__": type(value).__name__[:100]}


def resolve_kept(kept, reference):
    value = kept[reference["__kept__"]]
    for index in reference["__path__"]:
        value = value[index]
    return value


def decode(data, kept=None):
    """Inverse of `encode` for requests (which come from the trusted grader).

    Beyond `encode`'s forms, a request may name a value kept from an earlier call
    ({"__kept__": key, "__path__": [i, ...]}) or a trusted function given as source
    ({"__function__": "lambda x: ..."}), evaluated with numpy as `np`.
    """
    if isinstance(data, dict):
        if "__kept__" in data:
            return resolve_kept(kept or {}, data)
        if "__function__" in data:
            return eval(data["__function__"], {"np": np})  # the grader's own source, never the student's
        if "__ndarray__" in data:
            array = np.load(io.BytesIO(base64.b64decode(data["__ndarray__"])), allow_pickle=False)
            return array[()] if data.get("__scalar__") else array
        if "__seq__" in data:
            items = [decode(v, kept) for v in data["__seq__"]]
            return tuple(items) if data["__tuple__"] else items
        if "__dict__" in data:
            return {decode(k, kept): decode(v, kept) for k, v in data["__dict__"]}
    return data


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


def serve_call(namespace, request, kept):
    if request.get("program"):
        # a function the grader wrote (it builds a model, then calls the student's code on it),
        # run beside the student's names; its results are checked like any other
        namespace = dict(namespace)
        exec(compile(request["program"], "<grader>", "exec"), namespace)
    function = namespace.get(request["call"])
    if not callable(function):
        return {"ok": False, "missing": True, "error": f"{request['call']} is not defined"}
    try:
        args = [decode(a, kept) for a in request["args"]]
        kwargs = {k: decode(v, kept) for k, v in request["kwargs"].items()}
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
        reply = {"ok": True, "value": encode_lenient(value) if request.get("keep") else encode(value)}
    except TypeError as exc:
        return {"ok": False, "error": f"{request['call']} returned {exc.args[0].split('of type ')[-1]}, "
                                      "not a number or an array"}
    reply["args_after"] = [encode(a) if isinstance(a, np.ndarray) else None for a in args]
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
    for line in requests:
        request = loads(line)
        try:
            reply = serve(namespace, request, kept)
        except BaseException as exc:  # encoding the answer failed in an unexpected way
            reply = {"ok": False, "error": fail(exc)}
        reply["id"] = request["id"]
        send(reply)


if __name__ == "__main__":
    main(sys.argv)

"""The grader's side of a student's code: a proxy whose calls run in the worker process.

Nothing the worker sends is unpickled or evaluated: every value of a reply is read by the codec
(autograder/codec.py, the one wire format of both sides), which checks its kind, dtype and size
before a check sees it.
"""
from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import codec, course
from .codec import Function, Kept, Opaque, Student  # noqa: F401  (what checks hand to calls)

WORKER = Path(__file__).resolve().parent / "worker.py"
MAX_REPLY_BYTES = 64 * 2**20


# Set when the instructor stops a run (Ctrl-C, SIGTERM): no worker starts, every call fails at once, and the
# grade being made is discarded. `stop_all` also kills the workers that are running.
STOPPING = threading.Event()
_LIVE: "weakref.WeakSet[StudentCode]" = weakref.WeakSet()


def stop_all():
    """Stop every worker of this process now (safe in a signal handler: it only sends signals)."""
    STOPPING.set()
    for code in list(_LIVE):
        process = code._process
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class StudentCallError(AssertionError):
    """A call into student code failed: it raised, hung, crashed or returned something unusable.

    The message is written for the student and holds only what their own code did.
    """


class ProtocolError(StudentCallError):
    """The worker's reply broke the protocol (student code may have tampered with it)."""


@dataclass
class CallResult:
    value: object
    args_after: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def type_name(self) -> str:
        """The type of the value as the grader decoded it ("int", "float", "ndarray", "float64", ...):
        never a name the worker reports."""
        return self.value.type_name if isinstance(self.value, Opaque) else type(self.value).__name__


def decode_reply_value(data):
    """A value of the worker's reply, checked by the codec; what it refuses is the student's ProtocolError."""
    try:
        return codec.decode(data)
    except codec.Unacceptable as exc:
        raise ProtocolError(str(exc)) from None
    except RecursionError:
        raise ProtocolError(codec.TooDeep.message) from None


def program(module) -> list[dict]:
    """A probe module as the worker runs it: the source of the file the grader imports too, after that of
    each module of the checks it imports (`from autograder.checks import probe_kit`), in order."""
    def needs(m, seen):
        for value in vars(m).values():
            if (isinstance(value, types.ModuleType) and value.__name__.startswith("autograder.checks.")
                    and value not in seen):
                seen.append(value)
                needs(value, seen)
        return seen
    modules = [*reversed(needs(module, [])), module]
    return [{"name": m.__name__, "filename": f"<grader's {Path(m.__file__).parent.name}/{Path(m.__file__).name}>",
             "source": Path(m.__file__).read_text()} for m in dict.fromkeys(modules)]


class StudentCode:
    """A submission's code cells running in a worker process; `proxy.fn(*args)` calls `fn` there.

    A call that hangs past `call_timeout` seconds kills the worker; the function is then marked as
    hanging (later calls to it fail at once) and the worker restarts for other functions.
    """

    def __init__(self, cells, call_timeout=10.0, cell_timeout=60.0, start_timeout=180.0, python=sys.executable,
                 sandbox=None, hidden_packages=()):
        self.cells = [{"label": str(label), "source": str(source)} for label, source in cells]
        self.call_timeout = call_timeout
        self.cell_timeout = cell_timeout  # one cell, while the notebook's cells run
        self.start_timeout = start_timeout  # all of them, however often the worker restarts
        self.python = python
        # a sandbox.Sandbox for untrusted code (its /tmp is the only place the code may write);
        # None runs the code as it is, in a temporary folder
        self.sandbox = sandbox
        # packages the code may not import: the sandbox hides them from the file system; without a
        # sandbox (the project's own tests) the worker refuses to import them
        self.hidden_packages = tuple(hidden_packages) or (sandbox.hidden_packages if sandbox else ())
        self.cell_errors: list[dict] = []
        self.hanging: set[str] = set()
        self._process = None
        self._next_id = 0
        self._start_failure = None  # a start that failed once fails at once afterwards
        self._skipped: dict[str, str] = {}  # cells that killed or hung the process, and how
        self._start_deadline = None  # set by the first start: restarts share one budget
        self._tmp = None

    @property
    def fingerprint(self) -> str:
        """A digest of the submission's code as the grader read it from the notebook (never the worker's word):
        checks that must use data no notebook can know in advance seed it from this."""
        digest = hashlib.sha256()
        for cell in self.cells:
            digest.update(json.dumps([cell["label"], cell["source"]]).encode())
        return digest.hexdigest()

    # -- process management ------------------------------------------------------------------
    def _start(self):
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        argv = [self.python, "-I", str(WORKER), str(request_read), str(reply_write)]
        if self.sandbox is not None:
            argv, cwd = self.sandbox.command(argv), "/"
        else:
            self._tmp = cwd = tempfile.mkdtemp(prefix="worker-")
        if self._start_deadline is None:
            self._start_deadline = time.monotonic() + self.start_timeout
        _LIVE.add(self)
        self._process = subprocess.Popen(
            argv, cwd=cwd, pass_fds=(request_read, reply_write), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
                 "MPLBACKEND": "Agg", **course.GRADING_ENV},
        )
        os.close(request_read)
        os.close(reply_write)
        self._requests = os.fdopen(request_write, "w", encoding="utf-8")
        self._replies = reply_read
        self._buffer = b""
        cells = [c for c in self.cells if c["label"] not in self._skipped]
        self._send({"cells": cells, "refuse_imports": list(self.hidden_packages)})
        expected = iter([c["label"] for c in cells])  # the worker announces each cell once, in order
        running, cell_deadline = None, self._start_deadline
        while True:
            deadline = min(cell_deadline, self._start_deadline)
            try:
                message = self._receive(deadline - time.monotonic(), "running your notebook's cells")
            except StudentCallError as exc:
                if running is None or running in self._skipped or time.monotonic() >= self._start_deadline:
                    if time.monotonic() >= self._start_deadline:
                        raise StudentCallError(f"your notebook's cells took more than {self.start_timeout:g} s "
                                               "in all") from None
                    raise
                # that cell killed or hung the process: run the notebook again without it
                self._skipped[running] = str(exc).replace("while running your notebook's cells", "in this cell")
                return self._start()
            if "running" in message:
                if message["running"] != next(expected, None):
                    self.close()
                    raise ProtocolError("the worker announced a cell out of order")
                running, cell_deadline = message["running"], time.monotonic() + self.cell_timeout
                continue
            break
        if message.get("ready") is not True or not isinstance(message.get("errors"), list):
            self.close()
            raise ProtocolError("the worker did not start properly")
        self.cell_errors = [{"cell": label, "error": error} for label, error in self._skipped.items()]
        self.cell_errors += [{"cell": str(e.get("cell"))[:100], "error": str(e.get("error"))[:500]}
                             for e in message["errors"][:100] if isinstance(e, dict)]

    def close(self):
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGKILL)  # the worker and anything it started
        except ProcessLookupError:
            pass
        self._process.wait()
        self._requests.close() if not self._requests.closed else None
        os.close(self._replies)
        self._process = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        self.ensure_started()
        return self

    def __exit__(self, *exc):
        self.close()

    def ensure_started(self):
        if STOPPING.is_set():
            raise StudentCallError("grading was stopped")
        if self._start_failure is not None:
            raise StudentCallError(self._start_failure)
        if self._process is None:
            try:
                self._start()
            except StudentCallError as exc:
                self._start_failure = f"your notebook's code could not be run: {exc}"
                raise StudentCallError(self._start_failure) from None

    # -- messages ------------------------------------------------------------------------------
    def _send(self, message):
        try:
            self._requests.write(json.dumps(message) + "\n")
            self._requests.flush()
        except (BrokenPipeError, OSError):
            pass  # the worker is gone: _receive reports it

    def _receive(self, timeout, doing):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._process is None:
                self.close()
                raise StudentCallError(f"timed out after {timeout:g} s while {doing}")
            ready, _, _ = select.select([self._replies], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                code = self._process.poll() if self._process else None
                self.close()
                raise StudentCallError(f"the Python process running your code stopped while {doing}"
                                       + (f" (exit status {code})" if code is not None else ""))
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                self.close()
                raise ProtocolError("the reply was too large")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's stack allows
            self.close()
            raise ProtocolError("the worker sent something that is not a reply") from None
        if not isinstance(message, dict):
            self.close()
            raise ProtocolError("the worker sent something that is not a reply")
        return message

    # -- calls ---------------------------------------------------------------------------------
    def call(self, name, *args, _keep=None, _timeout=None, _program=None, **kwargs) -> CallResult:
        """Call `name(*args, **kwargs)` in the worker and return its checked result.

        `_keep` keeps the result in the worker under that key, for `Kept` arguments of later calls
        (parts that cannot cross come back as `Opaque`); `_timeout` overrides `call_timeout` (seconds);
        `_program` is a probe module of the checks (plain Python: standard library, numpy, torch) whose
        function `name` is called instead of a student's, for checks that must build objects where the
        student's code runs (a torch model); it gets the student's functions as `Student(name)` arguments.
        """
        if name in self.hanging:
            raise StudentCallError(f"{name} did not return within {self.call_timeout:g} s earlier; not called again")
        self.ensure_started()
        self._next_id += 1
        request = {"id": self._next_id, "call": name, "args": [codec.encode(a) for a in args],
                   "kwargs": {k: codec.encode(v) for k, v in kwargs.items()}}
        if _keep is not None:
            request["keep"] = str(_keep)
        if _program is not None:
            request["program"] = program(_program)
        self._send(request)
        try:
            reply = self._receive(_timeout or self.call_timeout, f"calling {name}")
        except StudentCallError as exc:
            if "timed out" in str(exc):
                self.hanging.add(name)
            raise
        if reply.get("id") != self._next_id:
            self.close()
            raise ProtocolError("the reply does not answer the call that was made")
        if reply.get("ok") is not True:
            if reply.get("missing") is True:
                missing = reply.get("name") if isinstance(reply.get("name"), str) else name
                raise StudentCallError(f"{missing[:100]} is not defined: does the cell that defines it run without "
                                       "errors?")
            raise StudentCallError(f"{name} raised {str(reply.get('error'))[:500]}")
        warnings = reply.get("warnings", [])
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            raise ProtocolError("the reply's warnings are malformed")
        args_after = reply.get("args_after", [])
        if not isinstance(args_after, list):
            raise ProtocolError("the reply's arguments are malformed")
        return CallResult(value=decode_reply_value(reply.get("value")),
                          args_after=[None if a is None else decode_reply_value(a) for a in args_after],
                          warnings=[w[:300] for w in warnings[:20]])

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value

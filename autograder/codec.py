"""The one wire format between the grader and the worker that runs a student's code.

Both sides import this file (the worker from beside itself, with the standard library and numpy only).
Values travel as JSON; arrays as .npy bytes read with allow_pickle=False, so nothing is ever unpickled or
evaluated on the grader's side. `decode` accepts exactly what `encode` writes and refuses anything else
with one error per kind of unacceptable value; the grader reports that error to the student as their
code's fault (a student controls the worker and can send anything).

Requests, which come from the grader, may also hold references that the worker resolves: a value kept
from an earlier call, a function the grader wrote, a function of the student's by name.
"""
import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 8
MAX_STRING = 10_000
MAX_ARRAY_ELEMENTS = 10**7
REPLY_KINDS = "biuf"  # bool, int, unsigned, float: no object, string or complex arrays come back
REQUEST_KINDS = "biufc"  # the grader may send complex arrays (a dtype a function must refuse)


# -- what can be unacceptable, one error each --------------------------------------------------------------
class Unacceptable(ValueError):
    """A value that cannot cross; its message, written for the student, says which kind."""
    message = "the reply holds a value of an unknown form"

    def __init__(self, message=None):
        super().__init__(message or self.message)


class TooDeep(Unacceptable):
    message = "the returned value is nested too deeply"


class TooLong(Unacceptable):
    message = "the returned string is too long"


class UnreadableArray(Unacceptable):
    message = "the returned array could not be read"


class NotNumbers(Unacceptable):
    """An array of strings, objects or (in a reply) complex numbers."""


class TooLarge(Unacceptable):
    message = "the returned array is too large"


class ReturnedDict(Unacceptable):
    message = "returned a dict, not a number or an array"


class CannotSend(Unacceptable):
    """A value of a type no form stands for (a class instance, a set): raised while encoding."""


# -- references a request may hold --------------------------------------------------------------------------
@dataclass(frozen=True)
class Function:
    """A function the grader writes (source such as "lambda x: np.sin(x).sum()"), passed to student code.

    It is evaluated in the worker with numpy as `np`: use it for arguments that must be callables.
    """
    source: str


@dataclass(frozen=True)
class Kept:
    """A value kept in the worker by an earlier call (`call(..., _keep=key)`), or an item of it by `path`."""
    key: str
    path: tuple = ()


@dataclass(frozen=True)
class Student:
    """The student's function or class called `name`, handed to a probe (see proxy.StudentCode.call)."""
    name: str


@dataclass(frozen=True)
class Opaque:
    """Stands for a returned value that cannot cross (a dict, an object): it stays in the worker."""
    type_name: str


# -- encoding -----------------------------------------------------------------------------------------------
def encode(value, lenient=False):
    """JSON-ready form of None, bool, int, float, str, numpy values, lists and tuples of them, dicts (requests
    only) and the references above. `lenient`: a value that cannot cross becomes an Opaque marker instead
    of an error (results the worker keeps for a later call, such as a forward pass's cache)."""
    if isinstance(value, (np.ndarray, np.generic)):
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii"),
                "__scalar__": isinstance(value, np.generic)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return {"__seq__": [encode(v, lenient) for v in value], "__tuple__": isinstance(value, tuple)}
    if isinstance(value, Function):
        return {"__function__": value.source}
    if isinstance(value, Kept):
        return {"__kept__": value.key, "__path__": [int(i) for i in value.path]}
    if isinstance(value, Student):
        return {"__student__": value.name}
    if lenient:
        return {"__opaque__": type(value).__name__[:100]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise CannotSend(f"returned {type(value).__name__}, not a number or an array")


# -- decoding -----------------------------------------------------------------------------------------------
def decode(data, resolve=None, depth=0):
    """The value `encode` wrote, or an Unacceptable error.

    Replies (the grader decodes them; `resolve` is None) hold plain values, numeric arrays and Opaque
    markers. Requests (the worker decodes them) may also hold dicts and references, which
    `resolve(form, data)` turns into values.
    """
    if depth > MAX_DEPTH:
        raise TooDeep()
    if data is None or isinstance(data, (bool, int, float)):
        return data
    if isinstance(data, str):
        if len(data) > MAX_STRING:
            raise TooLong()
        return data
    if isinstance(data, dict):
        form = frozenset(data)
        if form == {"__ndarray__", "__scalar__"}:
            return _array(data, REQUEST_KINDS if resolve else REPLY_KINDS)
        if form == {"__seq__", "__tuple__"} and isinstance(data["__seq__"], list):
            items = [decode(v, resolve, depth + 1) for v in data["__seq__"]]
            return tuple(items) if data["__tuple__"] is True else items
        if form == {"__opaque__"} and isinstance(data["__opaque__"], str) and resolve is None:
            return Opaque(data["__opaque__"][:100])
        if form == {"__dict__"}:
            if resolve is None:
                raise ReturnedDict()
            return {decode(k, resolve, depth + 1): decode(v, resolve, depth + 1) for k, v in data["__dict__"]}
        if resolve is not None and form in REFERENCES:
            return resolve(REFERENCES[form], data)
    raise Unacceptable()


REFERENCES = {frozenset({"__kept__", "__path__"}): "kept", frozenset({"__function__"}): "function",
              frozenset({"__student__"}): "student"}


def _array(data, kinds):
    try:
        raw = base64.b64decode(data["__ndarray__"], validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, TypeError, binascii.Error, EOFError, OSError) as exc:
        raise UnreadableArray(f"{UnreadableArray.message} ({type(exc).__name__})") from None
    if type(array) is not np.ndarray or array.dtype.kind not in kinds:
        raise NotNumbers(f"returned an array of dtype {array.dtype}, not numbers")
    if array.size > MAX_ARRAY_ELEMENTS:
        raise TooLarge()
    return array[()] if data["__scalar__"] is True else array

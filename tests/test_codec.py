"""The one wire format: what `encode` writes, `decode` reads back exactly; anything else is refused with the
error of its kind."""
import base64
import io
import pickle

import numpy as np
import pytest

from autograder import codec
from autograder.codec import Function, Kept, Opaque, Student, decode, encode


@pytest.mark.parametrize("value", [None, True, 3, 2.5, "text", np.float32(1.5), np.arange(6, dtype=np.int16),
                                   np.zeros((2, 3), np.float32), [1, (2.0, np.ones(2))], ()])
def test_every_form_comes_back_as_it_was(value):
    back = decode(encode(value))
    assert type(back) is type(value)
    if isinstance(value, (np.ndarray, np.generic)):
        assert back.dtype == value.dtype and np.shape(back) == np.shape(value)
        assert np.array_equal(back, value)
    elif isinstance(value, list):
        assert back[0] == 1 and back[1][0] == 2.0 and np.array_equal(back[1][1], np.ones(2))
    else:
        assert back == value


def npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return base64.b64encode(buffer.getvalue()).decode()


def nested(depth):
    data = 1.0
    for _ in range(depth):
        data = {"__seq__": [data], "__tuple__": False}
    return data


@pytest.mark.parametrize("data, error", [
    (nested(codec.MAX_DEPTH + 2), codec.TooDeep),
    ("x" * (codec.MAX_STRING + 1), codec.TooLong),
    ({"__ndarray__": base64.b64encode(pickle.dumps([1, 2])).decode(), "__scalar__": False}, codec.UnreadableArray),
    ({"__ndarray__": "not base64!", "__scalar__": False}, codec.UnreadableArray),
    ({"__ndarray__": npy(np.array(["a"])), "__scalar__": False}, codec.NotNumbers),
    ({"__ndarray__": npy(np.array([1j])), "__scalar__": False}, codec.NotNumbers),
    ({"__ndarray__": npy(np.array([object()], dtype=object), True), "__scalar__": False}, codec.UnreadableArray),
    ({"__ndarray__": npy(np.zeros(codec.MAX_ARRAY_ELEMENTS + 1, np.bool_)), "__scalar__": False}, codec.TooLarge),
    (encode({"a": 1.0}), codec.ReturnedDict),
    ({"__class__": "os.system"}, codec.Unacceptable),
    (encode(Kept("k")), codec.Unacceptable),  # references are for requests only
    (encode(Function("lambda: 0")), codec.Unacceptable),
    (encode(Student("f")), codec.Unacceptable),
])
def test_a_reply_holds_nothing_but_plain_values(data, error):
    with pytest.raises(error) as raised:
        decode(data)
    assert type(raised.value) is error and str(raised.value)


def test_requests_may_hold_dicts_and_references_that_the_worker_resolves():
    seen = []
    resolve = lambda form, data: seen.append(form) or form  # noqa: E731
    request = encode([{"depth": 3}, Kept("fwd", (1,)), Function("lambda x: x"), Student("relu"), np.array([1j])])
    assert decode(request, resolve)[:4] == [{"depth": 3}, "kept", "function", "student"]
    assert seen == ["kept", "function", "student"]


def test_values_that_cannot_cross_are_opaque_only_when_kept():
    with pytest.raises(codec.CannotSend, match="returned set"):
        encode({1, 2})
    assert decode(encode(({"cache": 1}, object()), lenient=True)) == (Opaque("dict"), Opaque("object"))

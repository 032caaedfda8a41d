"""The worker runs student code apart from the grader and reports exactly what it did."""
import time

import numpy as np
import pytest

from autograder.proxy import ProtocolError, StudentCallError, StudentCode, decode_reply_value
from autograder.codec import encode


def run(source, name, *args, timeout=5.0, **kwargs):
    with StudentCode([("1", "import numpy as np"), ("2", source)], call_timeout=timeout) as code:
        return code.call(name, *args, **kwargs), code


def test_values_cross_with_their_dtype_and_shape():
    result, _ = run("def f(x):\n    return x * 2", "f", np.arange(6, dtype=np.float32).reshape(2, 3))
    assert result.value.dtype == np.float32 and result.value.shape == (2, 3)
    assert np.array_equal(result.value, np.arange(6).reshape(2, 3) * 2)


def test_a_numpy_scalar_and_a_zero_d_array_both_come_back_zero_d():
    result, _ = run("def f(x):\n    return np.float32(1.5)", "f", np.array(1.0))
    assert np.ndim(result.value) == 0 and np.asarray(result.value).dtype == np.float32


def test_cell_errors_are_reported_and_later_cells_still_run():
    with StudentCode([("a", "def f(:"), ("b", "raise SystemExit(3)"), ("c", "def g():\n    return 1.0")]) as code:
        assert [e["cell"] for e in code.cell_errors] == ["a", "b"]
        assert "SyntaxError" in code.cell_errors[0]["error"]
        assert code.g() == 1.0


def test_magics_and_shell_escapes_are_skipped():
    result, code = run("%matplotlib inline\n!ls\ndef f():\n    return 2.0", "f")
    assert result.value == 2.0 and code.cell_errors == []


def test_a_missing_function_is_named():
    with pytest.raises(StudentCallError, match="nope is not defined"):
        run("x = 1", "nope")


def test_an_exception_is_reported_with_the_students_line():
    with pytest.raises(StudentCallError, match=r"f raised ZeroDivisionError: .*line 2"):
        run("def f():\n    return 1 / 0", "f")


def test_numpy_warnings_are_reported():
    result, _ = run("def f(x):\n    return np.exp(x)", "f", np.array([1e4]))
    assert any("overflow" in w for w in result.warnings)


def test_an_input_changed_in_place_is_seen():
    x = np.zeros(3)
    result, _ = run("def f(x):\n    x[0] = 7\n    return x", "f", x)
    assert result.args_after[0][0] == 7 and x[0] == 0


def test_a_hanging_function_times_out_and_is_not_called_again():
    with StudentCode([("1", "def f():\n    while True: pass\ndef g():\n    return 1.0")], call_timeout=1) as code:
        with pytest.raises(StudentCallError, match="timed out"):
            code.f()
        with pytest.raises(StudentCallError, match="not called again"):
            code.f()
        assert code.g() == 1.0  # the worker restarted for the other functions


def test_a_process_that_exits_is_reported_and_restarted():
    with StudentCode([("1", "import os\ndef f():\n    os._exit(0)\ndef g():\n    return 2.0")]) as code:
        with pytest.raises(StudentCallError, match="stopped"):
            code.f()
        assert code.g() == 2.0


def test_printing_cannot_pass_for_a_reply():
    fake = '{"id": 1, "ok": true, "value": 42}'
    result, _ = run(f"print({fake!r})\ndef f():\n    print({fake!r})\n    return 1.0", "f")
    assert result.value == 1.0


@pytest.mark.parametrize("source", [
    "def f():\n    return np.array(['a', 'b'])",
    "def f():\n    return np.array([object()], dtype=object)",
    "def f():\n    return lambda: 0",
])
def test_values_that_are_not_numbers_are_refused(source):
    with pytest.raises(StudentCallError):
        run(source, "f")


def test_pickled_or_malformed_replies_are_refused():
    import base64, io, pickle
    raw = base64.b64encode(pickle.dumps([1, 2])).decode()
    with pytest.raises(ProtocolError):
        decode_reply_value({"__ndarray__": raw, "__scalar__": False})
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ProtocolError):
        decode_reply_value({"__ndarray__": base64.b64encode(buffer.getvalue()).decode(), "__scalar__": False})
    with pytest.raises(ProtocolError):
        decode_reply_value({"__class__": "os.system"})
    assert np.array_equal(decode_reply_value(encode(np.arange(3))), np.arange(3))


def test_a_cell_that_ends_the_process_is_skipped_and_the_others_still_count():
    cells = [("a", "def f():\n    return 1.0"), ("b", "import os\nos._exit(0)"), ("c", "def g():\n    return 2.0")]
    with StudentCode(cells) as code:
        assert code.f() == 1.0 and code.g() == 2.0
        assert [e["cell"] for e in code.cell_errors] == ["b"] and "stopped" in code.cell_errors[0]["error"]


def test_a_cell_that_hangs_is_skipped_after_the_cell_timeout():
    cells = [("a", "def f():\n    return 1.0"), ("b", "while True:\n    pass")]
    with StudentCode(cells, cell_timeout=1, start_timeout=20) as code:
        assert code.f() == 1.0
        assert "timed out" in code.cell_errors[0]["error"]


# A cell that speaks the protocol itself, on the reply pipe the worker was given (its number is in sys.argv).
FORGE = "import os, sys, time\nreply = int(sys.argv[2])\n"


@pytest.mark.parametrize("source", [
    # "still running" for ever, the same cell, with no CPU used
    FORGE + "while True:\n    os.write(reply, b'{\"running\": \"a\"}\\n')\n    time.sleep(0.05)",
    # "still running", a new cell name each time
    FORGE + "for i in range(10**6):\n    os.write(reply, b'{\"running\": \"c%d\"}\\n' % i)\n    time.sleep(0.05)",
])
def test_a_start_up_that_keeps_saying_it_is_running_ends_within_its_deadline(source):
    started = time.monotonic()
    code = StudentCode([("a", source), ("b", "def f():\n    return 1.0")], cell_timeout=2, start_timeout=4)
    try:
        code.ensure_started()  # the lying cell is skipped, the others run
        assert code.f() == 1.0 and code.cell_errors[0]["cell"] == "a"
    except StudentCallError:
        pass  # or the whole start-up fails: either way within its deadline
    finally:
        code.close()
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("reply", [b"b'[' * 10**6", b"b'{\"a\": ' * 10**5"])
def test_a_deeply_nested_reply_is_the_students_fault(reply):
    """At start-up the cell that sent it is skipped; in answer to a call, the call fails; nothing is left running."""
    source = FORGE + "os.write(reply, " + reply.decode() + " + b'\\n')\n"
    with StudentCode([("a", source), ("b", "def f():\n    return 1.0")], cell_timeout=5, start_timeout=10) as code:
        assert code.f() == 1.0
        assert "not a reply" in code.cell_errors[0]["error"]
    call = FORGE + "def g():\n    os.write(reply, " + reply.decode() + " + b'\\n')\n    time.sleep(60)"
    with StudentCode([("a", call)]) as code:
        with pytest.raises(ProtocolError, match="not a reply"):
            code.g()
        assert code._process is None  # the worker was stopped, not left running


def test_the_protocol_code_is_out_of_reach_by_name():
    source = ("import sys, __main__\n"
              "assert 'worker' not in sys.modules and not hasattr(__main__, 'serve_call')\n"
              "for module in list(sys.modules.values()):\n"
              "    if hasattr(module, 'serve_call'):\n"
              "        module.serve_call = lambda *a: {'ok': True, 'value': 1.0, 'args_after': [None]}\n"
              "def f(x):\n    x[:] = 0\n    return 2.0\n")
    with StudentCode([("a", source)]) as code:
        assert code.cell_errors == []
        x = np.ones(3)
        result = code.call("f", x)
        assert result.value == 2.0
        assert np.array_equal(result.args_after[0], np.zeros(3))  # the mutation is seen


def test_the_type_of_a_result_is_decided_by_the_grader():
    source = "class int(float):\n    pass\ndef f():\n    return int(3.0)\ndef g():\n    return 3"
    with StudentCode([("a", source)]) as code:
        assert code.call("f").type_name == "float"
        assert code.call("g").type_name == "int"


def test_refused_packages_cannot_be_imported_without_a_sandbox_either():
    source = "def f():\n    import torch\n    return 1.0"
    with StudentCode([("a", source)], hidden_packages=("torch",)) as code:
        with pytest.raises(StudentCallError, match="not available"):
            code.f()


@pytest.mark.parametrize("source", [
    # an ndarray subclass that claims equality with anything: only its data crosses, and it is wrong
    "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
    "def f(x):\n    return np.zeros(3).view(Liar)",
    # an object that turns into the right array on demand is not an array
    "class Lazy:\n    def __array__(self, dtype=None, copy=None):\n        return np.ones(3)\n"
    "def f(x):\n    return Lazy()",
    "def f(x):\n    return np.full(3, np.nan)",
])
def test_objects_that_lie_fail_the_check(source):
    from autograder.checking import CheckFailure, assert_close
    with StudentCode([("1", "import numpy as np"), ("2", source)]) as code:
        with pytest.raises((CheckFailure, StudentCallError)):
            assert_close(code.f(np.ones(3)), np.ones(3), "f")


def test_a_function_written_by_the_grader_can_be_passed_to_student_code():
    from autograder.codec import Function
    result, _ = run("def apply(f, x):\n    return f(x)", "apply", Function("lambda x: np.sin(x) * 2"),
                    np.array([0.0, 1.0]))
    assert np.allclose(result.value, 2 * np.sin([0.0, 1.0]))


def test_a_kept_result_stays_in_the_worker_and_can_be_passed_back():
    from autograder.codec import Kept, Opaque
    source = ("def forward(x):\n    return x * 3, {'x': x, 'note': object()}\n"
              "def backward(d, cache):\n    return d * cache['x']")
    with StudentCode([("1", source)]) as code:
        first = code.call("forward", np.array([1.0, 2.0]), _keep="fwd")
        out, cache = first.value
        assert np.array_equal(out, [3.0, 6.0]) and cache == Opaque("dict")
        grad = code.backward(np.array([10.0, 10.0]), Kept("fwd", (1,)))
        assert np.array_equal(grad, [10.0, 20.0])
        with pytest.raises(StudentCallError, match="returned earlier could not be used"):
            code.backward(np.array([1.0]), Kept("never-kept", (1,)))


def test_a_call_may_be_given_a_longer_timeout():
    with StudentCode([("1", "import time\ndef slow():\n    time.sleep(1.5)\n    return 1.0")], call_timeout=1) as code:
        assert code.call("slow", _timeout=5).value == 1.0


def probe_module(tmp_path, source):
    """A probe module as the checks hold them: a file the grader imports, whose source the worker runs."""
    import importlib.util
    path = tmp_path / "probes.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("probes_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_probe_module_gets_the_students_functions_as_arguments(tmp_path):
    from autograder.codec import Student
    probes = probe_module(tmp_path, "import numpy as np\n\n\ndef probe(double, n):\n    return double(np.arange(n))\n")
    assert np.array_equal(probes.probe(lambda x: 2 * x, 3), [0, 2, 4])  # the grader imports the same module
    with StudentCode([("1", "import numpy as np\ndef double(x):\n    return 2 * x")]) as code:
        assert np.array_equal(code.call("probe", Student("double"), 3, _program=probes).value, [0, 2, 4])
        with pytest.raises(StudentCallError, match="probe is not defined"):
            code.probe(3)  # the probe's names do not enter the student's namespace
        with pytest.raises(StudentCallError, match="^triple is not defined"):
            code.call("probe", Student("triple"), 3, _program=probes)


def test_a_probe_that_fails_is_named_by_its_file(tmp_path):
    from autograder.codec import Student
    probes = probe_module(tmp_path, "def probe(f):\n    return f() + undefined_name\n")
    with StudentCode([("1", "def one():\n    return 1.0")]) as code:
        with pytest.raises(StudentCallError, match="NameError"):
            code.call("probe", Student("one"), _program=probes)


def test_a_returned_dict_is_named_as_such():
    with StudentCode([("a", "def f():\n    return {'a': 1.0}")]) as code:
        with pytest.raises(StudentCallError, match="returned a dict"):
            code.f()

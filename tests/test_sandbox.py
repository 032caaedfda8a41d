"""The sandbox around student code: the shared library is visible, nothing else of the course is;
what it writes is bounded memory that vanishes with it; no host socket takes it for the grader."""
import os
import shutil
import socket
import struct
import tempfile

import pytest

from autograder import course
from autograder.proxy import StudentCode
from autograder.sandbox import NOBODY, Limits, Sandbox

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (make test installs it)")

PROBE = '''
import os, socket
def can_import(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False
def sees(path):
    return os.path.exists(path)
def can_write(path):
    try:
        open(path, "w").close()
        return True
    except OSError:
        return False
def bytes_written(path, mib):
    """How many MiB could be written to path, 1 MiB at a time."""
    written = 0
    try:
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(b"x" * 2**20)
                f.flush()
                written += 1
    except OSError:
        pass
    return written
def files_written(folder, count, mib):
    total = 0
    for i in range(count):
        total += bytes_written(os.path.join(folder, f"f{i}"), mib)
    return total
def uid():
    return os.getuid()
def connects(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
'''


@pytest.fixture(scope="module")
def sandboxed():
    with StudentCode([("1", PROBE)], sandbox=Sandbox(limits=Limits(scratch_bytes=32 * 2**20))) as code:
        yield code


def test_student_code_can_import_the_shared_library(sandboxed):
    assert sandboxed.can_import("actlab.plots") is True


def test_student_code_sees_no_hidden_check_and_no_solution(sandboxed):
    assert sandboxed.sees(str(course.CHECKS / "activations")) is False
    assert sandboxed.sees(str(course.SOLUTIONS)) is False
    assert sandboxed.sees(str(course.REPO / "actlab" / "plots.py")) is True


def test_student_code_writes_to_no_host_folder(sandboxed, tmp_path):
    os.chmod(tmp_path, 0o777)  # even a folder open to everyone
    for folder in [tmp_path, course.REPO / "actlab", course.REPO, "/var/tmp", "/root"]:
        assert sandboxed.can_write(os.path.join(str(folder), "mine.txt")) is False, folder
    assert list(tmp_path.iterdir()) == []


def test_its_private_tmp_and_shared_memory_are_bounded(sandboxed):
    assert sandboxed.can_write("/tmp/mine.txt") is True
    # 32 MiB each: more fails with "no space left", however it is split into files
    assert sandboxed.bytes_written("/tmp/big", 100) <= 32
    assert sandboxed.files_written("/tmp", 10, 8) <= 32
    assert sandboxed.bytes_written("/dev/shm/big", 100) <= 32


@pytest.mark.skipif(os.geteuid() != 0, reason="student code runs as another user only when the grader is root")
def test_student_code_runs_as_nobody_and_no_host_socket_takes_it_for_the_grader(sandboxed):
    assert sandboxed.uid() == NOBODY
    assert sandboxed.sees("/run/postgresql") is False and sandboxed.sees("/var/run/postgresql") is False
    # a socket open to every user, in a folder the sandbox sees: the peer it reports is `nobody`
    folder = tempfile.mkdtemp(dir="/var/tmp")
    try:
        os.chmod(folder, 0o755)
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(f"{folder}/s")
            os.chmod(f"{folder}/s", 0o777)
            server.listen()
            assert sandboxed.connects(f"{folder}/s") is True
            peer, _ = server.accept()
            with peer:
                _, uid, _ = struct.unpack("3i", peer.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        assert uid == NOBODY
    finally:
        shutil.rmtree(folder)


def test_a_numpy_assignment_cannot_import_torch():
    hides = course.hidden_packages("derivatives")
    assert "torch" in hides and course.hidden_packages("lab_autograd") == ()
    with StudentCode([("1", PROBE)], sandbox=Sandbox(hidden_packages=hides)) as code:
        assert code.can_import("torch") is False
        assert code.can_import("numpy") is True
    with StudentCode([("1", PROBE)], sandbox=Sandbox()) as code:
        assert code.can_import("torch") is True


def ended_child() -> int:
    """The pid of a child that has exited and is not reaped yet: a zombie, as a killed grader's workers are."""
    import time
    pid = os.posix_spawn("/bin/true", ["true"], os.environ)
    for _ in range(100):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return pid
        time.sleep(0.02)
    raise AssertionError("the child did not end")


def test_a_process_that_ended_is_not_running_though_it_is_not_reaped():
    from autograder.sandbox import _running
    assert _running(os.getpid())
    pid = ended_child()
    assert os.path.exists(f"/proc/{pid}") and not _running(pid)
    os.waitpid(pid, 0)
    assert not _running(pid)


def test_the_cgroups_of_ended_graders_are_removed_and_those_of_running_ones_kept():
    from autograder.sandbox import make_pids_cgroup, remove_stale_cgroups
    mine = make_pids_cgroup(10)
    if mine is None:
        pytest.skip("this machine lets the grader make no pids cgroup")
    ended = ended_child()
    theirs = mine.parent / f"autograder-{ended}-0123abcd"
    theirs.mkdir()
    try:
        remove_stale_cgroups()
        assert mine.is_dir() and not theirs.exists()
    finally:
        os.waitpid(ended, 0)
        for path in (mine, theirs):
            if path.exists():
                path.rmdir()

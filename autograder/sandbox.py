"""Run student code in a bubblewrap sandbox with resource limits.

Inside, the whole file system is read-only; the course repository (all but its virtual
environment, the worker script and its codec, and the shared library), the grading output folder (gradebook,
other students' files), the submissions folder, the gradebook's own folder and every host socket
folder (`/run`, `/tmp`) are hidden behind empty folders. What the student may write is memory of a
fixed size (`/tmp`, `/dev/shm`) that vanishes with the sandbox; the one host folder a sandbox ever
writes to is a kernel's socket folder, made read-only to it before any student code runs. When the
grader runs as root, student code runs as the unprivileged user `nobody`, so no host socket takes
it for the grader. There is no network and a private process tree that dies with its parent.
`prlimit` caps CPU time, memory, file size and open files; a pids cgroup, when one can be made,
caps the number of processes (a fork bomb).
"""
from __future__ import annotations

import asyncio
import atexit
import multiprocessing.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import course

NOBODY = 65534  # uid and gid of student code when the grader runs as root
NO_MODULE = Path(__file__).resolve().parent / "no_module"  # stands in for a package an assignment may not use


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class Limits:
    cpu_seconds: int = 120
    memory_bytes: int = 4 * 2**30
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 64
    scratch_bytes: int = 256 * 2**20  # each of /tmp and /dev/shm: memory, so it is bounded too


@dataclass
class Sandbox:
    hide: list = field(default_factory=list)  # folders the student must not see, besides the repository
    limits: Limits = field(default_factory=Limits)
    enabled: bool = True
    hidden_packages: tuple = ()  # top-level packages of the venv that import as "not available" (e.g. torch)
    as_nobody: bool = field(default_factory=lambda: os.geteuid() == 0)
    _cgroup: object = None  # False: tried, none available

    def process_cap(self) -> list[str]:
        """A prefix that moves the sandbox into a pids cgroup before it starts (empty if none)."""
        if self._cgroup is None or (self._cgroup and not self._cgroup.is_dir()):
            self._cgroup = make_pids_cgroup(self.limits.processes) or False
        if not self._cgroup:
            return []
        return ["sh", "-c", f'echo $$ > {self._cgroup}/cgroup.procs && exec "$@"', "sandbox"]

    def command(self, argv: list[str], writable: list[Path] = (), cwd: str = "/tmp", kernel: bool = False) -> list[str]:
        """`argv` wrapped so that it runs sandboxed, able to write only to `writable`, to a private /tmp
        (its working folder by default) and /dev/shm."""
        if not self.enabled:
            return list(argv)
        limits = self.limits
        wrapped = self.process_cap() + ["prlimit", f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_bytes}",
                   f"--fsize={limits.file_bytes}", f"--nofile={limits.open_files}"]
        if not self._cgroup and (os.geteuid() != 0 or self.as_nobody):
            wrapped.append(f"--nproc={limits.processes + _processes_of(NOBODY if self.as_nobody else os.geteuid())}")
        size = str(limits.scratch_bytes)
        wrapped += ["--", "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                    "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
                    "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
                    "--size", "65536", "--tmpfs", "/run"]  # /var/run is a link to /run
        covered = [Path("/tmp"), *(Path(p).resolve() for p in [course.REPO, *self.hide])]
        for path in covered[1:]:
            wrapped += ["--size", "65536", "--tmpfs", str(path)]
        # the Python installation, the virtual environment and the course's shared library (labs import
        # it), the one part of the repository student code sees
        here = Path(__file__).resolve()
        for path in [Path(sys.base_prefix).resolve(), Path(sys.prefix), here.with_name("worker.py"),
                     here.with_name("codec.py"), course.REPO / "actlab"]:
            wrapped += self._reachable(path, covered) + ["--ro-bind", str(path), str(path)]
        for package in self.hidden_packages:
            for folder in _package_folders(package):
                wrapped += ["--ro-bind", str(NO_MODULE), str(folder)]
        for path in map(Path.resolve, map(Path, writable)):
            wrapped += self._reachable(path, covered) + ["--bind", str(path), str(path)]
        wrapped += ["--die-with-parent", "--new-session", "--chdir", str(cwd), "--setenv", "HOME", "/tmp"]
        if kernel:  # in its own pid namespace the kernel would see parent pid 1 and exit at once
            wrapped += ["--unsetenv", "JPY_PARENT_PID"]
        if self.as_nobody:
            # bwrap runs as root without a user namespace, so that the uid below is the host's `nobody`;
            # setpriv drops to it, with no capability left, before anything of the student's runs
            wrapped += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                        "--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs",
                        "--inh-caps=-all", "--bounding-set=-all"]
        else:
            wrapped += ["--unshare-all", "--cap-drop", "ALL"]
        return wrapped + ["--"] + list(argv)

    def _reachable(self, path: Path, covered: list[Path]) -> list[str]:
        """Folders bwrap makes on the way to `path` (inside a `covered` folder, an empty one laid over the
        host's) are made enterable by everyone; for `nobody`, a folder only its owner may enter (a Python
        installed in /root) is first replaced by such an empty one, once: `covered` records it, so that
        a later path under the same folder does not hide what an earlier one bound there."""
        prefix = []
        if self.as_nobody:
            for ancestor in reversed(path.parents):
                if ancestor != Path("/") and not ancestor.stat().st_mode & 0o001:
                    if ancestor not in covered:
                        prefix = ["--perms", "0755", "--size", "65536", "--tmpfs", str(ancestor)]
                        covered.append(ancestor)
                    break
        inside = [c for c in covered if path.is_relative_to(c) and path != c]
        if not inside:
            return prefix
        top = max(inside, key=lambda c: len(c.parts))
        between = [p for p in reversed(path.parents) if p.is_relative_to(top) and p != top]
        return prefix + [a for p in between for a in ("--perms", "0755", "--dir", str(p))]

    def check(self):
        """Raise SandboxUnavailable with what to do when bubblewrap cannot run here."""
        if not self.enabled:
            return
        for tool, package in [("bwrap", "bubblewrap"), ("prlimit", "util-linux"), ("setpriv", "util-linux")]:
            if shutil.which(tool) is None:
                raise SandboxUnavailable(f"`{tool}` is not installed: install it (apt-get install {package}), "
                                         "or pass --unsafe-no-sandbox to grade without isolation")
        probe = subprocess.run(self.command(["true"]), capture_output=True, text=True)
        if probe.returncode != 0:
            raise SandboxUnavailable(f"bubblewrap cannot create its sandbox here ({probe.stderr.strip()[:300]}); "
                                     "pass --unsafe-no-sandbox to grade without isolation")

    def owned_by_student(self, path: Path, mode: int):
        """Let the sandbox's user use `path` (a file or folder the grader made) with `mode`."""
        if self.enabled and self.as_nobody:
            os.chown(path, -1, NOBODY)
        os.chmod(path, mode)


def _package_folders(package: str) -> list[Path]:
    """Where `package` lives in the virtual environment (nothing if it is not installed)."""
    import importlib.util
    spec = importlib.util.find_spec(package)
    return [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []


def _processes_of(uid: int) -> int:
    return sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid)


def _owner(path: Path):
    try:
        return path.stat().st_uid
    except OSError:
        return None


def make_pids_cgroup(limit: int) -> Path | None:
    """A fresh pids cgroup allowing `limit` processes, or None where this machine allows none."""
    for root in [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]:
        if not (root / "cgroup.procs").exists():
            continue
        path = root / f"autograder-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # the pid: see remove_stale_cgroups
        try:
            path.mkdir()
        except OSError:
            continue
        try:
            (path / "pids.max").write_text(str(limit))
            atexit.register(_remove_cgroup, path)
            # pool workers leave through os._exit, which skips atexit but runs these finalizers
            multiprocessing.util.Finalize(None, _remove_cgroup, args=(path,), exitpriority=10)
            return path
        except OSError:
            _remove_cgroup(path)
    return None


def remove_stale_cgroups():
    """Remove the pids cgroups that graders killed with SIGKILL left (they cannot remove their own): those of
    a process that no longer exists, never those of another grading run on the machine."""
    for root in [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]:
        for path in root.glob("autograder-*"):
            owner = path.name.split("-")[1]
            if not owner.isdigit() or not _running(int(owner)):
                _remove_cgroup(path)  # fails, and keeps it, while a process is still in it


def _running(pid: int) -> bool:
    """Whether the process exists and has not ended: a killed process stays a zombie until it is reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def die_with_parent():
    """This process gets SIGKILL when its parent dies, and with it the sandboxes it started (bubblewrap's
    --die-with-parent). A pool worker's parent is the pool's fork server, which exits with the grader, even
    one killed with SIGKILL."""
    import ctypes
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != parent:  # the parent died before the call
        os._exit(1)


def _remove_cgroup(path: Path):
    try:
        path.rmdir()
    except OSError:
        pass


def kill_processes_mentioning(marker: str):
    """SIGKILL every process whose command line holds `marker` (a sandbox's private folder)."""
    needle = marker.encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if needle in f.read():
                    os.kill(int(pid), 9)
        except OSError:
            pass


# -- the Jupyter kernel in which nbgrader executes a submission ------------------------------------
from jupyter_client import AsyncKernelManager  # noqa: E402
from traitlets import Unicode  # noqa: E402
from traitlets.config import Config  # noqa: E402


_JAILS: dict = {}  # run_dir (str) -> KernelJail: the kernels' folders in use in this process


def stop_kernels():
    """Kill every sandboxed kernel of this process now (safe in a signal handler)."""
    for run_dir in list(_JAILS):
        kill_processes_mentioning(run_dir)


def socket_parent() -> str:
    """TMPDIR when a socket path under it stays far below the 107-byte limit, else /tmp."""
    parent = tempfile.gettempdir()
    return parent if len(parent) <= 60 else "/tmp"


@dataclass
class KernelJail:
    """Where one submission's kernel runs: a short socket folder of its own, independent of the student id
    and of the output folder (an IPC socket path may not exceed 107 bytes), removed by `close`. It is made in
    the temporary folder (TMPDIR) when that path is short, else in /tmp."""
    sandbox: Sandbox
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ag-", dir=socket_parent())))

    def __post_init__(self):
        _JAILS[str(self.run_dir)] = self

    def kernel_config(self) -> Config:
        """The configuration that starts an nbgrader run's kernel in this jail: one run's, never a later one's."""
        config = Config()
        config.SandboxedKernelManager.jail_dir = str(self.run_dir)
        return config

    def close(self):
        _JAILS.pop(str(self.run_dir), None)
        kill_processes_mentioning(str(self.run_dir))
        shutil.rmtree(self.run_dir, ignore_errors=True)  # never follows a link the student planted


class SandboxedKernelManager(AsyncKernelManager):
    """nbgrader's kernel, started inside the KernelJail that its configuration names (`jail_dir`).

    The kernel speaks to nbgrader over IPC sockets in its own short-lived folder: it needs no network,
    and kernels graded in parallel never pick the same socket names. Its working folder is the
    sandbox's private /tmp, not the folder where nbgrader writes the executed notebook, so no link
    a notebook plants can redirect what the grader writes.
    """

    jail_dir = Unicode("", help="run_dir of the open KernelJail to start the kernel in (KernelJail.kernel_config); "
                       "empty: no jail").tag(config=True)
    socket_wait_s = 60.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.jail: KernelJail | None = _JAILS.get(self.jail_dir) if self.jail_dir else None
        if self.jail_dir and self.jail is None:  # an nbgrader run that outlived its deadline: its jail is gone
            raise RuntimeError(f"the kernel's jail {self.jail_dir} is closed")
        if self.jail is not None:
            self.transport = "ipc"
            self.ip = str(self.jail.run_dir / "k")
            self.connection_file = str(self.jail.run_dir / "kernel.json")
            self.jail.sandbox.owned_by_student(self.jail.run_dir, 0o770)

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self.jail is not None:
            self.jail.sandbox.owned_by_student(Path(self.connection_file), 0o640)

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        if self.jail is None or not self.jail.sandbox.enabled:
            return argv
        # what the kernel prints itself (not the notebook's output) goes to a log beside its sockets
        quiet = ["sh", "-c", f'exec "$@" >>{self.jail.run_dir}/kernel.log 2>&1', "kernel"]
        return self.jail.sandbox.command(quiet + argv, writable=[self.jail.run_dir], kernel=True)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # the settings of processes that run student code (the labs' size), never set in the grader's own
        kw["env"] = {**(kw.get("env") or os.environ), **course.GRADING_ENV}
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.jail is not None and self.jail.sandbox.enabled and self.jail.sandbox.as_nobody:
            await self._close_socket_folder()

    async def _close_socket_folder(self):
        """Once the kernel has made its sockets (before it runs any cell), its folder becomes read-only to it:
        the student can write no file there, nor swap a socket for a link."""
        ports = [self.shell_port, self.iopub_port, self.stdin_port, self.hb_port, self.control_port]
        sockets = [Path(f"{self.ip}-{port}") for port in ports]
        deadline = time.monotonic() + self.socket_wait_s
        while not all(s.exists() for s in sockets) and time.monotonic() < deadline:
            if self.provisioner is not None and await self.provisioner.poll() is not None:
                break  # the kernel died: nbclient reports it
            await asyncio.sleep(0.02)
        os.chmod(self.jail.run_dir, 0o750)

"""Run student code in a bubblewrap sandbox with resource limits.

Inside, the whole file system is read-only; the course repository (all but its virtual
environment and the worker script), the grading output folder (gradebook, other students'
files) and the submissions folder are hidden behind empty folders; only the student's own
scratch folder is writable; there is no network and a private process tree that dies with its
parent. `prlimit` caps CPU time, memory, file size and open files; a pids cgroup, when one can be
made, caps the number of processes (a fork bomb), as RLIMIT_NPROC does not bind root.
"""
from __future__ import annotations

import atexit
import multiprocessing.util
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import course


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class Limits:
    cpu_seconds: int = 120
    memory_bytes: int = 4 * 2**30
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 64


@dataclass
class Sandbox:
    hide: list = field(default_factory=list)  # folders the student must not see, besides the repository
    limits: Limits = field(default_factory=Limits)
    enabled: bool = True
    _cgroup: object = None  # False: tried, none available

    def process_cap(self) -> list[str]:
        """A prefix that moves the sandbox into a pids cgroup before it starts (empty if none)."""
        if self._cgroup is None:
            self._cgroup = make_pids_cgroup(self.limits.processes) or False
        if not self._cgroup:
            return []
        return ["sh", "-c", f'echo $$ > {self._cgroup}/cgroup.procs && exec "$@"', "sandbox"]

    def command(self, argv: list[str], writable: list[Path], cwd: Path, kernel: bool = False) -> list[str]:
        """`argv` wrapped so that it runs sandboxed, able to write only to `writable`."""
        if not self.enabled:
            return list(argv)
        limits = self.limits
        wrapped = self.process_cap() + ["prlimit", f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_bytes}",
                   f"--fsize={limits.file_bytes}", f"--nofile={limits.open_files}"]
        if os.geteuid() != 0:
            wrapped.append(f"--nproc={limits.processes + _processes_of_this_user()}")
        wrapped += ["--", "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in [course.REPO, *self.hide]:
            wrapped += ["--tmpfs", str(Path(path).resolve())]
        venv = Path(os.environ.get("VIRTUAL_ENV") or Path(_python()).parent.parent)
        # the course's shared library (labs import it) is the one part of the repository student code sees
        for path in [venv, Path(__file__).resolve().with_name("worker.py"), course.REPO / "actlab"]:
            wrapped += ["--ro-bind", str(path), str(path)]
        for path in writable:
            wrapped += ["--bind", str(Path(path).resolve()), str(Path(path).resolve())]
        wrapped += ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                    "--chdir", str(Path(cwd).resolve()), "--setenv", "HOME", str(Path(cwd).resolve())]
        if kernel:  # in its own pid namespace the kernel would see parent pid 1 and exit at once
            wrapped += ["--unsetenv", "JPY_PARENT_PID"]
        return wrapped + ["--"] + list(argv)

    def check(self):
        """Raise SandboxUnavailable with what to do when bubblewrap cannot run here."""
        if not self.enabled:
            return
        for tool, package in [("bwrap", "bubblewrap"), ("prlimit", "util-linux")]:
            if shutil.which(tool) is None:
                raise SandboxUnavailable(f"`{tool}` is not installed: install it (apt-get install {package}), "
                                         "or pass --unsafe-no-sandbox to grade without isolation")
        probe = subprocess.run(self.command(["true"], [], Path("/")), capture_output=True, text=True)
        if probe.returncode != 0:
            raise SandboxUnavailable(f"bubblewrap cannot create its sandbox here ({probe.stderr.strip()[:300]}); "
                                     "pass --unsafe-no-sandbox to grade without isolation")


def _python() -> str:
    import sys
    return sys.executable


def _processes_of_this_user() -> int:
    uid = os.geteuid()
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
        path = root / f"autograder-{uuid.uuid4().hex[:12]}"
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


def _remove_cgroup(path: Path):
    try:
        path.rmdir()
    except OSError:
        pass


# -- the Jupyter kernel in which nbgrader executes a submission ------------------------------------
from jupyter_client import AsyncKernelManager  # noqa: E402


@dataclass
class KernelJail:
    sandbox: Sandbox
    notebook_dir: Path  # where nbgrader executes the notebook: the kernel's working folder
    run_dir: Path       # connection file and IPC sockets, shared with the grader


class SandboxedKernelManager(AsyncKernelManager):
    """nbgrader's kernel, started inside the sandbox described by `SandboxedKernelManager.jail`.

    The kernel speaks to nbgrader over IPC sockets in its student's own run folder: it needs no
    network, and kernels graded in parallel never pick the same socket names.
    """

    jail: KernelJail | None = None  # set by the grader before each submission

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.jail is not None:
            self.jail.run_dir.mkdir(parents=True, exist_ok=True)
            self.transport = "ipc"
            self.ip = str(self.jail.run_dir / "kernel")
            self.connection_file = str(self.jail.run_dir / f"kernel-{uuid.uuid4().hex[:8]}.json")

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        if self.jail is None or not self.jail.sandbox.enabled:
            return argv
        # what the kernel prints itself (not the notebook's output) goes to a log beside its sockets
        log = self.jail.run_dir / "kernel.log"
        quiet = ["sh", "-c", f'exec "$@" >>{log} 2>&1', "kernel"]
        return self.jail.sandbox.command(quiet + argv, writable=[self.jail.notebook_dir, self.jail.run_dir],
                                         cwd=self.jail.notebook_dir, kernel=True)

"""`make profile-grade`: where one submission's grading time goes, step by step.

Grades N generated submissions of `activations` (the bench's realistic class) one after another in this
process, exactly as `python -m autograder grade` does, with a timer around each step and around the parts
of nbgrader's run and of the hidden checks. nbgrader's run (its kernel) and the hidden checks (their worker)
run at the same time, so a submission takes about the longer of the two, plus the steps before and after.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from tqdm import tqdm

# (where, the attribute to time, what the README calls it); the indented ones are parts of the one above
PARTS = [
    ("autograder.grading_steps", "take_submission", "read the notebook, copy it for nbgrader"),
    ("autograder.nbgrader_run:GradingRun", "autograde", "nbgrader autograde (thread)"),
    ("nbclient.client:NotebookClient", "start_new_kernel", "  start the sandboxed kernel"),
    ("nbclient.client:NotebookClient", "start_new_kernel_client", "  wait until the kernel answers"),
    ("nbclient.client:NotebookClient", "execute_cell", "  execute the cells"),
    ("nbclient.client:NotebookClient", "_cleanup_kernel", "  shut the kernel down"),
    ("autograder.grading_steps", "run_hidden_checks", "hidden checks (beside nbgrader)"),
    ("autograder.proxy:StudentCode", "_start", "  start the sandboxed worker, run the cells"),
    ("autograder.grading_steps", "run_checks", "  run the checks (pytest)"),
    ("autograder.proxy:StudentCode", "call", "    calls into the worker"),
    ("autograder.grading_steps", "score", "score the cells"),
    ("autograder.grading_steps", "record_in_gradebook", "record in the gradebook"),
    ("autograder.grading_steps", "write_feedback", "write the feedback page"),
]


class Timers:
    def __init__(self):
        self.seconds = collections.defaultdict(float)
        self._lock = threading.Lock()
        self._depth = threading.local()

    def add(self, label, seconds):
        with self._lock:
            self.seconds[label] += seconds

    def wrap(self, function, label):
        """`function`, timed under `label`; a call inside another of the same label (a restart) counts once."""
        def outermost():
            depth = getattr(self._depth, label, 0)
            setattr(self._depth, label, depth + 1)
            return depth == 0

        def done(started, counted):
            setattr(self._depth, label, getattr(self._depth, label) - 1)
            if counted:
                self.add(label, time.perf_counter() - started)

        if asyncio.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed(*args, **kwargs):
                started, counted = time.perf_counter(), outermost()
                try:
                    return await function(*args, **kwargs)
                finally:
                    done(started, counted)
        else:
            @functools.wraps(function)
            def timed(*args, **kwargs):
                started, counted = time.perf_counter(), outermost()
                try:
                    return function(*args, **kwargs)
                finally:
                    done(started, counted)
        return timed


@contextlib.contextmanager
def timed_parts(timers: Timers):
    import importlib
    from . import grading_steps
    undo = []
    for where, attribute, label in PARTS:
        module, _, owner = where.partition(":")
        target = importlib.import_module(module)
        target = getattr(target, owner) if owner else target
        original = getattr(target, attribute)
        setattr(target, attribute, timers.wrap(original, label))
        undo.append((target, attribute, original))
    steps = grading_steps.STEPS
    grading_steps.STEPS = tuple(getattr(grading_steps, step.__name__) for step in steps)  # the timed ones
    try:
        yield
    finally:
        grading_steps.STEPS = steps
        for target, attribute, original in reversed(undo):
            setattr(target, attribute, original)


@contextlib.contextmanager
def cpu_clock():
    """A function that tells the CPU seconds used so far by this process and everything it started. A killed
    sandbox's processes are never waited for by the grader, so getrusage misses them: where this process may
    make a cpuacct cgroup (root, cgroup v1), it moves into one of its own, which counts every descendant."""
    group = Path(f"/sys/fs/cgroup/cpuacct/profile-grade-{os.getpid()}")
    try:
        group.mkdir()
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        def used():
            return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                       for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        used.complete = False
        yield used
        return
    try:
        def used():
            return int((group / "cpuacct.usage").read_text()) / 1e9
        used.complete = True
        yield used
    finally:
        (group.parent / "cgroup.procs").write_text(str(os.getpid()))
        with contextlib.suppress(OSError):
            group.rmdir()


def profile(n: int) -> str:
    from . import bench, course
    from .grading_steps import grade_submission
    from .nbgrader_run import GradingRun
    timers = Timers()
    with tempfile.TemporaryDirectory(prefix="profile-grade-") as tmp:
        tmp = Path(tmp)
        paths = []
        for i, content in enumerate(bench.submissions(n, realistic=True)):
            (tmp / "submissions" / f"s{i:03d}").mkdir(parents=True)
            paths.append(tmp / "submissions" / f"s{i:03d}" / "activations.ipynb")
            paths[-1].write_bytes(content)
        started = time.perf_counter()
        run = GradingRun("activations", tmp / "out", None, tmp / "submissions")
        run.prepare()
        setup = time.perf_counter() - started
        # the first submission warms this process up (imports, the checks' collection): timed apart
        warm_started = time.perf_counter()
        grade_submission(run, "warm-up", paths[0])
        warm_up = time.perf_counter() - warm_started
        with cpu_clock() as cpu_used, timed_parts(timers):
            cpu, started = cpu_used(), time.perf_counter()
            for i, path in enumerate(tqdm(paths, desc="profiling", unit="submission")):
                grade_submission(run, f"s{i:03d}", path)
            wall, cpu, complete = time.perf_counter() - started, cpu_used() - cpu, cpu_used.complete
    parts = {label: timers.seconds[label] / n for _, _, label in PARTS}
    nbgrader_parts = [label for _, _, label in PARTS[2:6]]
    parts["  nbgrader's own work (gradebook, preprocessors, files)"] = (
        parts[PARTS[1][2]] - sum(parts[label] for label in nbgrader_parts))
    order = [label for _, _, label in PARTS[:6]] + ["  nbgrader's own work (gradebook, preprocessors, files)"] + [
        label for _, _, label in PARTS[6:]]
    lines = [f"{n} submissions of activations (a realistic class), graded one at a time in one process; "
             f"{bench.machine()}", "", "| step | seconds per submission |", "| --- | --- |"]
    lines += [f"| {label.strip() if not label.startswith(' ') else '- ' * (label.count(' ', 0, 4) // 2) + label.strip()}"
              f" | {parts[label]:.3f} |" for label in order]
    lines += [f"| **a whole submission** (wall clock; nbgrader and the checks run at once) | {wall / n:.3f} |",
              f"| CPU time of the grader, kernel, worker and sandboxes"
              + ("" if complete else " (finished processes only: run as root for all)") + f" | {cpu / n:.3f} |",
              "", f"Once per run: nbgrader's course set-up {setup:.2f} s; the first submission {warm_up:.2f} s "
              "(imports, the checks' collection, PyTorch's references)."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=20, help="number of submissions (default 20)")
    args = parser.parse_args(argv)
    from . import course
    course.configure_nbgrader()
    print(profile(args.n))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

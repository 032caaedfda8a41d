"""The course library's one setting, read here and nowhere else: how large the labs' experiments are.

`ACTLAB_SIZE=smoke` runs every experiment at a size that merely runs each line: the grader sets it for the
processes that execute a submission (grades come from the hidden checks, not from the experiments), and
`python -m actlab.check --quick` for the notebook it checks. Unset or `full`, experiments run at the size
chosen for the device (see device.lab_size).
"""
from __future__ import annotations

import os

VARIABLE = "ACTLAB_SIZE"
SIZES = ("full", "smoke")


def lab_size_setting() -> str:
    """"full" or "smoke", from the environment; any other value is an error that names the choices."""
    value = os.environ.get(VARIABLE, "full").strip().lower() or "full"
    if value not in SIZES:
        raise ValueError(f"{VARIABLE}={os.environ[VARIABLE]!r} is not a lab size: use one of {', '.join(SIZES)}")
    return value


def environment(size: str) -> dict[str, str]:
    """The variables that give a process's labs this size."""
    if size not in SIZES:
        raise ValueError(f"{size!r} is not a lab size: use one of {', '.join(SIZES)}")
    return {VARIABLE: size}

"""Where a lab runs: the GPU when there is one, else the CPU with smaller sizes.

Every lab calls `pick_device()` once, prints `describe(device)`, and sizes its experiments with
`lab_size(device, cpu=..., gpu=...)`. When the grader executes a submitted lab (the setting
ACTLAB_SIZE=smoke, see settings.py), experiments run at a smoke-test size: grades come from the hidden
checks of what the student implemented, not from the experiments, which must merely run.
"""
from __future__ import annotations

import os
import platform

import torch

from .settings import lab_size_setting


def pick_device() -> torch.device:
    """cuda when a GPU is visible, else cpu (CPU runs use one thread per core, no busy-waiting)."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return torch.device("cpu")


def describe(device: torch.device) -> str:
    """One line for the reader: which device, and how big."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB, PyTorch {torch.__version__}"
    return (f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads, PyTorch {torch.__version__}")


def smoke_test() -> bool:
    """True when the grader runs the notebook only to check that it runs."""
    return lab_size_setting() == "smoke"


def lab_size(device: torch.device, cpu, gpu, smoke=None):
    """The size of an experiment on this device: `gpu` on cuda, `cpu` otherwise, `smoke` under the grader."""
    if smoke_test():
        return cpu if smoke is None else smoke
    return gpu if device.type == "cuda" else cpu


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)

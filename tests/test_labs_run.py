"""Every lab's solution notebook runs end to end on the CPU, at its CPU sizes, within three minutes."""
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from actlab import settings
from autograder import course

LABS = ["lab_shootout", "lab_speed", "lab_gradient_flow", "lab_dying_relu", "lab_autograd"]
LIMIT_S = 180


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_the_lab_runs_end_to_end_on_the_cpu_within_three_minutes(lab, tmp_path, monkeypatch):
    path = course.REPO / "solutions" / lab / f"{lab}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    # the kernel inherits this environment: CPU sizes (not the grader's smoke sizes), no OpenMP busy-waiting,
    # no GPU even where one is visible, and the venv's python for the kernel
    monkeypatch.setenv(settings.VARIABLE, "full")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    client = NotebookClient(notebook, timeout=LIMIT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    errors = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == [], errors
    assert seconds < LIMIT_S, f"{lab} took {seconds:.0f} s on the CPU"

"""Check a notebook before you submit it: `python -m actlab.check NOTEBOOK.ipynb [--quick]`.

Runs every cell in a fresh kernel, in the notebook's own folder, as JupyterLab's "Restart Kernel and
Run All Cells" does, and names each cell that raised an error: a test cell whose visible asserts fail,
a function that still raises NotImplementedError. It passes (exit status 0) when no cell raised one.
The notebook file is not changed. Passing the visible tests is a first check: the hidden checks that
grade the notebook test much more. `--quick` runs the labs' experiments at the tiny size the grader
uses, so a lab is checked in seconds rather than minutes.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import settings

QUOTES = "\"'"


def _title(cell) -> str:
    """A cell's nbgrader id and the first line of its docstring: `test_step ("step: ...")`."""
    name = cell.metadata.get("nbgrader", {}).get("grade_id", "a cell")
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return f"{name} ({first.strip(QUOTES)})" if first.startswith(('"""', "'''")) else name


def check_notebook(path, quick=False, timeout=None) -> tuple[list[str], int]:
    """Run every cell of the notebook at `path` in a fresh kernel. Returns (one line per cell that
    raised an error, the number of graded test cells); no line means every cell ran."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    env = {**os.environ, **settings.environment("smoke" if quick else "full")}
    problems = []
    try:
        # the kernel's own log lines (a notice about its transport) would only worry a reader
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except (CellTimeoutError, DeadKernelError) as error:  # the run stopped: report it with what ran
        problems.append(f"the run stopped: {type(error).__name__}: {str(error).strip().splitlines()[-1]}")
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                error = f"{output['ename']}: {output['evalue']}".rstrip(": ")
                if output["ename"] == "NotImplementedError":
                    error = "not answered yet (NotImplementedError)"
                problems.append(f"{_title(cell)}: {error}")
    tests = sum(1 for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade"))
    return problems, tests


def _cli() -> int:
    parser = argparse.ArgumentParser(prog="python -m actlab.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the notebooks to check")
    parser.add_argument("--quick", action="store_true", help="run lab experiments at the grader's tiny size")
    args = parser.parse_args()
    failed = 0
    for path in args.notebooks:
        print(f"Checking {path.name}: running every cell ...", flush=True)
        problems, tests = check_notebook(path, quick=args.quick)
        if problems:
            failed += 1
            print(f"FAILED: {len(problems)} cell(s) of {path.name} raised an error:")
            print("\n".join(f"  - {line}" for line in problems))
        else:
            print(f"PASSED: every cell of {path.name} ran and its {tests} visible test cells passed. "
                  "The hidden checks test more when you submit.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_cli())

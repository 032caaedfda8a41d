"""`python -m autograder.kit`: the course kit, which the book's Exercises page offers for download.

`make book` runs it once the book is built. It writes `_build/html/activation-functions-kit.zip`, whose
one folder, `activation-functions-kit/`, holds

    README.md                          for students: install, work, check a notebook before submitting
    actlab-<version>-py3-none-any.whl  the course library, with everything the notebooks import as dependencies
    exercises/<id>/<id>.ipynb          every released notebook
    book/                              the built HTML book, which the notebooks' links open (course.BOOK_URL)

Nothing in it comes from solutions/, autograder/ or tests/ (tests/test_wheel.py, tests/test_book.py).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import course

KIT = f"{course.COURSE_ID}-kit"  # the zip's name and its top folder
BUILT_BOOK = course.REPO / "_build" / "html"
# Never copied into a build of the wheel: what git ignores, and what an earlier in-place build left behind.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "_build", "build", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".jupyter_cache", ".ipynb_checkpoints", "grading", "gradebook.db")

README = """\
# Activation functions in neural networks: course kit

Everything you need to work on the course's exercises and labs on your own computer:

| what | where |
| --- | --- |
| the course book: open it in a web browser (it works offline) | `book/index.html` |
| the exercise and lab notebooks | `exercises/<name>/<name>.ipynb` |
| `actlab`, the small library the labs import; installing it installs everything the notebooks need | `{wheel}` |

## Set up, once

You need Python 3.11 or newer. Open a terminal in this folder (on Windows: *Command Prompt* or
*PowerShell*) and make a virtual environment, which keeps the course's packages apart from the rest of
your computer (where `python` is not found, type `python3`):

    python -m venv .venv

Activate it, in every new terminal: `source .venv/bin/activate` on Linux and macOS,
`.venv\\Scripts\\activate` on Windows. Then install, in one command:

    pip install "{wheel}[lab]"

This installs numpy, scipy, scikit-learn, matplotlib, PyTorch and JupyterLab (PyTorch is the largest
part: a few minutes to download). No compiler, `make` or Node.js is needed.

## Work

    jupyter lab

JupyterLab opens in your web browser, in this folder. Open a notebook under `exercises/`, replace every
`raise NotImplementedError()` with your code, and run the test cell under each function: its visible
asserts are a first check. The links in a notebook open the book's pages; if the math on such a page
shows as raw TeX inside JupyterLab, click *Trust HTML*, or read the book in your web browser.

The numpy exercises (`neuron`, `activations`, `derivatives`, `backprop`) must be answered with numpy:
PyTorch is not available when they are graded. The labs use PyTorch. They run on a laptop's CPU in a
minute or so each; where PyTorch sees an NVIDIA GPU they use it, with larger sizes. Each lab's page in
the book says how long it takes. `lab_speed` compiles kernels with `torch.compile`, which on a CPU needs
a C++ compiler (its page says which).

## Check a notebook before you submit it

In JupyterLab: *Kernel > Restart Kernel and Run All Cells*. Every cell must run without an error.
Or, in the terminal:

    python -m actlab.check exercises/neuron/neuron.ipynb

It runs every cell in a fresh kernel, without changing the file, and names each cell that fails.
`PASSED` means that every visible test passes; the hidden checks that grade the notebook test much
more. For a lab, add `--quick` to run its experiments at the tiny size the grader uses.

Submit the notebook as your course tells you. Keep its name, and do not rename its functions or
change their arguments.
"""


def build_wheel(into: Path) -> Path:
    """Build the actlab wheel into `into` and return it. setuptools builds in the source folder, so the
    build runs on a fresh copy of the project: no build/ or *.egg-info is left in the repository, and no
    stale file of an earlier build can slip into the wheel."""
    with tempfile.TemporaryDirectory(prefix="actlab-wheel-") as tmp:
        source = Path(tmp) / "project"
        shutil.copytree(course.REPO, source, ignore=NOT_SOURCE)
        # no build isolation: the environment's pinned setuptools builds it, with nothing to download
        subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                        "--quiet", "--wheel-dir", str(into)], check=True)
    (wheel,) = Path(into).glob("actlab-*-py3-none-any.whl")
    return wheel


def build_kit(out: Path, book: Path | None = BUILT_BOOK) -> Path:
    """Write the kit's zip to `out`; with `book=None`, a kit without the HTML book (for tests that do
    not need it)."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="kit-") as tmp:
        wheel = build_wheel(Path(tmp))
        files = {"README.md": README.format(wheel=wheel.name), wheel.name: wheel}
        for assignment in course.assignments():
            files[f"exercises/{assignment}/{assignment}.ipynb"] = course.EXERCISES / assignment / f"{assignment}.ipynb"
        if book is not None:
            for path in sorted(Path(book).rglob("*")):
                # an earlier kit inside the built book is not part of the book
                if path.is_file() and path.resolve() != out.resolve() and path.suffix != ".zip":
                    files[f"book/{path.relative_to(book).as_posix()}"] = path
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial")  # a reader never sees half a zip
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as kit:
            for name, content in files.items():
                if isinstance(content, str):
                    kit.writestr(f"{KIT}/{name}", content)
                else:
                    kit.write(content, f"{KIT}/{name}")
        partial.replace(out)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autograder.kit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=BUILT_BOOK, help="the built HTML book (default: %(default)s)")
    parser.add_argument("--out", type=Path, help=f"the zip to write (default: BOOK/{KIT}.zip)")
    args = parser.parse_args(argv)
    if not (args.book / "index.html").is_file():
        raise SystemExit(f"no built book in {args.book}: build it first (make book)")
    out = build_kit(args.out or args.book / f"{KIT}.zip", args.book)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()

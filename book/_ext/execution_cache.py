"""Reuse a chapter's executed outputs only while everything it runs is unchanged.

A local Sphinx extension (_config.yml's ``local_extensions``). jupyter-cache keys each notebook on its code
cells alone, but the chapters also import actlab and the book's helper modules, and what they print depends
on the pinned packages, the Python version and the lab size. So the cache lives in a folder named by a digest
of those (``_build/.execution_cache/<digest>`` in the book's source folder): a change to any of them executes
every chapter again, a changed chapter is executed again by jupyter-cache itself, and a build into another
output folder (the book's test) reuses what the last build of the same sources executed.
"""
import hashlib
import os
import shutil
import sys
from pathlib import Path

# what a chapter's kernel reads besides the chapter itself (relative to the book's source folder)
CODE_FOLDERS = ("actlab", "book")
ENVIRONMENT_FILES = ("requirements.txt", "pyproject.toml")
SIZE_VARIABLE = "ACTLAB_SIZE"  # actlab/settings.py's name; read here without importing the library
CACHES = Path("_build") / ".execution_cache"


def digest(source: Path) -> str:
    """A digest of the Python sources under CODE_FOLDERS, the environment files, Python's version and the lab
    size: the inputs of a chapter's outputs that jupyter-cache does not see."""
    hasher = hashlib.sha256(f"{sys.version}\n{os.environ.get(SIZE_VARIABLE, '')}\n".encode())
    files = [path for folder in CODE_FOLDERS for path in (source / folder).rglob("*.py")]
    files += [source / name for name in ENVIRONMENT_FILES if (source / name).is_file()]
    for path in sorted(files):
        if "__pycache__" in path.parts:
            continue
        hasher.update(f"{path.relative_to(source).as_posix()}\n".encode())
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()[:16]


def use_keyed_cache(app, config):
    """Point myst-nb at this digest's cache, and drop the caches of other digests (they cannot be reused)."""
    if config.nb_execution_cache_path:  # set on purpose in _config.yml (execute: cache:)
        return
    caches = Path(app.srcdir) / CACHES
    current = caches / digest(Path(app.srcdir))
    if caches.is_dir():
        for stale in caches.iterdir():
            if stale != current:
                shutil.rmtree(stale, ignore_errors=True)
    config.nb_execution_cache_path = str(current)


def setup(app):
    app.connect("config-inited", use_keyed_cache)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

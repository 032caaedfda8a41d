"""The book's execution cache (book/_ext/execution_cache.py) is reused only while everything a chapter runs is
unchanged: its key covers the code the chapters import, the pinned packages and the lab size."""
import importlib.util
import shutil

import pytest

from autograder import course

spec = importlib.util.spec_from_file_location("execution_cache", course.REPO / "book" / "_ext" / "execution_cache.py")
execution_cache = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execution_cache)


@pytest.fixture
def source(tmp_path):
    """A book's source folder with the files the key reads, as small copies."""
    for name in ["actlab/__init__.py", "actlab/nets.py", "book/_activations.py", "book/labs/_instruments.py",
                 "requirements.txt", "pyproject.toml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(course.REPO / name, tmp_path / name)
    (tmp_path / "book" / "neurons.md").write_text("# a chapter\n")
    return tmp_path


@pytest.mark.parametrize("changed", ["actlab/nets.py", "book/_activations.py", "book/labs/_instruments.py",
                                     "requirements.txt", "pyproject.toml"])
def test_a_change_to_what_the_chapters_import_or_install_changes_the_key(source, changed):
    before = execution_cache.digest(source)
    with open(source / changed, "a") as f:
        f.write("\n# changed\n")
    assert execution_cache.digest(source) != before


def test_a_new_module_of_the_library_changes_the_key(source):
    before = execution_cache.digest(source)
    (source / "actlab" / "extra.py").write_text("X = 1\n")
    assert execution_cache.digest(source) != before


def test_the_lab_size_changes_the_key(source, monkeypatch):
    monkeypatch.delenv("ACTLAB_SIZE", raising=False)
    full = execution_cache.digest(source)
    monkeypatch.setenv("ACTLAB_SIZE", "smoke")
    assert execution_cache.digest(source) != full


def test_a_chapters_own_text_and_compiled_files_leave_the_key_to_jupyter_cache(source):
    """jupyter-cache keys each chapter on its code cells itself; bytecode is not source."""
    before = execution_cache.digest(source)
    (source / "book" / "neurons.md").write_text("# a chapter, rewritten\n")
    (source / "actlab" / "__pycache__").mkdir()
    (source / "actlab" / "__pycache__" / "nets.cpython-311.pyc").write_bytes(b"\0")
    assert execution_cache.digest(source) == before


def test_the_build_uses_the_keys_cache_and_drops_the_others(source):
    class Config:
        nb_execution_cache_path = ""

    class App:
        srcdir = str(source)

    stale = source / "_build" / ".execution_cache" / "0123456789abcdef"
    stale.mkdir(parents=True)
    config = Config()
    execution_cache.use_keyed_cache(App(), config)
    assert config.nb_execution_cache_path == str(source / "_build" / ".execution_cache" / execution_cache.digest(source))
    assert not stale.exists()
    chosen = Config()
    chosen.nb_execution_cache_path = "/somewhere/chosen"
    execution_cache.use_keyed_cache(App(), chosen)
    assert chosen.nb_execution_cache_path == "/somewhere/chosen"

"""What a failed hidden check probably means, in a student's words: each assignment's table of misconceptions.

The table is `autograder/checks/<ID>/misconceptions.toml`, written for teachers to read and edit. A check's
message says what is wrong (a CheckFailure: "3 of 8 values are wrong", "caused a numpy warning: overflow");
the table says why that usually happens, what to try and where the book explains it. The first entry whose
`checks` name the failed check and whose `message` (a regular expression) occurs in its message explains it.
"""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import course

FIELDS = {"checks", "message", "means", "fix", "section"}


class TableError(ValueError):
    """A misconceptions table that cannot be used, with the file and the entry at fault."""


@dataclass(frozen=True)
class Misconception:
    key: str
    checks: tuple[str, ...]  # check names with their case, "*" for any text: "test_large_inputs*[sigmoid]"
    message: str             # a regular expression the failure's message holds ("" for any failed check)
    means: str               # what the student probably did
    fix: str                 # what to try instead
    section: str             # the book's page and section: "activations#sec-sigmoid"

    def names(self, check: str) -> bool:
        """Whether `check` ("test_x[case]") is one of the entry's checks."""
        return any(re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), check) for pattern in self.checks)

    def explains(self, check: str, message: str) -> bool:
        return self.names(check) and re.search(self.message, message) is not None

    @property
    def hint(self) -> str:
        return f"{self.means}: {self.fix}"

    @property
    def url(self) -> str:
        page, _, anchor = self.section.partition("#")
        return f"{course.BOOK_URL}{page}.html" + (f"#{anchor}" if anchor else "")


def table_path(assignment: str) -> Path:
    return course.CHECKS / assignment / "misconceptions.toml"


@functools.cache
def table(assignment: str) -> tuple[Misconception, ...]:
    """The assignment's misconceptions, in the table's order (none when it has no table)."""
    path = table_path(assignment)
    if not path.exists():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TableError(f"{path.name} of {assignment} is not valid TOML: {exc}") from None
    entries = []
    for key, entry in data.items():
        where = f"entry [{key}] of {assignment}'s {path.name}"
        if not isinstance(entry, dict) or set(entry) - FIELDS or not FIELDS - {"message"} <= set(entry):
            raise TableError(f"{where} needs checks, means, fix and section (and may have message), nothing else")
        checks, message = entry["checks"], entry.get("message", "")
        if not isinstance(checks, list) or not checks or not all(isinstance(c, str) and c for c in checks):
            raise TableError(f"{where}: checks is a list of check names")
        if not all(isinstance(entry[f], str) and entry[f].strip() for f in ("means", "fix", "section")):
            raise TableError(f"{where}: means, fix and section are non-empty text")
        try:
            re.compile(message)
        except (re.error, TypeError) as exc:
            raise TableError(f"{where}: message is not a regular expression ({exc})") from None
        entries.append(Misconception(key, tuple(checks), message, entry["means"].strip(), entry["fix"].strip(),
                                     entry["section"].strip()))
    return tuple(entries)


def explain(assignment: str, check: str, message: str) -> Misconception | None:
    """The first misconception of the table that explains the failed `check` ("test_x[case]") with `message`."""
    return next((m for m in table(assignment) if m.explains(check, message)), None)

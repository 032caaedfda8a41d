"""The records nbgrader's exchange leaves beside a submitted notebook, read as nbgrader would read them."""
from __future__ import annotations

import re
from pathlib import Path

# What nbgrader's exchange writes beside a submitted notebook, and `nbgrader collect` keeps: the submission
# time (the gradebook records it) and a secret from which `nbgrader release_feedback` names the student's
# released feedback page, md5(secret + notebook name), the name the student's `fetch_feedback` looks for.
EXCHANGE_RECORDS = ("timestamp.txt", "submission_secret.txt")


def exchange_records(folder: Path, problems: list) -> dict[str, bytes]:
    """{name: content} of the exchange records beside a submitted notebook. One that nbgrader could not
    read (a link, a large file, a time it cannot parse) is left out, with a reason in `problems`."""
    records = {}
    for name in EXCHANGE_RECORDS:
        path = folder / name
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            plain = path.is_file() and not path.is_symlink() and path.stat().st_size < 1000
            content = path.read_bytes() if plain else b""
        except OSError:
            content = b""
        if valid_exchange_record(name, content):
            records[name] = content
        else:
            problems.append(f"the {name} beside the notebook could not be read; it was ignored")
    return records


def valid_exchange_record(name: str, content: bytes) -> bool:
    """Whether nbgrader can use it: a secret of printable characters, a time its parser reads."""
    from nbgrader.utils import parse_utc
    text = content.decode("ascii", "replace")
    if name == "submission_secret.txt":
        return bool(re.fullmatch(r"[\x21-\x7e]+", text))  # nbgrader writes 128 hex digits
    try:
        return bool(text.strip()) and parse_utc(text.strip()) is not None
    except (ValueError, OverflowError):
        return False

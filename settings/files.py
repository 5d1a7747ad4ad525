"""How every output file is written: whole or not at all, one writer at a time where shared.

A run killed mid-write (SIGKILL, power loss) must leave each output either as it was or complete:
`replaced` hands out a hidden temporary sibling to write and renames it onto the target only
when the writing finished (a rename within one folder is atomic on POSIX). A file that several
processes update by read-modify-write (the list log) is changed under `locked`, an exclusive
advisory lock on a sibling `.lock` file, so two `vigia rank` processes never drop each other's
rows.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write; renamed onto `path` if the block ends normally,
    removed if it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """`text` in UTF-8 at `path`, all or nothing."""
    with replaced(path) as partial:
        partial.write_text(text, encoding="utf-8")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for `path` (blocking until other holders release it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

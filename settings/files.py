"""How every output file is written: whole or not at all, one writer at a time where shared.

A run killed mid-write (SIGKILL, power loss) must leave each output either as it was or complete:
`replaced` hands out a hidden temporary sibling to write and renames it onto the target only
when the writing finished (a rename within one folder is atomic on POSIX). A file that several
processes update by read-modify-write (the list log) is changed under `locked`, an exclusive
advisory lock on a sibling `.lock` file, so two `vigia rank` processes never drop each other's
rows. A whole run holds its output root with `claimed`: one `vigia run` at a time, any number
of `vigia rank` together but never during a run, and a second comer is told so at once.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from settings.errors import InputError


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


RUN_LOCK = ".vigia.lock"


@contextmanager
def claimed(out_dir: Path, shared: bool) -> Iterator[None]:
    """Hold the output root for a run (exclusive) or a ranking (`shared` with other rankings);
    an `InputError` at once when another process holds it in a way that excludes this one."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / RUN_LOCK, "a") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"--out {out_dir}: another vigia run is writing there; wait for it "
                             "to finish or choose another --out") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

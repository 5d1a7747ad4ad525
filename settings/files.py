"""How every output file is written: whole or not at all, one writer at a time where shared.

A run killed mid-write (SIGKILL, power loss) must leave each output either as it was or complete:
`replaced` hands out a hidden temporary sibling to write and renames it onto the target only
when the writing finished (a rename within one folder is atomic on POSIX); `replaced_folder`
does the same for a folder, swapping the new one with the old in one step (Linux
renameat2 RENAME_EXCHANGE), so the folder is never missing or half deleted. What a killed writer
leaves behind (its hidden temporaries) is removed by the next run that holds the output root
alone (`remove_stale`). A file that several
processes update by read-modify-write (the list log) is changed under `locked`, an exclusive
advisory lock on a sibling `.lock` file, so two `vigia rank` processes never drop each other's
rows. A whole run holds its output root with `claimed`: one `vigia run` at a time, any number
of `vigia rank` together but never during a run, and a second comer is told so at once.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
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


PARTIAL_GLOB = ".*.partial"
STAGING_PREFIX = ".staging-"
AT_FDCWD, RENAME_EXCHANGE = -100, 2
_LIBC = ctypes.CDLL(None, use_errno=True)


def exchange(first: Path, second: Path) -> None:
    """Swap two existing paths in one atomic step (renameat2 with RENAME_EXCHANGE)."""
    if _LIBC.renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second),
                       RENAME_EXCHANGE) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), str(first))


@contextmanager
def replaced_folder(path: Path) -> Iterator[Path]:
    """A hidden staging folder beside `path` to fill; it takes the place of `path` in one atomic
    step if the block ends normally (the old folder, swapped out, is then removed), and is
    removed if the block raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{STAGING_PREFIX}{path.name}.{uuid.uuid4().hex}")
    staging.mkdir(mode=0o700)  # confidential lists: owner only
    try:
        yield staging
        if path.exists():
            exchange(staging, path)
        else:
            staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def stale(out_dir: Path) -> list[Path]:
    """What killed writers left under `out_dir`: hidden partial files, staging folders."""
    return [*Path(out_dir).rglob(PARTIAL_GLOB), *Path(out_dir).glob(f"{STAGING_PREFIX}*")]


def remove_stale(out_dir: Path) -> None:
    """Remove `stale` leftovers; only safe while holding the output root alone (`claimed`, not
    shared)."""
    for path in stale(out_dir):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


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
        if not shared:
            remove_stale(out_dir)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

"""A scanner for personal data in anything the pipeline wrote: files, databases, archives, logs.

Reusable beyond the quality gate: point it at a run's outputs, the MLflow store and the logs.
Every file is read as bytes (so SQLite pages, Parquet columns and HTML are covered) and read as
words in UTF-8, Latin-1 and UTF-16-LE, case-insensitively; zip containers
(xlsx, docx, zipped artifacts) are opened and their members scanned the same way, because their
XML is compressed and would hide a name from a plain byte search.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

ENCODINGS = ("utf-8", "latin-1", "utf-16-le")


def find_personal_data(paths: Iterable[Path], needles: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, needle) for every needle found in any file under `paths` (files or folders).

    A needle is found when its words occur in a row, whatever the case and the punctuation
    between them; each file is read once whatever the number of needles (every complainant of
    a world can be scanned)."""
    wanted: dict[tuple[str, ...], str] = {}
    for needle in needles:
        words = _words(needle)
        if words:
            wanted[words] = needle
    lengths = sorted({len(words) for words in wanted})
    firsts = {words[0] for words in wanted}
    hits = []
    for path in _files(paths):
        for blob in _blobs(path.read_bytes()):
            grams = _word_runs(blob, lengths, firsts)
            hits += [(path, wanted[words]) for words in grams & wanted.keys()]
    return list(dict.fromkeys(hits))


WORD = re.compile(r"\w+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(text.casefold()))


def _word_runs(blob: bytes, lengths: list[int], firsts: set[str]) -> set[tuple[str, ...]]:
    """Every run of `lengths` consecutive words in `blob` read in each encoding that starts with
    one of `firsts` (a needle's first word: no other run can be a needle)."""
    runs: set[tuple[str, ...]] = set()
    for encoding in ENCODINGS:
        words = _words(blob.decode(encoding, errors="ignore"))
        starts = [i for i, word in enumerate(words) if word in firsts]
        for n in lengths:
            runs.update(tuple(words[i:i + n]) for i in starts if i + n <= len(words))
    return runs


def _files(paths: Iterable[Path]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
    return files


def find_document_numbers(paths: Iterable[Path], numbers: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, number) for identity-document numbers found as whole tokens (not inside longer
    runs of digits or letters such as a float's decimals, or a timestamp's microseconds
    followed by a hexadecimal id in a SQLite record), in files and zip members."""
    wanted = {n.encode() for n in numbers if n}
    pattern = re.compile(rb"(?<![0-9A-Za-z])[0-9A-Z]{8,12}(?![0-9A-Za-z])")
    hits = []
    for path in _files(paths):
        for blob in _blobs(path.read_bytes()):
            for token in set(pattern.findall(blob)) & wanted:
                hits.append((path, token.decode()))
    return list(dict.fromkeys(hits))


def _blobs(data: bytes) -> list[bytes]:
    """The bytes of a file and, for zip containers, of each member."""
    blobs = [data]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            blobs += [archive.read(member) for member in archive.namelist()]
    return blobs

"""A scanner for personal data in anything the pipeline wrote: files, databases, archives, logs.

Reusable beyond the quality gate: point it at a run's outputs, the MLflow store and the logs.
Every file is read as bytes (so SQLite pages, Parquet columns and HTML are covered) and searched
for each needle in UTF-8, Latin-1 and UTF-16-LE, case-insensitively for text; zip containers
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
    """(file, needle) for every needle found in any file under `paths` (files or folders)."""
    patterns = _patterns([n for n in needles if n])
    hits = []
    for path in _files(paths):
        data = path.read_bytes()
        for needle in _needles_in(data, patterns):
            hits.append((path, needle))
    return hits


def _patterns(needles: list[str]) -> dict[str, list[bytes]]:
    """Byte forms of each needle: its encodings, in original, lower and upper case."""
    forms = {}
    for needle in needles:
        variants = {needle, needle.lower(), needle.upper()}
        encoded = set()
        for text in variants:
            for encoding in ENCODINGS:
                try:
                    encoded.add(text.encode(encoding))
                except UnicodeEncodeError:
                    continue
        forms[needle] = sorted(encoded)
    return forms


def _needles_in(data: bytes, patterns: dict[str, list[bytes]]) -> list[str]:
    found = [n for n, forms in patterns.items() if any(f in data for f in forms)]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                found += _needles_in(archive.read(member), patterns)
    return list(dict.fromkeys(found))


def _files(paths: Iterable[Path]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
    return files


def find_document_numbers(paths: Iterable[Path], numbers: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, number) for identity-document numbers found as whole numbers (not inside longer
    digit runs such as a float's decimals), in files and zip members."""
    wanted = {n.encode() for n in numbers if n}
    pattern = re.compile(rb"(?<![0-9])[0-9A-Z]{8,12}(?![0-9])")
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

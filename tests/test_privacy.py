"""The personal-data scanner finds a document number where a leak would put it, and only there."""

from __future__ import annotations

import zipfile
from pathlib import Path

from privacy import find_document_numbers


def test_document_numbers_are_found_as_whole_tokens_only(tmp_path: Path) -> None:
    leaks = {"log.txt": b"complainant doc: 39450401, received", "row.csv": b'7,"39450401"\n'}
    for name, content in leaks.items():
        (tmp_path / name).write_bytes(content)
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/sharedStrings.xml", "<t>39450401</t>")
    # not leaks: a float's decimals, a SQLite record's timestamp run into a hexadecimal id
    (tmp_path / "metrics.csv").write_bytes(b"0.139450401\n")
    (tmp_path / "prefect.db").write_bytes(b"Pending2026-12-08 00:59:33.39450401a25329-ba92")
    found = find_document_numbers([tmp_path], ["39450401"])
    assert sorted(path.name for path, _ in found) == ["book.xlsx", "log.txt", "row.csv"]

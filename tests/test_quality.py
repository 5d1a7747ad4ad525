"""The quality gate end to end: files written, GE verdicts, the stop, and privacy."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from privacy import find_personal_data
from support import SHIPPED
from worlds import (
    COMPLAINANT_DOCS,
    COMPLAINANT_NAMES,
    EXAMPLE_MAPPING,
    PERSON_NAME,
    REFERENCE_DATE,
    canonical_world,
    write_canonical,
    write_spanish_export,
)

from cleaning.quality import run_quality_gate
from cleaning.validation import DataContractError
from settings.loader import with_overrides

NEEDLES = (*COMPLAINANT_NAMES, *COMPLAINANT_DOCS, PERSON_NAME)
LENIENT = with_overrides(SHIPPED, {"quality": {"max_quarantine_share": 0.5}})


def broken_world() -> dict[str, pd.DataFrame]:
    """Three defects: a wrong check digit (and its references), a future date, an unknown topic."""
    world = canonical_world()
    ruc = world["workplaces"].loc[2, "ruc"]
    world["workplaces"].loc[2, "ruc"] = ruc[:10] + str((int(ruc[10]) + 1) % 10)
    new_id = world["workplaces"].loc[2, "ruc"] + "-0000"
    world["workplaces"].loc[2, "workplace_id"] = new_id
    world["inspections"].loc[[2, 22], "workplace_id"] = new_id
    world["complaints"].loc[2, "workplace_id"] = new_id
    world["inspections"].loc[25, "ordered_on"] = "2027-01-01"
    world["complaints"].loc[7, "topics"] = "unpaid_wages;brujeria"
    return world


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("clean")
    data = write_canonical(canonical_world(), base / "data")
    return data, base / "out", run_quality_gate(data, base / "out", LENIENT, REFERENCE_DATE)


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("broken")
    data = write_canonical(broken_world(), base / "data")
    return data, base / "out", run_quality_gate(data, base / "out", LENIENT, REFERENCE_DATE)


def test_valid_world_passes_every_expectation(clean_run) -> None:
    _, out, result = clean_run
    assert result.accounting["rows_quarantined"].tolist() == [0, 0, 0, 0]
    for table, info in result.summary["tables"].items():
        for stage in ("before_quarantine", "clean"):
            ge = info["great_expectations"][stage]
            assert ge["failed"] == [] and ge["passed"] == ge["evaluated"] > 5, (table, stage)
    for table, path in result.quarantine_paths.items():
        assert path == out / "quarantine" / f"{table}.csv"
        header = path.read_text().splitlines()
        assert len(header) == 1 and header[0].startswith("source_row,rule,detail,")
    assert (result.docs_dir / "index.html").is_file()
    assert len(list((result.docs_dir / "validations").rglob("*.html"))) == 8
    assert str(result.clean["inspections"]["ordered_on"].dtype) == "datetime64[ns]"


def test_broken_world_quarantines_each_defect_and_ge_shows_them(broken_run) -> None:
    _, out, result = broken_run
    accounting = result.accounting.set_index("table")
    assert accounting["rows_quarantined"].to_dict() == {
        "workplaces": 1, "inspections": 3, "complaints": 2, "registry_periods": 0}
    assert (accounting["rows_in"] == accounting["rows_clean"]
            + accounting["rows_quarantined"]).all()
    inspections = pd.read_csv(result.quarantine_paths["inspections"], dtype=str)
    assert dict(zip(inspections["source_row"], inspections["rule"], strict=True)) == {
        "3": "quarantined_workplace", "23": "quarantined_workplace", "26": "future_date"}
    complaints = pd.read_csv(result.quarantine_paths["complaints"], dtype=str)
    assert complaints["rule"].tolist() == ["quarantined_workplace", "unknown_code"]
    assert "complainant_name" not in complaints.columns
    summary = json.loads((out / "validation_summary.json").read_text())
    assert summary["tables"]["workplaces"]["rules"] == {"ruc_check_digit": 1}
    before = summary["tables"]["workplaces"]["great_expectations"]["before_quarantine"]
    assert before["failed"] == ["expect_column_values_to_be_in_set(ruc__check_digit_ok)"]
    failed_inspections = summary["tables"]["inspections"]["great_expectations"][
        "before_quarantine"]["failed"]
    assert sorted(failed_inspections) == [
        "expect_column_values_to_be_between(ordered_on)",
        "expect_column_values_to_be_in_set(workplace_id__exists)",
    ]
    assert summary["tables"]["complaints"]["great_expectations"]["clean"]["failed"] == []
    markdown = (out / "validation_summary.md").read_text()
    assert "| complaints | unknown_code | 1 |" in markdown
    for page in (out / "validation_summary.html", out / "data_docs" / "offline.html"):
        offline = page.read_text(encoding="utf-8")
        assert "<td>unknown_code</td>" in offline and "ruc__check_digit_ok" in offline
        assert "http" not in offline  # nothing to fetch: it renders without network


def test_nothing_the_gate_writes_holds_personal_data(clean_run, broken_run) -> None:
    for data, out, _ in (clean_run, broken_run):
        assert find_personal_data([out], NEEDLES) == []
        # The scanner does see the names where they are: in the input.
        assert {needle for _, needle in find_personal_data([data], NEEDLES)} == set(NEEDLES)


def test_too_much_quarantine_stops_after_writing_the_reports(tmp_path: Path) -> None:
    data = write_canonical(broken_world(), tmp_path / "data")
    with pytest.raises(DataContractError, match=r"inspections\.csv: 3 of 40 rows quarantined "
                                                r"\(7\.5%, limit 5\.0%\); most frequent rules: "
                                                r"quarantined_workplace \(2\), future_date \(1\)"):
        run_quality_gate(data, tmp_path / "out", SHIPPED,
                         REFERENCE_DATE)
    assert (tmp_path / "out" / "quarantine" / "inspections.csv").is_file()
    assert (tmp_path / "out" / "validation_summary.json").is_file()


def test_gate_reads_a_spanish_export_through_the_configured_mapping(tmp_path: Path) -> None:
    data = write_spanish_export(canonical_world(), tmp_path / "export")
    config = with_overrides(SHIPPED, {"data": {"mapping": str(EXAMPLE_MAPPING)}})
    result = run_quality_gate(data, tmp_path / "out", config, REFERENCE_DATE)
    assert result.summary["tables"]["inspections"]["source"] == "ordenes_inspeccion.csv"
    assert result.accounting["rows_clean"].tolist() == [20, 40, 20, 0]
    assert find_personal_data([tmp_path / "out"], NEEDLES) == []


def test_privacy_scanner_looks_inside_binary_and_zipped_files(tmp_path: Path) -> None:
    name, doc = COMPLAINANT_NAMES[1], COMPLAINANT_DOCS[0]
    book = Workbook()
    book.active["A1"] = name
    book.save(tmp_path / "list.xlsx")
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("create table t (v text)")
        db.execute("insert into t values (?)", (doc,))
    pd.DataFrame({"v": [name.upper()]}).to_parquet(tmp_path / "scores.parquet")
    (tmp_path / "log.txt").write_bytes(f"loaded {name}".encode("latin-1"))
    (tmp_path / "clean.txt").write_text("nothing personal here")
    hits = sorted((p.name, n) for p, n in find_personal_data([tmp_path], [name, doc]))
    assert hits == [("list.xlsx", name), ("log.txt", name), ("scores.parquet", name),
                    ("store.db", doc)]

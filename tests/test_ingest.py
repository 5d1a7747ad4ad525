"""Loading: canonical CSV and Parquet, a Spanish Latin-1 `;` export through the mapping, and the
broken files that must stop the run (empty, unreadable) or quarantine one row (truncated line)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import SHIPPED
from worlds import (
    EXAMPLE_MAPPING,
    KNOWN_UBIGEOS,
    REFERENCE_DATE,
    canonical_world,
    write_canonical,
    write_spanish_export,
)

from cleaning.ingest import load_mapping, load_raw_tables, read_employer_identity
from cleaning.validation import DataContractError, validate_tables


def validate(raw) -> object:
    return validate_tables(
        {t: r.frame for t, r in raw.items()},
        known_ubigeos=KNOWN_UBIGEOS,
        reference_date=REFERENCE_DATE,
        wrong_type_stop_share=SHIPPED.quality.max_wrong_type_share,
        sources={t: r.source for t, r in raw.items()},
    )


def test_canonical_csv_is_read_as_text_with_row_numbers_and_no_personal_columns(
    tmp_path: Path,
) -> None:
    raw = load_raw_tables(write_canonical(canonical_world(), tmp_path), None)
    complaints = raw["complaints"].frame
    assert list(complaints.index[:2]) == [1, 2] and complaints.index.name == "source_row"
    assert "complainant_name" not in complaints and "complainant_doc" not in complaints
    assert "name" not in raw["workplaces"].frame
    assert all(str(dtype) == "str" for dtype in raw["inspections"].frame.dtypes)
    assert raw["workplaces"].frame["contractor_of"].isna().sum() == 19
    assert raw["inspections"].source == "inspections.csv"


def test_employer_identity_is_dropped_at_the_door_and_read_only_by_its_narrow_reader(
    tmp_path: Path,
) -> None:
    world = canonical_world()
    without = write_canonical(world, tmp_path / "without")
    assert read_employer_identity(without)["address"].isna().all()  # address is optional
    world["workplaces"].insert(3, "address", "Jr. Próspero 452, Iquitos")
    folder = write_canonical(world, tmp_path / "with")
    raw = load_raw_tables(folder, None)["workplaces"].frame
    assert "name" not in raw and "address" not in raw
    identity = read_employer_identity(folder)
    assert list(identity.columns) == ["name", "address"]
    first = world["workplaces"]["workplace_id"].iloc[0]
    assert identity.loc[first, "name"] == world["workplaces"]["name"].iloc[0]
    assert identity.loc[first, "address"] == "Jr. Próspero 452, Iquitos"


def test_unknown_extra_columns_are_dropped(tmp_path: Path) -> None:
    world = canonical_world()
    world["complaints"]["telefono_denunciante"] = "987654321"
    raw = load_raw_tables(write_canonical(world, tmp_path), None)
    assert "telefono_denunciante" not in raw["complaints"].frame.columns


def test_parquet_input_gives_the_same_clean_tables(tmp_path: Path) -> None:
    world = canonical_world()
    csv_outcome = validate(load_raw_tables(write_canonical(world, tmp_path / "csv"), None))
    (tmp_path / "pq").mkdir()
    for table, frame in world.items():
        typed = frame.replace("", None)
        if table == "inspections":
            typed["ordered_on"] = pd.to_datetime(typed["ordered_on"])
            typed["fine_uit"] = typed["fine_uit"].astype(float)
            typed["infraction_found"] = typed["infraction_found"] == "true"
        typed.to_parquet(tmp_path / "pq" / f"{table}.parquet")
    pq_outcome = validate(load_raw_tables(tmp_path / "pq", None))
    for table in world:
        pd.testing.assert_frame_equal(pq_outcome.clean[table], csv_outcome.clean[table])


def test_spanish_latin1_semicolon_export_maps_onto_the_canonical_tables(tmp_path: Path) -> None:
    world = canonical_world()
    folder = write_spanish_export(world, tmp_path)
    assert "PEQUEÑA".encode("latin-1") in (folder / "centros_trabajo.csv").read_bytes()
    mapped = validate(load_raw_tables(folder, load_mapping(EXAMPLE_MAPPING)))
    canonical = validate(load_raw_tables(write_canonical(world, tmp_path / "canon"), None))
    assert mapped.accounting["rows_quarantined"].sum() == 0
    for table in world:
        pd.testing.assert_frame_equal(mapped.clean[table], canonical.clean[table])
    assert mapped.clean["inspections"]["infraction_found"].tolist()[:2] == [True, False]
    assert mapped.clean["inspections"]["fine_uit"].tolist()[:2] == [0.0, 12.5]


def test_accented_values_survive_latin1_into_the_quarantine(tmp_path: Path) -> None:
    world = canonical_world()
    world["inspections"].loc[0, "origin"] = "planned"
    folder = write_spanish_export(world, tmp_path)
    path = folder / "ordenes_inspeccion.csv"
    text = path.read_text(encoding="latin-1").replace("OPERATIVO PLANIFICADO", "INSPECCIÓN AÑAY", 1)
    path.write_text(text, encoding="latin-1")
    outcome = validate(load_raw_tables(folder, load_mapping(EXAMPLE_MAPPING)))
    q = outcome.quarantine["inspections"]
    assert q["rule"].tolist() == ["unknown_code"]
    assert q["detail"].tolist() == ["origin='INSPECCIÓN AÑAY' is not a known code"]


def test_latin1_file_read_as_utf8_stops_with_the_file_and_the_encoding(tmp_path: Path) -> None:
    folder = write_canonical(canonical_world(), tmp_path)
    (folder / "workplaces.csv").write_bytes(
        (folder / "workplaces.csv").read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(DataContractError, match=r"workplaces\.csv: not readable as utf-8 .*"
                                                r"\[rule file_unreadable\]"):
        load_raw_tables(folder, None)


def test_semicolon_file_without_a_mapping_stops_naming_the_separator(tmp_path: Path) -> None:
    world = canonical_world()
    folder = write_canonical(world, tmp_path)
    world["complaints"].to_csv(folder / "complaints.csv", sep=";", index=False)
    with pytest.raises(DataContractError, match=r"complaints\.csv: the header looks ';'-separated"):
        load_raw_tables(folder, None)
    mapping = {"tables": {"complaints": {"separator": ";"}}}
    assert validate(load_raw_tables(folder, mapping)).accounting["rows_quarantined"].sum() == 0


def test_empty_file_and_header_only_registry_stop(tmp_path: Path) -> None:
    folder = write_canonical(canonical_world(), tmp_path)
    (folder / "complaints.csv").write_bytes(b"")
    with pytest.raises(DataContractError, match=r"complaints\.csv: the file is empty"):
        load_raw_tables(folder, None)
    folder = write_canonical(canonical_world(), tmp_path / "registry")
    header = (folder / "workplaces.csv").read_text().splitlines()[0]
    (folder / "workplaces.csv").write_text(header + "\n")
    with pytest.raises(DataContractError, match=r"workplaces\.csv: the file has no data rows"):
        load_raw_tables(folder, None)


def test_header_only_complaints_and_inspections_are_valid(tmp_path: Path, caplog) -> None:
    folder = write_canonical(canonical_world(), tmp_path)
    for table in ("complaints", "inspections"):
        header = (folder / f"{table}.csv").read_text().splitlines()[0]
        (folder / f"{table}.csv").write_text(header + "\n")
    raw = load_raw_tables(folder, None)
    assert len(raw["complaints"].frame) == 0 and len(raw["inspections"].frame) == 0
    assert "complaints.csv: no data rows; a source without complaints is valid" in caplog.text


def test_missing_file_stops(tmp_path: Path) -> None:
    folder = write_canonical(canonical_world(), tmp_path)
    (folder / "inspections.csv").unlink()
    with pytest.raises(DataContractError, match=r"inspections\.csv or inspections\.parquet: file "
                                                r"not found .*\[rule file_missing\]"):
        load_raw_tables(folder, None)


def test_truncated_last_line_quarantines_that_row_only(tmp_path: Path) -> None:
    folder = write_canonical(canonical_world(), tmp_path)
    path = folder / "inspections.csv"
    text = path.read_text()
    path.write_text(text[: text.rstrip("\n").rfind(",2025-05-0")] + ",2025-05-0")
    outcome = validate(load_raw_tables(folder, None))
    q = outcome.quarantine["inspections"]
    assert q["source_row"].tolist() == [40]
    assert q["rule"].tolist() == ["bad_type;missing_value"]
    assert q["detail"].iloc[0].startswith("ordered_on='2025-05-0' is not an ISO date")
    assert outcome.accounting.set_index("table").loc["inspections"].tolist() == [40, 39, 1]


def test_too_many_fields_on_a_line_stops_naming_the_line(tmp_path: Path) -> None:
    folder = write_canonical(canonical_world(), tmp_path)
    path = folder / "complaints.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",extra,fields"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataContractError, match=r"complaints\.csv: .*line 4.*file_unreadable"):
        load_raw_tables(folder, None)


def test_an_unbalanced_quote_that_joins_lines_stops_naming_the_line(tmp_path: Path) -> None:
    """A quote opened in one row and closed in a later one would make those lines one row."""
    folder = write_canonical(canonical_world(), tmp_path)
    path = folder / "complaints.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",", ',"', 1)
    lines[5] = lines[5].replace(",", ',"', 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataContractError, match=r"complaints\.csv: the row starting on line 4 "
                                                r"has a quoted field running over several lines"):
        load_raw_tables(folder, None)


def test_si_no_booleans_become_true_false(tmp_path: Path) -> None:
    world = canonical_world()
    world["complaints"]["anonymous"] = ["Si", " NO "] * 10
    folder = write_canonical(world, tmp_path)
    mapping = {"tables": {"complaints": {"values": {"anonymous": {"SI": "true", "NO": "false"}}}}}
    outcome = validate(load_raw_tables(folder, mapping))
    assert outcome.clean["complaints"]["anonymous"].tolist() == [True, False] * 10
    with pytest.raises(DataContractError, match=r"complaints\.csv: column anonymous: 20 of 20 "
                                                r"values are not true/false \(e\.g\. 'Si'\)"):
        validate(load_raw_tables(folder, None))


def test_mapping_to_an_unknown_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("tables:\n  complaints:\n    columns: {FECHA: fecha_recepcion}\n")
    with pytest.raises(DataContractError, match="unknown column 'fecha_recepcion'"):
        load_mapping(path)

"""The catalogs of what a run writes (paths filled from the planning date) and reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaning.contract import OPTIONAL_TABLES, TABLES
from evaluation.report import EVALUATION_FILES, FAIRNESS_AGAINST_TRUTH, OFFPOLICY_AGAINST_TRUTH
from settings import catalog, inputs
from settings.errors import InputError


def test_list_files_sit_in_the_dated_list_folder() -> None:
    run = Path("/runs/out")
    assert catalog.LIST_CSV.path(run, as_of="2026-07-01") == (
        run / "lista_2026-07-01" / "lista_priorizada.csv")
    assert catalog.OFFICE_XLSX.path(run, as_of="2026-07-01", office="16") == (
        run / "lista_2026-07-01" / "lista_16.xlsx")
    assert catalog.OFFICE_LIST_FOLDER.path(run, as_of="2026-07-01", office="ILM") == (
        run / "lista_2026-07-01_ILM")
    assert catalog.LIST_CSV.within(run / ".staging") == run / ".staging" / "lista_priorizada.csv"


def test_the_stable_interfaces_keep_their_names() -> None:
    """`scores.csv` and `lista_<as-of>/lista_priorizada.csv` are interfaces planners rely on."""
    assert catalog.SCORES.path("out") == Path("out/scores.csv")
    assert catalog.QUARANTINE.path("out", table="complaints") == Path(
        "out/quarantine/complaints.csv")
    assert catalog.BACKTEST_METRICS.path("out") == Path("out/backtest/metrics.csv")


def test_the_selective_label_outputs_sit_at_the_output_root() -> None:
    """The list log is read back by later runs (and shipped with demo worlds) under this name."""
    assert catalog.LIST_LOG.path("out") == Path("out/list_log.parquet")
    assert catalog.ESTIMATES.path("out") == Path("out/estimates.json")
    assert catalog.FAIRNESS_AUDIT.path("out") == Path("out/fairness_audit.csv")
    assert catalog.FAIRNESS_FIGURE.path("out") == Path("out/fairness_audit.png")


def test_every_file_is_declared_once_with_its_stage() -> None:
    places = [(entry.folder, entry.name) for entry in catalog.CATALOG]
    assert len(places) == len(set(places))
    assert all(entry.stage and entry.holds and entry.format for entry in catalog.CATALOG)


def test_vigia_evaluate_writes_its_files_beside_the_backtest_and_apart_from_the_run() -> None:
    assert OFFPOLICY_AGAINST_TRUTH.path("out") == Path("out/backtest/offpolicy_against_truth.csv")
    assert FAIRNESS_AGAINST_TRUTH.path("out") == Path("out/backtest/fairness_against_truth.csv")
    places = [(entry.folder, entry.name) for entry in (*catalog.CATALOG, *EVALUATION_FILES)]
    assert len(places) == len(set(places))
    assert all(entry.stage == "vigia evaluate (demo only)" and entry.holds and entry.format
               for entry in EVALUATION_FILES)


def test_the_contract_and_the_input_catalog_name_the_same_tables() -> None:
    assert tuple(TABLES) == tuple(inputs.INPUT_TABLES)
    assert OPTIONAL_TABLES == ("registry_periods",)
    assert all(table.holds for table in inputs.INPUT_TABLES.values())


def test_an_input_table_is_looked_for_as_csv_then_parquet() -> None:
    assert inputs.INSPECTIONS.paths("data") == [Path("data/inspections.csv"),
                                                Path("data/inspections.parquet")]
    assert inputs.REGISTRY_PERIODS.file_name == "registry_periods.csv"


def test_the_reference_files_ship_with_the_project() -> None:
    root = Path(__file__).resolve().parent.parent
    assert inputs.DISTRICTS.path == root / "data" / "reference" / "ubigeo_distrito.csv"
    assert all(file.path.is_file() and file.holds for file in inputs.REFERENCE_FILES)


@pytest.mark.parametrize("office", ["../x", "a/b", "..", ".hidden", "-rf", "x\\..\\y"])
def test_an_output_name_never_leads_out_of_the_run_folder(tmp_path, office) -> None:
    with pytest.raises(InputError, match="cannot name an output file"):
        catalog.OFFICE_XLSX.path(tmp_path, as_of="2026-01-01", office=office)
    named = catalog.OFFICE_XLSX.path(tmp_path, as_of="2026-01-01", office="GEIT-TFI")
    assert named.is_relative_to(tmp_path)

"""The output catalog: one declaration per run file, paths filled from the planning date."""

from __future__ import annotations

from pathlib import Path

from settings import catalog


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

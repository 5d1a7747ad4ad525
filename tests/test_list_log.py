"""The list log: rows without personal data, idempotent appends, outcomes linked by period."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd

from models.offpolicy.list_log import (
    LOG_COLUMNS,
    append_list_log,
    link_outcomes,
    list_log_entries,
    logged_propensity,
    read_list_log,
)


def published_list() -> pd.DataFrame:
    return pd.DataFrame({
        "office": ["ILM", "ILM", "16"], "office_name": ["Lima"] * 3, "rank": [1, 2, 1],
        "workplace_id": ["A-0000", "B-0000", "C-0000"],
        "establishments": ["A-0000;A-0001", "B-0000", "C-0000"],
        "selection": ["modelo", "exploracion", "exploracion"],
        "selection_probability": [1.0, 0.05, 0.2], "reason_1": ["tiene denuncias"] * 3,
        "score": [0.9, 0.1, 0.2],
    })


def inspections() -> pd.DataFrame:
    return pd.DataFrame({
        "inspection_id": ["i1", "i2", "i3", "i4"],
        "workplace_id": ["A-0001", "B-0000", "C-0000", "B-0000"],
        "ordered_on": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-09-01", "2023-12-01"]),
        "closed_on": pd.to_datetime(["2024-03-01", None, "2024-10-01", "2023-12-20"]),
        "forced_labour_found": [True, False, True, True],
        "fl_indicators": ["", "", "", ""], "subjects": ["", "", "", ""],
        "infraction_found": [True, False, True, True], "child_labour_found": [False] * 4,
    })


def test_entries_hold_no_names_reasons_or_scores(tmp_path) -> None:
    entries = list_log_entries(published_list(), pd.Timestamp("2024-01-01"), 3, "7")
    assert list(entries.columns) == LOG_COLUMNS
    assert entries["period_end"].iloc[0] == pd.Timestamp("2024-04-01")
    assert (entries["model_version"] == "7").all()
    path = tmp_path / "list_log.parquet"
    append_list_log(path, entries)
    append_list_log(path, entries)  # the same list published again replaces its rows
    later = list_log_entries(published_list(), pd.Timestamp("2024-04-01"), 3, "8")
    log = append_list_log(path, later)
    assert len(log) == 6 and len(read_list_log(path)) == 6
    assert read_list_log(tmp_path / "missing.parquet").empty


def test_outcomes_linked_by_establishment_and_period() -> None:
    log = list_log_entries(published_list(), pd.Timestamp("2024-01-01"), 3, "7")
    linked = link_outcomes(log, inspections(), pd.Timestamp("2024-12-01"), "forced_labour_found",
                           min_indicators=2)
    by_id = linked.set_index("workplace_id")
    # A's second establishment was inspected in the period and found forced labour
    assert by_id.loc["A-0000", "inspected"] and by_id.loc["A-0000", "finding"] == 1.0
    # B: ordered in the period but still open; the earlier order is before the period
    assert by_id.loc["B-0000", "inspected"] and not by_id.loc["B-0000", "known"]
    assert np.isnan(by_id.loc["B-0000", "finding"])
    # C: inspected after the period ended
    assert not by_id.loc["C-0000", "inspected"]


def test_logged_propensity_combines_the_draw_and_other_routes() -> None:
    log = list_log_entries(published_list(), pd.Timestamp("2024-01-01"), 3, "7")
    ids = pd.Index(["A-0001", "B-0000", "D-0000"])
    modelled = pd.Series([0.1, 0.1, 0.3], index=ids)
    got = logged_propensity(ids, modelled, log, pd.Timestamp("2024-01-01"))
    assert np.allclose(got.to_numpy(), [1.0, 0.05 + 0.95 * 0.1, 0.3])
    after = logged_propensity(ids, modelled, log, pd.Timestamp("2024-05-01"))
    assert np.allclose(after.to_numpy(), modelled.to_numpy())


def _publish_office(args: tuple[str, str]) -> None:
    """One `vigia rank --office` process's last step: log its office's list."""
    path, office = args
    entries = list_log_entries(published_list().assign(office=office),
                               pd.Timestamp("2024-01-01"), 6, "3")
    append_list_log(Path(path), entries)


def test_concurrent_writers_each_add_their_list(tmp_path: Path) -> None:
    """Processes that log at once (read, change, rewrite) never drop each other's list."""
    path = tmp_path / "list_log.parquet"
    offices = [f"{i:02d}" for i in range(1, 9)]
    context = multiprocessing.get_context("fork")
    for _ in range(5):
        with context.Pool(4) as pool:
            pool.map(_publish_office, [(str(path), office) for office in offices])
    log = read_list_log(path)
    assert sorted(log["office"].unique()) == offices
    assert len(log) == 3 * len(offices)  # 3 rows a list; a rerun replaces them, never adds
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]

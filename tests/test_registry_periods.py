"""The optional registry history (`registry_periods`): its contract rules, and registry features
read as of each date from the latest period strictly before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import PRIOR, SHIPPED
from worlds import (
    REFERENCE_DATE,
    assert_accounting,
    canonical_world,
    make_clean_tables,
    quarantined,
    run,
    write_canonical,
)

from cleaning.contract import SIZE_BANDS, load_districts
from cleaning.ingest import load_raw_tables
from cleaning.quality import run_quality_gate
from features.build import build_features
from features.training_set import tables_known_before
from reporting.adaptations import registry_snapshot_note
from settings.loader import with_overrides

T = pd.Timestamp("2023-01-01")


def _periods_text(world: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Two valid periods per workplace of a canonical world, then one row per broken rule."""
    ids = world["workplaces"]["workplace_id"].tolist()
    valid = pd.DataFrame({
        "workplace_id": ids * 2,
        "period": ["2019-01-01"] * len(ids) + ["2024-03-01"] * len(ids),
        "declared_workers": ["3"] * len(ids) + ["40"] * len(ids),
        "size_band": ["micro"] * len(ids) + ["mediana"] * len(ids),
    })
    broken = pd.DataFrame({
        "workplace_id": ["20999999999-0000", ids[0], ids[1], ids[2], ids[3], ids[4]],
        "period": ["2020-01-01", "2027-01-01", "2020-01-01", "2020-01-01", "01/02/2020",
                   "2019-01-01"],
        "declared_workers": ["5", "5", "-2", "5", "5", "7"],
        "size_band": ["micro", "micro", "micro", "huge", "micro", "micro"],
    })
    return pd.concat([valid, broken], ignore_index=True)


def test_bad_periods_are_quarantined_with_their_rule() -> None:
    world = canonical_world()
    world["registry_periods"] = _periods_text(world)
    outcome = run(world)
    first_broken = 2 * len(world["workplaces"]) + 1
    assert quarantined(outcome, "registry_periods") == {
        first_broken: "orphan_workplace",
        first_broken + 1: "future_date",
        first_broken + 2: "negative_value",
        first_broken + 3: "unknown_code",
        first_broken + 4: "bad_type",
        first_broken + 5: "duplicate_period",
    }
    assert_accounting(outcome)
    clean = outcome.clean["registry_periods"]
    assert len(clean) == 2 * len(world["workplaces"])
    assert clean["declared_workers"].dtype == "int64"
    assert str(clean["period"].dtype) == "datetime64[ns]"


def test_periods_of_a_quarantined_workplace_follow_it() -> None:
    world = canonical_world()
    world["registry_periods"] = _periods_text(world).iloc[:40]
    world["workplaces"].loc[2, "ciiu"] = "72"
    outcome = run(world)
    assert quarantined(outcome, "registry_periods") == {3: "quarantined_workplace",
                                                       23: "quarantined_workplace"}


def test_absent_and_header_only_tables_read_as_empty(tmp_path: Path) -> None:
    world = canonical_world()
    absent = load_raw_tables(write_canonical(world, tmp_path / "absent"), None)
    assert absent["registry_periods"].frame.empty
    world["registry_periods"] = _periods_text(world).iloc[0:0]
    header_only = load_raw_tables(write_canonical(world, tmp_path / "header"), None)
    assert list(header_only["registry_periods"].frame.columns) == list(
        absent["registry_periods"].frame.columns)
    assert header_only["registry_periods"].frame.empty


def test_gate_validates_a_present_table_with_great_expectations(tmp_path: Path) -> None:
    world = canonical_world()
    world["registry_periods"] = _periods_text(world)
    data = write_canonical(world, tmp_path / "data")
    config = with_overrides(SHIPPED, {"quality": {"max_quarantine_share": 0.5}})
    result = run_quality_gate(data, tmp_path / "out", config, REFERENCE_DATE)
    info = result.summary["tables"]["registry_periods"]
    assert (info["rows_in"], info["rows_clean"], info["rows_quarantined"]) == (46, 40, 6)
    assert info["great_expectations"]["clean"]["failed"] == []
    assert "expect_column_values_to_be_in_set(size_band)" in (
        info["great_expectations"]["before_quarantine"]["failed"])
    quarantine = pd.read_csv(result.quarantine_paths["registry_periods"], dtype=str)
    assert len(quarantine) == 6


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """Clean tables with registry periods from 2020, 2022-06 and 2023-09 for half the
    workplaces (the other half has none and keeps the snapshot), listed out of order."""
    tables = make_clean_tables(200, seed=3, start="2018-01-01", end="2024-06-30")
    ids = tables["workplaces"]["workplace_id"].iloc[::2].to_numpy()
    n = len(ids)
    tables["registry_periods"] = pd.DataFrame({
        "workplace_id": np.concatenate([ids, ids, ids]),
        "period": pd.to_datetime(["2022-06-01"] * n + ["2023-09-01"] * n + ["2020-01-01"] * n),
        "declared_workers": np.repeat([150, 60, 2], n).astype("int64"),
        "size_band": ["grande"] * n + ["pequena"] * n + ["micro"] * n,
    })
    return tables


def test_features_read_the_latest_period_before_each_date(tables) -> None:
    districts = load_districts()
    with_history = tables["registry_periods"]["workplace_id"].unique()
    wp = tables["workplaces"].set_index("workplace_id")
    without = wp.index.difference(with_history)
    rows = {}
    for as_of in ("2019-06-01", "2021-01-01", "2022-06-01", "2023-01-01", "2024-01-01"):
        rows[as_of] = build_features(tables, districts, pd.Timestamp(as_of), PRIOR)
    # before the first period: the snapshot; a period counts only from the day after it starts
    for as_of, workers, band in (("2019-06-01", None, None), ("2021-01-01", 2.0, "micro"),
                                 ("2022-06-01", 2.0, "micro"), ("2023-01-01", 150.0, "grande"),
                                 ("2024-01-01", 60.0, "pequena")):
        X = rows[as_of]
        expected_workers = wp.loc[with_history, "declared_workers"].to_numpy(float) \
            if workers is None else workers
        np.testing.assert_array_equal(X.loc[with_history, "declared_workers"], expected_workers)
        expected_band = wp.loc[with_history, "size_band"].map(SIZE_BANDS.index).to_numpy(float) \
            if band is None else float(SIZE_BANDS.index(band))
        np.testing.assert_array_equal(X.loc[with_history, "size_band_ordinal"], expected_band)
        np.testing.assert_array_equal(X.loc[without, "declared_workers"],
                                      wp.loc[without, "declared_workers"].to_numpy(float))


def test_periods_after_t_change_no_feature_at_t(tables) -> None:
    districts = load_districts()
    cut = tables_known_before(tables, T)
    assert len(cut["registry_periods"]) < len(tables["registry_periods"])
    assert (cut["registry_periods"]["period"] < T).all()
    pd.testing.assert_frame_equal(build_features(tables, districts, T, area_prior_strength=PRIOR),
                                  build_features(cut, districts, T, area_prior_strength=PRIOR))
    later = {**tables, "registry_periods": pd.concat([
        tables["registry_periods"],
        tables["registry_periods"].assign(period=T, declared_workers=999)])}
    pd.testing.assert_frame_equal(build_features(later, districts, T, area_prior_strength=PRIOR),
                                  build_features(tables, districts, T, area_prior_strength=PRIOR))


def test_run_report_note_says_which_fields_are_as_of_each_date(tables) -> None:
    with_history = registry_snapshot_note(tables)
    assert "declared_workers, size_band_ordinal are as of each date" in with_history
    assert "establishments_same_ruc" in with_history
    without = registry_snapshot_note({k: v for k, v in tables.items() if k != "registry_periods"})
    assert "today's values at every past as-of date (the input has no registry history)" in without
    assert registry_snapshot_note({**tables, "registry_periods": tables["registry_periods"]
                                   .iloc[0:0]}) == without

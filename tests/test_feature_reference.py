"""The feature stage against its DuckDB reference (benchmarks/feature_reference.py, issue 25):
every column the one SQL query computes must equal `features_as_of`, so a change to the time
rules (closed_on, windows) or to the group sums in either shows up as a differing column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import PRIOR
from worlds import make_clean_tables

from benchmarks.feature_reference import LEFT_OUT, compare, reference_features, time_reference
from features.build import build_features
from features.catalog import FEATURE_CATALOG

# Mid-history (some inspections still open, all windows partly filled) and a leap day, whose
# window starts fall on 28 February in pandas and DuckDB alike.
AS_OF_DATES = (pd.Timestamp("2022-07-01"), pd.Timestamp("2024-02-29"))


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return make_clean_tables(400, seed=5)


def _with_edge_cases(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A missing fine in a known outcome, an inspection of an unregistered workplace, a
    principal that is not in the registry and a workplace naming its own RUC as principal."""
    edited = {name: frame.copy() for name, frame in tables.items()}
    wp, ins = edited["workplaces"], edited["inspections"]
    ins.loc[ins.index[ins["closed_on"].notna()][0], "fine_uit"] = np.nan
    stray = ins.iloc[[0]].assign(workplace_id="20999999999-0000", inspection_id="STRAY")
    edited["inspections"] = pd.concat([ins, stray], ignore_index=True)
    wp.loc[wp.index[0], "contractor_of"] = "20999999990"
    wp.loc[wp.index[1], "contractor_of"] = wp.loc[wp.index[1], "ruc"]
    return edited


@pytest.mark.parametrize("as_of", AS_OF_DATES, ids=str)
def test_every_reference_column_equals_our_feature_stage(tables, districts, as_of) -> None:
    ours = build_features(tables, districts, as_of, area_prior_strength=PRIOR)
    reference = reference_features(tables, as_of, PRIOR)
    assert set(reference.columns) == set(FEATURE_CATALOG) - set(LEFT_OUT)
    checked = compare(ours, reference)
    assert len(checked) == len(FEATURE_CATALOG) - len(LEFT_OUT)
    assert checked["equal"].all(), checked[~checked["equal"]].to_string()
    # not a vacuous match: known outcomes, open inspections and network sums all occur
    assert (reference["infractions_all"] < reference["inspections_all"]).any()
    assert (reference[["same_ruc_infractions", "principal_infractions"]] > 0).any().all()


def test_edge_cases_match_too(tables, districts) -> None:
    edited = _with_edge_cases(tables)
    ours = build_features(edited, districts, AS_OF_DATES[1], area_prior_strength=PRIOR)
    checked = compare(ours, reference_features(edited, AS_OF_DATES[1], PRIOR))
    assert checked["equal"].all(), checked[~checked["equal"]].to_string()
    assert ours["fines_uit_all"].isna().sum() == 1


def test_the_check_catches_outcomes_counted_before_closing(tables, districts) -> None:
    """Were outcomes counted from ordered_on (the closed_on rule dropped), the check fails."""
    as_of = AS_OF_DATES[0]
    leaky = {**tables, "inspections": tables["inspections"].assign(
        closed_on=tables["inspections"]["ordered_on"])}
    ours = build_features(leaky, districts, as_of, area_prior_strength=PRIOR)
    checked = compare(ours, reference_features(tables, as_of, PRIOR)).set_index("column")
    assert not checked.loc["infractions_all", "equal"]
    assert checked.loc["inspections_all", "equal"]


def test_compare_treats_nan_as_equal_only_to_nan() -> None:
    ours = pd.DataFrame({"x": [1.0, np.nan, 2.0]}, index=["a", "b", "c"])
    same = compare(ours, ours.iloc[::-1])
    assert same["equal"].all() and same["max_abs_diff"].iloc[0] == 0.0
    other = compare(ours, pd.DataFrame({"x": [1.0, 0.0, 2.0]}, index=["a", "b", "c"]))
    assert not other["equal"].iloc[0] and other["max_abs_diff"].iloc[0] == np.inf


def test_time_reference_reports_both_stages(tables, districts) -> None:
    result = time_reference(tables, districts, AS_OF_DATES[0], PRIOR, runs=1)
    assert result["ours_s"] > 0 and result["duckdb_s"] > 0
    assert result["columns_equal"] == result["columns_compared"] == 110


def test_no_production_package_imports_duckdb() -> None:
    """DuckDB is a benchmark-only dev dependency: a run must never need it."""
    from test_layers import FORBIDDEN_IMPORTS, _imported_packages, _modules

    offences = [str(path) for package in FORBIDDEN_IMPORTS for path in _modules(package)
                if "duckdb" in _imported_packages(path)]
    assert not offences

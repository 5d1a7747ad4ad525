"""Labels: window bounds, known outcomes only, NaN where nobody inspected, the three kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import LABELS
from worlds import make_clean_tables

from features.labels import (
    build_labels,
    decided_by_specialised_team,
    decided_labels,
    label_summary,
)

AS_OF = pd.Timestamp("2022-01-01")


def _tables() -> dict[str, pd.DataFrame]:
    ids = [f"20100070970-000{i}" for i in range(6)]
    workplaces = pd.DataFrame({"workplace_id": ids})
    rows = [
        # id, ordered, closed, fl_found, child, infraction, indicators, subjects
        (ids[0], "2022-02-01", "2022-03-01", True, False, True, "deception;isolation", ""),
        (ids[1], "2022-02-01", "2022-03-01", False, False, False, "", ""),
        (ids[2], "2022-03-01", None, True, False, True, "", ""),  # still open
        (ids[3], "2021-12-31", "2022-01-15", True, False, True, "", ""),  # before the window
        (ids[4], "2022-07-01", "2022-07-05", True, False, True, "", ""),  # after the window
        (ids[5], "2022-05-01", "2022-09-01", False, False, True, "deception", "union_rights"),
    ]
    ins = pd.DataFrame(rows, columns=["workplace_id", "ordered_on", "closed_on",
                                      "forced_labour_found", "child_labour_found",
                                      "infraction_found", "fl_indicators", "subjects"])
    for column in ("ordered_on", "closed_on"):
        ins[column] = pd.to_datetime(ins[column])
    return {"workplaces": workplaces, "inspections": ins}


def test_default_kind_window_and_known_outcomes() -> None:
    y = build_labels(_tables(), AS_OF, 6, **LABELS)
    assert list(y.index) == list(_tables()["workplaces"]["workplace_id"])
    assert y.iloc[0] == 1.0 and y.iloc[1] == 0.0 and y.iloc[5] == 0.0
    assert np.isnan(y.iloc[2]) and np.isnan(y.iloc[3]) and np.isnan(y.iloc[4])


def test_known_before_blanks_outcomes_closed_later() -> None:
    y = build_labels(_tables(), AS_OF, 6, known_before=pd.Timestamp("2022-09-01"), **LABELS)
    assert np.isnan(y.iloc[5])  # closed on the known_before date itself: not yet known
    assert y.iloc[0] == 1.0


def test_alternative_kinds() -> None:
    min_ind = build_labels(_tables(), AS_OF, 6, kind="min_indicators", min_indicators=2)
    assert min_ind.iloc[0] == 1.0 and min_ind.iloc[5] == 0.0
    rights = build_labels(_tables(), AS_OF, 6, kind="fundamental_rights", min_indicators=2)
    assert rights.iloc[5] == 1.0 and rights.iloc[1] == 0.0
    with pytest.raises(ValueError):
        build_labels(_tables(), AS_OF, 6, kind="anything", min_indicators=2)


def test_uninspected_workplaces_are_nan_and_summary_counts() -> None:
    tables = make_clean_tables(300, seed=3)
    y = build_labels(tables, AS_OF, 6, **LABELS)
    ins = tables["inspections"]
    in_window = ins[(ins["ordered_on"] >= AS_OF) & (ins["ordered_on"] < pd.Timestamp("2022-07-01"))
                    & ins["closed_on"].notna()]
    assert set(y.dropna().index) == set(in_window["workplace_id"])
    summary = label_summary(y)
    assert summary["labelled"] == in_window["workplace_id"].nunique()
    positive_workplaces = in_window.groupby("workplace_id")["forced_labour_found"].any()
    assert summary["positives"] == positive_workplaces.sum()
    assert 0 < summary["positives"] < summary["labelled"] < summary["workplaces"] == 300


@pytest.mark.parametrize("known_before", [None, pd.Timestamp("2022-05-01")])
def test_decided_labels_are_build_labels_without_the_undecided(known_before) -> None:
    """Training sets read the sparse labels: the same values where a label is decided."""
    tables = make_clean_tables(300, seed=3)
    full = build_labels(tables, AS_OF, 6, known_before=known_before, **LABELS)
    sparse = decided_labels(tables["inspections"], AS_OF, 6, known_before=known_before, **LABELS)
    assert 0 < len(sparse) < len(full)
    pd.testing.assert_series_equal(sparse.sort_index(), full.dropna().sort_index(),
                                   check_index_type=False, check_names=False)


def test_specialised_team_decided_only_inside_the_window_and_before_known_before() -> None:
    tables = _tables()
    ins = tables["inspections"].assign(team="specialized")
    ins.loc[1, "team"] = "regular"
    ids = pd.Index(tables["workplaces"]["workplace_id"])
    decided = decided_by_specialised_team(ins, ids, AS_OF, 6, pd.Timestamp("2022-09-01"))
    # 0: in the window, closed; 1: regular team; 2: still open; 3, 4: outside the window;
    # 5: closed on the known_before date itself, so not yet known.
    assert decided.tolist() == [True, False, False, False, False, False]
    later = decided_by_specialised_team(ins, ids, AS_OF, 6, pd.Timestamp("2022-09-02"))
    assert later.tolist() == [True, False, False, False, False, True]
    without_team = decided_by_specialised_team(tables["inspections"], ids, AS_OF, 6,
                                               pd.Timestamp("2023-01-01"))
    assert not without_team.any()

"""Leakage guards: nothing dated on or after t reaches features at t, or a model for T."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from support import LABELS, PRIOR, SHIPPED, TRAINING
from worlds import make_clean_tables, with_registry_periods

from features.build import build_features
from features.labels import build_labels
from features.splits import production_train_as_of_dates
from features.training_set import (
    FeatureMemo,
    build_scoring_set,
    build_training_set,
    newest_record_date,
    planning_date_for,
    tables_known_before,
)
from settings.loader import with_overrides

T = pd.Timestamp("2023-01-01")
OUTCOME_FEATURES = ("infractions", "fl_indicators", "fl_documents", "fl_debt",
                    "forced_labour_found", "child_labour_found", "fines_uit", "victims")


@pytest.fixture(scope="module", params=["registry_snapshot", "registry_periods"])
def tables(request: pytest.FixtureRequest) -> dict[str, pd.DataFrame]:
    tables = make_clean_tables(400, seed=5, start="2018-01-01", end="2024-06-30")
    return with_registry_periods(tables) if request.param == "registry_periods" else tables


def _append_rows_on_t(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Facts dated exactly on t: a new inspection with a finding and a complaint."""
    out = {name: frame.copy() for name, frame in tables.items()}
    new_ins = out["inspections"].iloc[[0]].copy()
    new_ins["inspection_id"] = "on-t"
    new_ins["ordered_on"] = T
    new_ins["closed_on"] = T
    new_ins["forced_labour_found"] = True
    new_ins["fl_indicators"] = "debt_bondage"
    new_com = out["complaints"].iloc[[0]].copy()
    new_com["complaint_id"] = "on-t"
    new_com["received_on"] = T
    out["inspections"] = pd.concat([out["inspections"], new_ins], ignore_index=True)
    out["complaints"] = pd.concat([out["complaints"], new_com], ignore_index=True)
    return out


def test_facts_dated_on_or_after_t_change_no_feature(tables, districts) -> None:
    known = tables_known_before(tables, T)
    later = _append_rows_on_t(tables)
    # the full data really holds later facts: outcomes closed after t, later orders, complaints
    assert (tables["inspections"]["closed_on"] >= T).sum() > 0
    assert (tables["complaints"]["received_on"] >= T).sum() > 0
    assert len(later["inspections"]) > len(known["inspections"])
    pd.testing.assert_frame_equal(build_features(known, districts, T, area_prior_strength=PRIOR),
                                  build_features(later, districts, T, area_prior_strength=PRIOR))


def test_open_at_t_inspection_counts_but_its_outcome_does_not(tables, districts) -> None:
    ins = tables["inspections"]
    wp = tables["workplaces"]["workplace_id"].iloc[0]
    row = ins.iloc[[0]].copy()
    row[["inspection_id", "workplace_id"]] = ["open-at-t", wp]
    row["ordered_on"] = T - pd.Timedelta(days=30)
    row["closed_on"] = T + pd.Timedelta(days=10)
    row[["infraction_found", "forced_labour_found", "child_labour_found"]] = True
    row["fl_indicators"] = "retention_of_documents;debt_bondage"
    row[["victims_identified", "fine_uit"]] = [5, 40.0]
    blank = row.copy()
    blank["closed_on"] = pd.NaT
    blank[["infraction_found", "forced_labour_found", "child_labour_found"]] = False
    blank["fl_indicators"] = ""
    blank[["victims_identified", "fine_uit"]] = [0, 0.0]

    def with_row(extra: pd.DataFrame) -> pd.Series:
        changed = {**tables, "inspections": pd.concat([ins, extra], ignore_index=True)}
        return build_features(changed, districts, T, area_prior_strength=PRIOR).loc[wp]

    base = build_features(tables, districts, T, area_prior_strength=PRIOR).loc[wp]
    closed_later, blanked = with_row(row), with_row(blank)
    pd.testing.assert_series_equal(closed_later, blanked)
    for window in ("1y", "3y", "all"):
        assert closed_later[f"inspections_{window}"] == base[f"inspections_{window}"] + 1
        for name in OUTCOME_FEATURES:
            assert closed_later[f"{name}_{window}"] == base[f"{name}_{window}"]


def _model() -> Pipeline:
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    preprocess = ColumnTransformer([
        ("categorical", OneHotEncoder(handle_unknown="ignore"),
         make_column_selector(dtype_include="category")),
        ("numeric", numeric, make_column_selector(dtype_include="number")),
    ])
    return Pipeline([("preprocess", preprocess),
                     ("classifier", LogisticRegression(C=0.5, max_iter=2000))])


def test_model_for_t_scores_the_same_on_data_cut_to_what_was_known(tables, districts) -> None:
    train_dates = production_train_as_of_dates(
        with_overrides(SHIPPED, {"splits": {
            "max_training_as_of_dates": 4, "update_frequency_months": 3, "burn_in_months": 12,
            "outcome_lag_months": 0}}).splits,
        T, pd.Timestamp("2018-01-01"), 6,
    )
    # the full data holds outcomes of training windows that closed only after T
    late = [build_labels(tables, t, 6, **LABELS).notna().sum()
            > build_labels(tables, t, 6, known_before=T, **LABELS)
            .notna().sum() for t in train_dates]
    assert any(late)

    def scores(data: dict[str, pd.DataFrame]) -> np.ndarray:
        X, y, meta = build_training_set(FeatureMemo(data, districts), train_dates, 6,
                                        known_before=T, **TRAINING)
        assert y.notna().all() and len(X) == len(y) == len(meta) and 0 < y.sum() < len(y)
        model = _model().fit(X, y)
        X_score, _ = build_scoring_set(data, districts, T, PRIOR)
        return model.predict_proba(X_score)[:, 1]

    full, cut = scores(tables), scores(tables_known_before(tables, T))
    np.testing.assert_array_equal(full, cut)
    assert full.std() > 0


def test_a_shared_feature_memo_gives_every_training_set_its_own_rows(tables, districts):
    """The backtest's splits, the planning model and the gate share one memo: each training set
    must equal the one built alone, whichever set filled the memo first."""
    later, earlier = T + pd.DateOffset(months=6), T
    dates = [T - pd.DateOffset(months=m) for m in (18, 12, 9)]
    shared_memo = FeatureMemo(tables, districts)
    for known_before in (later, earlier):
        shared = build_training_set(shared_memo, dates, 6, known_before=known_before, **TRAINING)
        alone = build_training_set(FeatureMemo(tables, districts), dates, 6,
                                   known_before=known_before, **TRAINING)
        pd.testing.assert_frame_equal(shared[0], alone[0])
        pd.testing.assert_series_equal(shared[1], alone[1])
        pd.testing.assert_frame_equal(shared[2], alone[2])
        # and it is the whole population's features at the labelled workplaces
        labels = build_labels(tables, dates[0], 6, known_before=known_before, **LABELS)
        everyone = build_features(tables, districts, dates[0], PRIOR)
        first = (shared[2]["as_of"] == dates[0]).to_numpy()
        pd.testing.assert_frame_equal(shared[0][first].reset_index(drop=True),
                                      everyone[labels.notna().to_numpy()].reset_index(drop=True))
    kept = shared_memo.labelled_rows(dates[0], 6, PRIOR)
    assert 0 < len(kept) < len(tables["workplaces"])  # only rows a label could read


def test_training_dates_whose_windows_end_after_known_before_are_refused(tables, districts):
    with pytest.raises(ValueError):
        build_training_set(FeatureMemo(tables, districts), [T - pd.DateOffset(months=3)], 6,
                           known_before=T, **TRAINING)


def test_the_planning_date_is_the_one_asked_for_else_the_day_after_the_newest_record(
        tables) -> None:
    assert planning_date_for(tables, "2024-03-15") == pd.Timestamp("2024-03-15")
    newest = newest_record_date(tables)
    assert planning_date_for(tables, None) == (newest + pd.Timedelta(days=1)).normalize()
    assert planning_date_for(tables, None) > newest

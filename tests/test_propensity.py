"""The inspection-propensity model: targets always known, calibration reported, weights clipped."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from worlds import make_clean_tables

from cleaning.contract import load_districts
from features.build import build_features
from features.catalog import FEATURE_CATALOG
from features.training_set import FeatureMemo, build_training_set
from models.offpolicy.propensity import (
    fit_propensity,
    inspected_in_window,
    propensity_as_of_dates,
    training_weights,
)
from models.training.backtest import train_model
from models.training.candidates import build_candidates
from models.training.planning import planning_weights
from settings.loader import load_config
from settings.schema import VigiaConfig

LABELS = load_config().labels
PRIOR = load_config().features.area_prior_strength


def with_offpolicy(config: VigiaConfig, **changes: Any) -> VigiaConfig:
    """`config` with some `offpolicy:` values changed."""
    return config.model_copy(update={"offpolicy": config.offpolicy.model_copy(update=changes)})


def small_config() -> VigiaConfig:
    """The default config with a quick propensity model (tests only need its behaviour)."""
    config = load_config()
    grid = config.offpolicy.propensity_model["hist_gradient_boosting"]
    return with_offpolicy(config, propensity_as_of_dates=4, propensity_model={
        "hist_gradient_boosting": {**grid, "max_iter": [40]}})


def test_inspected_in_window_counts_orders_not_outcomes() -> None:
    inspections = pd.DataFrame({
        "workplace_id": ["a", "b", "c"],
        "ordered_on": pd.to_datetime(["2024-01-10", "2024-07-01", "2023-12-31"]),
        "closed_on": pd.NaT,
    })
    got = inspected_in_window(inspections, pd.Index(["a", "b", "c", "d"]),
                              pd.Timestamp("2024-01-01"), 6)
    assert got.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_as_of_dates_end_before_the_cut() -> None:
    dates = propensity_as_of_dates(pd.Timestamp("2024-07-15"), 6, 3, 3)
    assert dates == [pd.Timestamp("2023-07-01"), pd.Timestamp("2023-10-01"),
                     pd.Timestamp("2024-01-01")]


def test_propensity_model_is_calibrated_on_a_later_window() -> None:
    tables = make_clean_tables(n_workplaces=1500, seed=3)
    config = small_config()
    model = fit_propensity(tables, load_districts(), pd.Timestamp("2024-12-01"),
                           config.training())
    assert model.check_as_of > max(model.fit_as_of)
    assert abs(model.mean_predicted - model.mean_observed) < 0.05
    assert {"mean_predicted", "observed_rate", "n"} <= set(model.calibration.columns)
    # risky workplaces (more complaints) are inspected more: the model must rank them higher
    assert model.calibration["observed_rate"].iloc[-1] > model.calibration["observed_rate"].iloc[0]
    X = build_features(tables, load_districts(), model.check_as_of, PRIOR)
    weights = training_weights(model, X, config.offpolicy.model_copy(
        update={"min_propensity": 0.05}))
    assert np.isclose(weights.mean(), 1.0) and np.all(weights > 0)
    raw = 1.0 / np.clip(model.predict(X).to_numpy(), 0.05, 1.0)
    assert np.allclose(weights, raw / raw.mean())


def test_a_capped_fit_samples_each_date_and_checks_on_every_workplace() -> None:
    """`offpolicy.propensity_max_workplaces` bounds the fit's rows (memory at national scale);
    the sample is seeded and uniform, so the rates stay calibrated."""
    tables = make_clean_tables(n_workplaces=1500, seed=3)
    cut = pd.Timestamp("2024-12-01")
    full = fit_propensity(tables, load_districts(), cut, small_config().training())
    capped_config = with_offpolicy(small_config(), propensity_max_workplaces=600)
    capped = fit_propensity(tables, load_districts(), cut, capped_config.training())
    again = fit_propensity(tables, load_districts(), cut, capped_config.training())
    assert full.fit_rows == 3 * 1500 and capped.fit_rows == 3 * 600
    assert capped.calibration["n"].sum() == full.calibration["n"].sum() == 1500
    assert capped.mean_observed == full.mean_observed
    assert abs(capped.mean_predicted - capped.mean_observed) < 0.05
    assert capped.mean_predicted != full.mean_predicted
    assert capped.brier == again.brier and capped.mean_predicted == again.mean_predicted


def test_weighted_training_changes_the_fit_and_keeps_calibration_working() -> None:

    tables = make_clean_tables(n_workplaces=800, seed=5)
    districts = load_districts()
    config = small_config()
    dates = [pd.Timestamp(d) for d in ("2022-01-01", "2022-07-01", "2023-01-01", "2023-07-01")]
    X, y, meta = build_training_set(FeatureMemo(tables, districts), dates, 6,
                                    pd.Timestamp("2024-12-01"),
                                    label_kind=LABELS.kind,
                                    min_indicators=LABELS.min_indicators,
                                    area_prior_strength=PRIOR)
    group = "logistic_regression:C=0.5"
    assert planning_weights(tables, districts, group, X, pd.Timestamp("2024-12-01"),
                            config) is None  # off by default
    weighted_config = with_offpolicy(config, weighted_training=True)
    weights = planning_weights(tables, districts, group, X, pd.Timestamp("2024-12-01"),
                               weighted_config)
    assert weights is not None and len(weights) == len(X) and weights.std() > 0
    estimator = build_candidates(config.model, X.dtypes, FEATURE_CATALOG)[group]
    plain = train_model(estimator, X, y, meta, config.model)
    weighted = train_model(estimator, X, y, meta, config.model, sample_weight=weights)
    difference = plain.model.predict_proba(X)[:, 1] - weighted.model.predict_proba(X)[:, 1]
    assert np.abs(difference).max() > 1e-4


def test_weighted_backtest_metric_row_is_optional_and_shaped_like_the_others() -> None:
    from features.labels import build_labels
    from models.metrics import score_table
    from models.offpolicy.propensity import OFFPOLICY_METRIC, weighted_metric_for_window

    tables = make_clean_tables(n_workplaces=800, seed=5)
    districts = load_districts()
    as_of = pd.Timestamp("2024-01-01")
    X = build_features(tables, districts, as_of, PRIOR)
    labels = build_labels(tables, as_of, 6, kind=LABELS.kind, known_before=None,
                          min_indicators=LABELS.min_indicators)
    assert weighted_metric_for_window(tables, districts, as_of, labels, X,
                                      load_config().training()) is None
    config = with_offpolicy(small_config(), weighted_metrics=True, bootstrap_resamples=100)
    weighted = weighted_metric_for_window(tables, districts, as_of, labels, X, config.training())
    scores = pd.Series(np.random.default_rng(0).random(len(X)), index=X.index)
    row = weighted.row(scores, 50)
    plain = score_table(labels, scores, 50, top_percents=[1], n_bootstrap=0, seed=0,
                        confidence=0.9)
    assert list(row.columns) == list(plain.columns)
    assert row["metric"].iloc[0] == OFFPOLICY_METRIC
    assert 0.0 <= row["ci_low"].iloc[0] <= row["ci_high"].iloc[0] <= 1.0


def test_a_history_without_inspections_gives_a_zero_propensity() -> None:
    tables = make_clean_tables(n_workplaces=300, seed=2)
    tables["inspections"] = tables["inspections"].iloc[0:0]
    model = fit_propensity(tables, load_districts(), pd.Timestamp("2024-12-01"),
                           small_config().training())
    X = build_features(tables, load_districts(), model.check_as_of, PRIOR)
    assert (model.predict(X) == 0.0).all() and model.mean_observed == 0.0

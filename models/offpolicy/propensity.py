"""Who gets inspected: the probability that a workplace gets an inspection order in a window.

Labels exist only where someone inspected, and inspections follow complaints, past inspections
and planned campaigns (region, sector, size). This model learns P(an inspection is ordered in
[t, t + window) | features at t) from the history, where the answer is always known (an order's
existence is known from `ordered_on`, whatever its outcome). Its probabilities are the
propensities of the off-policy estimates (models/offpolicy/estimators.py) for history no logged list
covers, and their inverses (clipped, config `offpolicy`) can weight training rows and
backtest metrics (an `offpolicy_precision_at_capacity` row per model and window, config
`offpolicy.weighted_metrics`) so that the over-inspected do not speak for everyone.

The model is a gradient-boosting pipeline from the candidate builder (config
`offpolicy.propensity_model`, no class weights: the probabilities themselves are wanted). It is
fitted on all training as-of dates but the newest and its calibration is measured on the newest
(a later window than any it learned from), as the run report shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.metrics import brier_score_loss

from cleaning.contract import isin_text
from features.build import FeatureInputs, features_as_of, prepare_feature_inputs
from features.catalog import FEATURE_CATALOG
from features.labels import label_window_end
from models.metrics import calibration_table
from models.offpolicy.estimators import (
    estimator_options,
    inverse_propensity_weights,
    list_precision,
    recalibrated_predictions,
)
from models.training.candidates import build_candidates
from models.training.degenerate import drop_degenerate_columns
from settings.schema import OffpolicyConfig, TrainingSections


@dataclass
class PropensityModel:
    """A fitted inspection-propensity model and its calibration on a later window."""

    model: BaseEstimator
    columns: list[str]
    window_months: int
    fit_as_of: list[pd.Timestamp]
    fit_rows: int  # workplace-dates fitted on (`offpolicy.propensity_max_workplaces` per date)
    check_as_of: pd.Timestamp
    calibration: pd.DataFrame  # models.metrics.calibration_table on the check window
    brier: float
    mean_predicted: float
    mean_observed: float

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """P(inspected in the window) per row of a feature frame (index kept)."""
        return pd.Series(positive_probability(self.model, features[self.columns]),
                         index=features.index, name="propensity")

    def summary(self) -> str:
        return (f"inspection propensity ({self.window_months}-month window) fitted on as-of "
                f"dates {self.fit_as_of[0].date()} .. {self.fit_as_of[-1].date()} "
                f"({self.fit_rows:,} workplace-dates), checked on "
                f"{self.check_as_of.date()}: mean predicted {self.mean_predicted:.4f} vs "
                f"observed {self.mean_observed:.4f}, Brier {self.brier:.4f}")


def positive_probability(model: BaseEstimator, X: pd.DataFrame) -> np.ndarray:
    """P(inspected) from a fitted classifier, 0 when it never saw an inspection."""
    classes = list(model.classes_)
    if 1.0 not in classes:
        return np.zeros(len(X))
    return model.predict_proba(X)[:, classes.index(1.0)]


def inspected_in_window(inspections: pd.DataFrame, workplace_ids: pd.Index,
                        as_of: pd.Timestamp, months: int) -> pd.Series:
    """1.0 where an inspection was ORDERED in [as_of, as_of + months), else 0.0 (always known)."""
    ordered = inspections["ordered_on"]
    hit = (ordered >= as_of) & (ordered < label_window_end(as_of, months))
    inspected = isin_text(workplace_ids, inspections.loc[hit, "workplace_id"])
    return pd.Series(inspected.astype(float), index=workplace_ids, name="inspected")


def propensity_as_of_dates(known_before: pd.Timestamp, window_months: int, n_dates: int,
                           step_months: int) -> list[pd.Timestamp]:
    """The newest `n_dates` month starts, `step_months` apart, whose window ends by
    `known_before` (oldest first)."""
    newest = (pd.Timestamp(known_before) - pd.DateOffset(months=window_months)).to_period(
        "M").to_timestamp()
    return [newest - pd.DateOffset(months=step_months * j) for j in range(n_dates)][::-1]


def sampled_rows(n_rows: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    """Positions of a uniform sample of at most `max_rows` of `n_rows` rows, in order (every row
    when the cap is null or not reached)."""
    if max_rows is None or n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=max_rows, replace=False))


def stacked_frame(inputs: FeatureInputs, inspections: pd.DataFrame, dates: list[pd.Timestamp],
                  window_months: int, prior: float, *, max_workplaces: int | None,
                  seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features, inspected-in-window targets and as-of dates stacked over `dates`, each date a
    uniform seeded sample of at most `max_workplaces` workplaces (features are built on the
    whole population, so area rates stay exact; a uniform sample keeps the rates calibrated)."""
    rng = np.random.default_rng(seed)
    frames, targets, as_ofs = [], [], []
    for as_of in dates:
        X = features_as_of(inputs, as_of, prior)
        X = X.iloc[sampled_rows(len(X), max_workplaces, rng)]
        frames.append(X)
        targets.append(inspected_in_window(inspections, X.index, as_of, window_months))
        as_ofs.append(pd.Series(as_of, index=X.index))
    return (pd.concat(frames), pd.concat(targets), pd.concat(as_ofs))


def fit_propensity(tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                   known_before: pd.Timestamp, training: TrainingSections) -> PropensityModel:
    """Fit the inspection-propensity model on windows ending by `known_before` (sections
    `offpolicy`, `features` and the model builder's `model`): fitted on a sample of
    `offpolicy.propensity_max_workplaces` per as-of date, checked on every workplace."""
    settings = training.offpolicy
    window = settings.propensity_window_months
    dates = propensity_as_of_dates(known_before, window, settings.propensity_as_of_dates,
                                   settings.propensity_step_months)
    if len(dates) < 2:
        raise ValueError("the propensity model needs at least two as-of dates (fit and check)")
    inputs = prepare_feature_inputs(tables, districts)
    prior = training.features.area_prior_strength
    X, inspected, _ = stacked_frame(inputs, tables["inspections"], dates[:-1], window, prior,
                                    max_workplaces=settings.propensity_max_workplaces,
                                    seed=training.model.seed)
    kept, _ = drop_degenerate_columns(X)
    del X  # the sampled stack can be large: keep one copy
    model_config = training.model.model_copy(update={"families": settings.propensity_model})
    targets = inspected.to_numpy()
    model = next(iter(build_candidates(model_config, kept.dtypes, FEATURE_CATALOG).values()))
    if len(np.unique(targets)) < 2:  # nobody (or everybody) inspected: the rate is all there is
        model = DummyClassifier(strategy="prior")
    model.fit(kept, targets)
    columns, fit_rows = list(kept.columns), len(kept)
    del kept
    X_check, checked, _ = stacked_frame(inputs, tables["inspections"], dates[-1:], window, prior,
                                        max_workplaces=None, seed=training.model.seed)
    predicted = positive_probability(model, X_check[columns])
    observed = checked.to_numpy()
    table = calibration_table(pd.Series(observed, index=X_check.index),
                              pd.Series(predicted, index=X_check.index),
                              settings.calibration_bins)
    return PropensityModel(model, columns, window, dates[:-1], fit_rows, dates[-1], table,
                           float(brier_score_loss(observed, predicted)),
                           float(predicted.mean()), float(observed.mean()))


def training_weights(propensity: PropensityModel, X: pd.DataFrame,
                     settings: OffpolicyConfig) -> np.ndarray:
    """Inverse-propensity weights of training rows (features at their own as-of dates),
    clipped at `offpolicy.min_propensity` and normalised to mean 1."""
    weights = inverse_propensity_weights(propensity.predict(X).to_numpy(),
                                         settings.min_propensity)
    return weights / weights.mean()


OFFPOLICY_METRIC = "offpolicy_precision_at_capacity"


@dataclass
class WeightedMetric:
    """What a backtest window needs to add an off-policy precision row for each model."""

    labels: pd.Series  # 1.0 / 0.0 / NaN per workplace of the test window
    propensity: pd.Series  # P(outcome seen) per workplace
    settings: OffpolicyConfig
    seed: int  # of the bootstrap interval (config model.seed)

    def row(self, scores: pd.Series, capacity: int) -> pd.DataFrame:
        """The off-policy precision of the top `capacity` as a metrics-table row."""
        observed = self.labels.notna()
        minimum = self.settings.min_propensity
        estimate = list_precision(
            scores, capacity, observed, self.labels, self.propensity,
            recalibrated_predictions(scores, observed, self.labels, self.propensity, minimum),
            options=estimator_options(self.settings, self.seed))
        return pd.DataFrame([{
            "metric": OFFPOLICY_METRIC, "value": estimate.estimate, "ci_low": estimate.low,
            "ci_high": estimate.high, "greater_is_better": True, "k": capacity,
            "n_ranked": len(scores), "n_labelled": int(observed.sum()),
            "n_positives": int((self.labels == 1.0).sum()),
            "n_labelled_in_top_k": estimate.n_observed, "n_positives_in_top_k": -1,
            "ties_at_cut": 0}])


def weighted_metric_for_window(tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                               test_as_of: pd.Timestamp, labels: pd.Series,
                               X_test: pd.DataFrame, training: TrainingSections,
                               ) -> WeightedMetric | None:
    """With config `offpolicy.weighted_metrics`, the propensities of a backtest test window
    (model fitted on windows before it; outcomes seen = visited times the window's known share);
    None when off."""
    settings = training.offpolicy
    if not settings.weighted_metrics:
        return None
    window = settings.propensity_window_months
    model = fit_propensity(tables, districts, label_window_end(test_as_of, window), training)
    visited = inspected_in_window(tables["inspections"], X_test.index, test_as_of, window)
    known_share = float(labels.notna().sum() / max(visited.sum(), 1.0))
    return WeightedMetric(labels.reindex(X_test.index), model.predict(X_test) * known_share,
                          settings, training.model.seed)

"""The planning model: the chosen model group retrained on every label window before the date.

It is trained on the newest label windows that end by the planning date (see
`features.splits.production_train_as_of_dates`); when their labels are all of one class it
learns from every date the burn-in allows instead. Feature columns that carry nothing in its
training set are dropped (models/training/degenerate.py). It is calibrated like every backtest
candidate,
and carries what the promotion gate and the next run need: its label cut-off (end of the newest
label window it saw) and a drift profile of its training frame (models/monitoring/drift.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.catalog import FEATURE_CATALOG
from features.labels import label_summary
from features.splits import every_train_as_of_date, production_train_as_of_dates
from features.training_set import (
    FeatureMemo,
    PlanningData,
    build_scoring_set,
    build_training_set,
)
from models.monitoring.drift import DriftProfile, feature_profile, score_profile
from models.offpolicy.propensity import fit_propensity, training_weights
from models.training.backtest import train_model
from models.training.baselines import is_baseline
from models.training.calibration import TrainedModel
from models.training.candidates import build_grid, forest_fit_threads
from models.training.degenerate import drop_degenerate_columns
from settings.schema import DriftConfig, SplitsConfig, TrainingSections


@dataclass
class PlanningModel:
    """The chosen model group retrained for the planning date, with its training counts."""

    model_group: str
    trained: TrainedModel
    train_as_of_dates: list[pd.Timestamp]
    training_labels: dict[str, float]
    label_cutoff: pd.Timestamp  # end of the newest label window it trained on
    profile: DriftProfile  # models.monitoring.drift profile of its training frame
    # models.monitoring.drift profiles of every workplace at its newest training as-of date and
    # of its scores on them (`population_profiles`): what later listings compare their planning
    # date's data and the champion's scores with.
    scoring_profile: DriftProfile
    score_profile: DriftProfile
    dropped_columns: dict[str, str]  # degenerate feature columns left out, with why


def label_cutoff(train_as_of_dates: list[pd.Timestamp], label_timespan_months: int) -> pd.Timestamp:
    """End of the newest label window a model trained on."""
    return max(train_as_of_dates) + pd.DateOffset(months=label_timespan_months)


def planning_weights(tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                     model_group: str, X: pd.DataFrame, planning_date: pd.Timestamp,
                     training: TrainingSections) -> np.ndarray | None:
    """Inverse inspection-propensity weights of the training rows when config
    `offpolicy.weighted_training` asks for them (baselines are never weighted)."""
    if not training.offpolicy.weighted_training or is_baseline(model_group):
        return None
    propensity = fit_propensity(tables, districts, planning_date, training)
    return training_weights(propensity, X, training.offpolicy)


def train_planning_model(
    memo: FeatureMemo, model_group: str, planning_date: pd.Timestamp,
    history_start: pd.Timestamp, training: TrainingSections, splits: SplitsConfig,
    drift: DriftConfig,
) -> PlanningModel:
    """Retrain `model_group` for the planning date on the training dates `splits` allows, with
    the feature and score profiles (`drift.bins`) a later run's drift check compares against.
    `memo` holds the tables and districts, and shares the features the backtest built."""
    tables, districts = memo.tables, memo.districts
    labels, prior = training.labels, training.features.area_prior_strength
    span = labels.label_timespan_months
    # Labels of one class teach nothing: then learn from every date the burn-in allows.
    for dates in (production_train_as_of_dates(splits, planning_date, history_start, span),
                  every_train_as_of_date(splits, planning_date, history_start, span)):
        X, y, meta = build_training_set(
            memo, dates, span, known_before=planning_date,
            label_kind=labels.kind, min_indicators=labels.min_indicators,
            area_prior_strength=prior,
        )
        if y.nunique() == 2:
            break
    kept, dropped = drop_degenerate_columns(X)
    # Fitted alone: a forest builds its trees on `model.fit_workers` threads (the same model).
    estimator = forest_fit_threads(build_grid(training.model, kept.dtypes, FEATURE_CATALOG)[
        model_group], training.model.fit_workers)
    trained = train_model(estimator, kept, y, meta, training.model,
                          sample_weight=planning_weights(tables, districts, model_group, X,
                                                         planning_date, training),
                          baseline=is_baseline(model_group))
    # The drift profile covers every column, dropped ones too: what the data held, not the model.
    return PlanningModel(model_group, trained, dates, label_summary(y), label_cutoff(dates, span),
                         feature_profile(X, drift.bins),
                         *population_profiles(trained.model, tables, districts, max(dates),
                                              prior, drift.bins),
                         dropped)


def population_profiles(model: Any, tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                        as_of: pd.Timestamp, area_prior_strength: float,
                        bins: int) -> tuple[DriftProfile, DriftProfile]:
    """Drift profiles of EVERY workplace's features at `as_of` (the newest training as-of date)
    and of `model`'s scores on them: the population a listing scores, as the model last learnt
    from it. Not the training rows (inspected workplaces only, a different population that
    would always look drifted), and not the planning date (a champion compared with itself)."""
    scoring, _ = build_scoring_set(tables, districts, as_of, area_prior_strength)
    return (feature_profile(scoring, bins),
            score_profile(model.predict_proba(scoring)[:, 1], bins))


@dataclass(frozen=True)
class ScoredWorkplaces:
    """Every workplace's features at the planning date and a model's score on them."""

    features: pd.DataFrame  # index workplace_id
    scores: pd.DataFrame  # workplace_id, score


def score_workplaces(model: Any, data: PlanningData,
                     area_prior_strength: float) -> ScoredWorkplaces:
    """A model's (the champion's) scores on every workplace at the planning date."""
    X, meta = build_scoring_set(data.tables, data.districts, data.planning_date,
                                area_prior_strength)
    scores = pd.DataFrame({"workplace_id": meta["workplace_id"].to_numpy(),
                           "score": model.predict_proba(X)[:, 1]})
    return ScoredWorkplaces(X.set_index(meta["workplace_id"]), scores)


@dataclass(frozen=True)
class Contender:
    """A model before the gate: its recipe (model group) and the end of the newest label window
    it trained on."""

    model: Any
    label_cutoff: pd.Timestamp
    model_group: str | None

    @classmethod
    def registered(cls, model: Any, tags: dict[str, str]) -> Contender:
        """A registered version, its cut-off from its tags; versions registered before it was
        tagged count as having trained on everything before their planning date (the cautious
        reading)."""
        return cls(model, pd.Timestamp(tags.get("label_cutoff") or tags["planning_date"]),
                   tags.get("model_group"))


def score(model: Any, features: pd.DataFrame) -> pd.Series:
    """Positive-class probability per workplace (index of `features`)."""
    return pd.Series(model.predict_proba(features)[:, 1], index=features.index)

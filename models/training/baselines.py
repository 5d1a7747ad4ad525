"""Baselines that any model must beat, with the same fit / predict_proba interface as models.

Each baseline reads named columns of the raw feature frame; the names are parameters whose
defaults come from `model.baselines` in config. Scores of the counting baselines are a
monotone transform of a count, x / (1 + x): they rank, they are not probabilities, so their
Brier score says nothing. The sector-and-region prior is a probability (a smoothed rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from settings.schema import BaselinesConfig

BASELINE_PREFIX = "baseline:"


def _as_proba(positive: np.ndarray) -> np.ndarray:
    """Two-column probability array from the positive-class score."""
    return np.column_stack([1.0 - positive, positive])


def _labelled(y: pd.Series | np.ndarray) -> np.ndarray:
    values = np.asarray(y, dtype=float)
    return ~np.isnan(values)


def _require_columns(X: pd.DataFrame, columns: list[str], baseline: str) -> None:
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise KeyError(
            f"{baseline} needs feature column(s) {missing}; set them in config model.baselines"
        )


class _Baseline(ClassifierMixin, BaseEstimator):
    """Shared predict so baselines pass where scikit-learn expects a full classifier."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


class RandomBaseline(_Baseline):
    """Inspect at random: the floor. Scores are seeded, so a rerun draws the same list."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> RandomBaseline:
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return _as_proba(rng.random(len(X)))


class CountBaseline(_Baseline):
    """Rank by one count feature, e.g. complaints in the last 2 years or past infractions.

    This is what a planner does without a model; missing counts rank as zero.
    """

    def __init__(self, column: str) -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> CountBaseline:
        _require_columns(X, [self.column], type(self).__name__)
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        _require_columns(X, [self.column], type(self).__name__)
        counts = pd.to_numeric(X[self.column], errors="coerce").fillna(0.0).clip(lower=0.0)
        values = counts.to_numpy(dtype=float)
        return _as_proba(values / (1.0 + values))


class SectorRegionPrior(_Baseline):
    """Rate of findings per CIIU division x department in the training labels, smoothed.

    rate(cell) = (positives + smoothing * overall_rate) / (labelled + smoothing), so a cell
    with few inspections leans on the overall rate instead of a noisy 0 or 1. Unlabelled rows
    (NaN) are ignored; unseen cells get the overall rate.
    """

    def __init__(self, sector_column: str, region_column: str, smoothing: float) -> None:
        self.sector_column = sector_column
        self.region_column = region_column
        self.smoothing = smoothing

    def _cells(self, X: pd.DataFrame) -> pd.Series:
        _require_columns(X, [self.sector_column, self.region_column], type(self).__name__)
        return X[self.sector_column].astype(str) + "|" + X[self.region_column].astype(str)

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> SectorRegionPrior:
        labelled = _labelled(y)
        cells = self._cells(X).to_numpy()[labelled]
        labels = np.asarray(y, dtype=float)[labelled]
        self.overall_rate_ = float(labels.mean()) if len(labels) else 0.0
        grouped = pd.DataFrame({"cell": cells, "y": labels}).groupby("cell")["y"].agg(
            ["sum", "count"]
        )
        smoothed = (grouped["sum"] + self.smoothing * self.overall_rate_) / (
            grouped["count"] + self.smoothing
        )
        self.cell_rates_: dict[str, float] = smoothed.to_dict()
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        rates = self._cells(X).map(self.cell_rates_).fillna(self.overall_rate_)
        return _as_proba(rates.to_numpy(dtype=float))


def build_baselines(baselines: BaselinesConfig, seed: int) -> dict[str, BaseEstimator]:
    """The baseline grid, named `baseline:<what it ranks by>`, from `model.baselines` config."""
    return {
        f"{BASELINE_PREFIX}random": RandomBaseline(seed=seed),
        f"{BASELINE_PREFIX}most_recent_complaints": CountBaseline(
            column=baselines.complaints_column
        ),
        f"{BASELINE_PREFIX}most_past_infractions": CountBaseline(
            column=baselines.infractions_column
        ),
        f"{BASELINE_PREFIX}sector_region_prior": SectorRegionPrior(
            sector_column=baselines.sector_column, region_column=baselines.region_column,
            smoothing=baselines.prior_smoothing,
        ),
    }


def required_columns(baseline: BaseEstimator) -> list[str]:
    """Feature columns a baseline reads (none for the random one)."""
    if isinstance(baseline, CountBaseline):
        return [baseline.column]
    if isinstance(baseline, SectorRegionPrior):
        return [baseline.sector_column, baseline.region_column]
    return []


def is_baseline(model_group: str) -> bool:
    """True for the names `build_baselines` gives."""
    return model_group.startswith(BASELINE_PREFIX)

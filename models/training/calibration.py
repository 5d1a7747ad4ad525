"""Training with calibration on a LATER slice of the training history.

The training frame stacks feature rows from several training as-of dates. The estimator is
fitted on the labelled rows of the earlier dates; its probabilities are then calibrated
(sigmoid by default) on the labelled rows of the last `calibration_as_of_dates` dates, so the
calibration map learns how scores translate into rates on data newer than what it was fitted
on, as will be the case when it scores the planning date.

Class weights make raw scores too high on average; calibration brings them back to rates.
Sigmoid keeps the order of scores (the list); isotonic is allowed but merges scores into
steps, which creates ties at the capacity cut (the metrics report them).

The calibrated model is a `CalibratedClassifierCV(FrozenEstimator(pipeline))`; the fitted,
uncalibrated pipeline stays reachable through `underlying_pipeline` for SHAP.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator

from settings.errors import InputError

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A fitted candidate, how it was calibrated, and the counts behind each step."""

    model: BaseEstimator  # scores with predict_proba; calibrated when `calibrated`
    fitted: BaseEstimator  # the uncalibrated fitted estimator (a Pipeline for models)
    calibrated: bool
    fit_rows: int
    fit_positives: int
    calibration_rows: int
    calibration_positives: int
    calibration_as_of: list[pd.Timestamp] = field(default_factory=list)
    note: str = ""


def underlying_pipeline(model: BaseEstimator) -> BaseEstimator:
    """The fitted uncalibrated estimator inside a calibrated model (the model itself otherwise)."""
    if isinstance(model, CalibratedClassifierCV):
        inner = model.estimator
        return inner.estimator if isinstance(inner, FrozenEstimator) else inner
    return model


def recency_weights(as_of: pd.Series | np.ndarray,
                    half_life_months: float | None) -> np.ndarray | None:
    """Row weights halving every `half_life_months` before the newest training as-of date.

    None (no weights) without a half-life: every label window then counts the same.
    """
    if half_life_months is None:
        return None
    dates = pd.to_datetime(pd.Series(np.asarray(as_of)))
    months = (dates.max() - dates).dt.days.to_numpy() / (365.25 / 12)
    return 0.5 ** (months / float(half_life_months))


def detection_weights(y: pd.Series | np.ndarray, specialised: pd.Series | np.ndarray,
                      regular_negative_weight: float) -> np.ndarray | None:
    """Fit weights: `regular_negative_weight` for negatives no specialised-team visit decided.

    Regular inspectors miss forced labour more often than the specialised team, so their
    "not found" is the weaker test. None (no weights) at 1.0, or when no row was decided by
    the team: then every negative would weigh the same less, which is plain class reweighting.
    """
    team = np.asarray(specialised, dtype=bool)
    if regular_negative_weight == 1.0 or not team.any():
        return None
    regular_negative = (np.asarray(y, dtype=float) == 0.0) & ~team
    return np.where(regular_negative, regular_negative_weight, 1.0)


@dataclass(frozen=True)
class RowWeights:
    """Per-row weights of a fit (rows of X). `both` weigh the fit and the calibration (inverse
    inspection propensities, recency). `fit_only` multiply them in a calibrated fit only
    (`detection_weights`): left out of the calibration, whose probabilities planners read,
    and out of an uncalibrated fit, whose raw scores would be read as probabilities."""

    both: np.ndarray | None = None
    fit_only: np.ndarray | None = None

    def for_fit(self) -> np.ndarray | None:
        """The weights of a calibrated fit: `both` times `fit_only`."""
        if self.fit_only is None:
            return self.both
        fit_only = np.asarray(self.fit_only, dtype=float)
        return fit_only if self.both is None else fit_only * np.asarray(self.both, dtype=float)


UNWEIGHTED = RowWeights()


def fit_calibrated(estimator: BaseEstimator, X: pd.DataFrame, y: pd.Series | np.ndarray,
                   as_of: pd.Series | np.ndarray, *, calibration_as_of_dates: int,
                   method: str, min_positives: int,
                   weights: RowWeights = UNWEIGHTED) -> TrainedModel:
    """Fit `estimator` on earlier labelled rows and calibrate it on the latest training dates.

    `as_of` gives each row's training as-of date (rows of X may repeat a workplace across
    dates). Unlabelled rows (NaN) are dropped: not inspected is not negative. When the
    calibration slice has fewer than `min_positives` positives (or no negatives), calibration
    would be noise: the estimator is then fitted on all labelled rows and left uncalibrated,
    and `note` says so. `weights`: see `RowWeights`.
    """
    sample_weight = weights.both
    labels = np.asarray(y, dtype=float)
    dates = pd.to_datetime(pd.Series(np.asarray(as_of)))
    labelled = ~np.isnan(labels)
    _require_both_classes(labels[labelled], dates[labelled])
    labelled_dates = sorted(dates[labelled].unique())
    calibration_dates = labelled_dates[-calibration_as_of_dates:] if calibration_as_of_dates else []
    in_calibration = dates.isin(calibration_dates).to_numpy() & labelled
    in_fit = labelled & ~in_calibration

    cal_labels = labels[in_calibration]
    fit_labels = labels[in_fit]
    usable = (
        len(calibration_dates) > 0
        and len(labelled_dates) > len(calibration_dates)
        and cal_labels.sum() >= min_positives
        and (cal_labels == 0).any()
        and fit_labels.sum() > 0
        and (fit_labels == 0).any()
    )
    if not usable:
        fitted = _predicting_on_one_thread(clone(estimator).fit(
            _rows(X, labelled), labels[labelled], **_weighted(estimator, sample_weight, labelled)))
        note = (
            f"uncalibrated: calibration slice {[str(d.date()) for d in calibration_dates]} had "
            f"{int(cal_labels.sum())} positives of {len(cal_labels)} labelled rows "
            f"(minimum {min_positives}), or no earlier labelled date to fit on"
        )
        log.warning("%s: %s", type(underlying_pipeline(estimator)).__name__, note)
        return TrainedModel(
            model=fitted, fitted=fitted, calibrated=False,
            fit_rows=int(labelled.sum()), fit_positives=int(labels[labelled].sum()),
            calibration_rows=0, calibration_positives=0, note=note,
        )

    fitted = _predicting_on_one_thread(clone(estimator).fit(
        _rows(X, in_fit), fit_labels, **_weighted(estimator, weights.for_fit(), in_fit)))
    calibrator = _calibrate(fitted, _rows(X, in_calibration), cal_labels, method,
                            None if sample_weight is None
                            else np.asarray(sample_weight)[in_calibration])
    return TrainedModel(
        model=calibrator, fitted=fitted, calibrated=True,
        fit_rows=int(in_fit.sum()), fit_positives=int(fit_labels.sum()),
        calibration_rows=int(in_calibration.sum()), calibration_positives=int(cal_labels.sum()),
        calibration_as_of=[pd.Timestamp(d) for d in calibration_dates],
        note=f"{method} calibration on {len(cal_labels)} labelled rows",
    )


def final_step(estimator: BaseEstimator) -> BaseEstimator:
    """A Pipeline's last step (the model), or the estimator itself."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _predicting_on_one_thread(fitted: BaseEstimator) -> BaseEstimator:
    """`fitted`, a random forest (last step) set to predict on one thread whatever it was fitted
    on (`candidates.forest_fit_threads`): threads would add the trees' votes in another order."""
    forest = final_step(fitted)
    if isinstance(forest, RandomForestClassifier):
        forest.set_params(n_jobs=1)
    return fitted


def _calibrate(fitted: BaseEstimator, X: pd.DataFrame, y: np.ndarray, method: str,
               sample_weight: np.ndarray | None) -> CalibratedClassifierCV:
    """`fitted` frozen, its scores mapped to probabilities on the calibration rows."""
    calibrator = CalibratedClassifierCV(FrozenEstimator(fitted), method=method)
    with warnings.catch_warnings():
        # The frozen estimator is not refitted: weights go to the calibration map, as meant.
        warnings.filterwarnings("ignore", message="Since FrozenEstimator")
        calibrator.fit(X, y, **({} if sample_weight is None else {"sample_weight": sample_weight}))
    return calibrator


def _require_both_classes(labels: np.ndarray, dates: pd.Series) -> None:
    """A model cannot learn from labels of one class: say what the training set held."""
    positives, negatives = int(labels.sum()), int((labels == 0).sum())
    if positives and negatives:
        return
    span = (f" for as-of dates {dates.min().date()} .. {dates.max().date()}"
            if len(dates) else "")
    raise InputError(
        f"nothing to learn from: the training labels{span} hold {positives} positive(s) and "
        f"{negatives} negative(s) among inspected workplaces; the history needs inspections "
        "with and without findings whose outcomes closed in time"
    )


def _weighted(estimator: BaseEstimator, sample_weight: np.ndarray | None,
              mask: np.ndarray) -> dict[str, np.ndarray]:
    """Fit parameters passing the rows' weights to a Pipeline's last step (or the estimator)."""
    if sample_weight is None:
        return {}
    weights = np.asarray(sample_weight, dtype=float)[mask]
    steps = getattr(estimator, "steps", None)
    return {f"{steps[-1][0]}__sample_weight" if steps else "sample_weight": weights}


def _rows(X: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """Positional row selection that works with repeated workplace ids in the index."""
    return X.iloc[np.flatnonzero(mask)]

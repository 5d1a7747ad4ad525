"""Off-policy estimates: what a list or a department would show if everyone could be inspected.

Outcomes exist only where someone inspected (the selective labels problem). When each unit i of
a population was inspected with a known (or modelled) probability pi_i, the mean outcome of any
target set T of units (the model's top k, a department) is estimated without bias from the
inspected ones alone:

- `horvitz_thompson`: (1/|T|) sum_{i in T, inspected} y_i / pi_i. Unbiased; noisy when some
  pi_i are small.
- `self_normalised` (Hájek): sum y_i / pi_i / sum 1 / pi_i over the inspected units of T.
  Slightly biased, much steadier; undefined when nobody in T was inspected.
- `doubly_robust`: (1/|T|) sum_{i in T} [m_i + 1{inspected} (y_i - m_i) / pi_i] with m_i a
  model's predicted outcome. Unbiased if EITHER the probabilities or the predictions are right,
  and tighter than Horvitz-Thompson when the predictions are good.

Intervals: scipy.stats.bootstrap (percentile method) over the units of T, resampling each unit
with its inspection indicator and terms, joined with a Wilson interval of the weighted rate
among the inspected on Kish's effective sample size (the bootstrap alone collapses to [0, 0]
when no inspected unit had a finding). Resampling units treats the population as a sample of a
super-population, so the interval is wider than the design's own (conservative).
Probabilities are clipped below at `min_propensity` (weights capped at 1 / min_propensity):
a unit that could never be inspected cannot be seen by any estimator.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import DegenerateDataWarning, bootstrap, norm

from models.metrics import top_k_ids
from settings.schema import OffpolicyConfig

HORVITZ_THOMPSON = "horvitz_thompson"
SELF_NORMALISED = "self_normalised"
DOUBLY_ROBUST = "doubly_robust"
METHODS = (HORVITZ_THOMPSON, SELF_NORMALISED, DOUBLY_ROBUST)


@dataclass(frozen=True)
class Estimate:
    """A mean outcome over a target set with its bootstrap interval."""

    estimate: float
    low: float
    high: float
    method: str
    confidence: float
    n_target: int
    n_observed: int

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def inverse_propensity_weights(propensity: np.ndarray | pd.Series, min_propensity: float,
                               ) -> np.ndarray:
    """1 / pi, with pi clipped below at `min_propensity` (so no weight exceeds its inverse)."""
    if not 0.0 < min_propensity <= 1.0:
        raise ValueError(f"min_propensity must be in (0, 1], got {min_propensity}")
    return 1.0 / np.clip(np.asarray(propensity, dtype=float), min_propensity, 1.0)


def _statistic(method: str):
    """The estimator as a vectorised function of (observed, outcome, weight, prediction)."""
    def horvitz_thompson(observed, outcome, weight, prediction, axis=-1):
        return np.mean(observed * outcome * weight, axis=axis)

    def self_normalised(observed, outcome, weight, prediction, axis=-1):
        total = np.sum(observed * weight, axis=axis)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sum(observed * outcome * weight, axis=axis) / total

    def doubly_robust(observed, outcome, weight, prediction, axis=-1):
        return np.mean(prediction + observed * (outcome - prediction) * weight, axis=axis)

    return {HORVITZ_THOMPSON: horvitz_thompson, SELF_NORMALISED: self_normalised,
            DOUBLY_ROBUST: doubly_robust}[method]


@dataclass(frozen=True)
class EstimatorOptions:
    """How an estimate is made: the estimator, the propensity floor and the bootstrap interval
    (config `offpolicy` and the run's seed)."""

    method: str
    min_propensity: float
    confidence: float
    n_resamples: int
    seed: int


def estimator_options(settings: OffpolicyConfig, seed: int) -> EstimatorOptions:
    """`estimate_mean`'s options from config `offpolicy` and the run's seed."""
    return EstimatorOptions(settings.method, settings.min_propensity, settings.confidence,
                            settings.bootstrap_resamples, seed)


def estimate_mean(observed: np.ndarray, outcome: np.ndarray, propensity: np.ndarray,
                  prediction: np.ndarray | None = None, *,
                  options: EstimatorOptions) -> Estimate:
    """The mean outcome over the units given (the target set), from the inspected ones.

    Arrays are aligned over the target units: `observed` (inspected with a known outcome),
    `outcome` (ignored where not observed; NaN allowed there), `propensity` (chance of being
    inspected), `prediction` (a model's expected outcome; required by `doubly_robust`).
    """
    method, min_propensity = options.method, options.min_propensity
    confidence, n_resamples, seed = options.confidence, options.n_resamples, options.seed
    if method not in METHODS:
        raise ValueError(f"unknown off-policy method {method!r}; known: {', '.join(METHODS)}")
    observed = np.asarray(observed, dtype=bool)
    n_target, n_observed = len(observed), int(observed.sum())
    if n_target == 0:
        return Estimate(np.nan, np.nan, np.nan, method, confidence, 0, 0)
    if prediction is None:
        if method == DOUBLY_ROBUST:
            raise ValueError("the doubly robust estimate needs the model's predictions")
        prediction = np.zeros(n_target)
    data = (observed.astype(float), np.where(observed, np.nan_to_num(np.asarray(
        outcome, dtype=float)), 0.0), inverse_propensity_weights(propensity, min_propensity),
            np.asarray(prediction, dtype=float))
    statistic = _statistic(method)
    value = float(statistic(*data))
    if n_target < 2 or not np.isfinite(value):
        return Estimate(value, np.nan, np.nan, method, confidence, n_target, n_observed)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # a degenerate resampling (no finding among the inspected) is what the Wilson bound
        # below is for
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap(data, statistic, paired=True, vectorized=True,
                           n_resamples=n_resamples, confidence_level=confidence,
                           method="percentile", rng=np.random.default_rng(seed))
    interval = result.confidence_interval
    low, high = weighted_wilson(data[0], data[1], data[2], confidence)
    # a rate: bounds outside [0, 1] say nothing more
    # resamples without an inspected unit leave the self-normalised bootstrap undefined (NaN):
    # the Wilson bounds then stand alone
    return Estimate(value, float(np.clip(np.nanmin([interval.low, low]), 0.0, 1.0)),
                    float(np.clip(np.nanmax([interval.high, high]), 0.0, 1.0)), method,
                    confidence, n_target, n_observed)


def weighted_wilson(observed: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                    confidence: float) -> tuple[float, float]:
    """Wilson interval of the weighted rate among the inspected, on Kish's effective size.

    The bootstrap alone collapses to [0, 0] when no inspected unit of the set had a finding;
    this interval still says how high the rate could be given how few were seen.
    """
    w = weight[observed > 0]
    if len(w) == 0:
        return 0.0, 1.0
    n = float(w.sum() ** 2 / np.sum(w ** 2))
    p = float(np.sum(w * outcome[observed > 0]) / w.sum())
    z = float(norm.ppf(0.5 + confidence / 2.0))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def estimate_by_group(groups: pd.Series, observed: pd.Series, outcome: pd.Series,
                      propensity: pd.Series, prediction: pd.Series | None = None, *,
                      options: EstimatorOptions) -> dict[str, Estimate]:
    """`estimate_mean` per group (e.g. department) of a population; all Series share an index."""
    estimates = {}
    for name, index in groups.groupby(groups, sort=True).groups.items():
        estimates[str(name)] = estimate_mean(
            observed.loc[index].to_numpy(), outcome.loc[index].to_numpy(),
            propensity.loc[index].to_numpy(),
            None if prediction is None else prediction.loc[index].to_numpy(), options=options)
    return estimates


def recalibrated_predictions(scores: pd.Series, observed: pd.Series, outcome: pd.Series,
                             propensity: pd.Series, min_propensity: float) -> pd.Series:
    """The doubly robust estimate's outcome model: a model's scores mapped to finding rates.

    Scores trained with class weights (or left uncalibrated) are not rates; a Platt map (logistic
    regression on the score's logit) fitted on the inspected rows, weighted by 1 / propensity so
    that it describes everyone rather than the often-inspected, turns them into rates. With one
    outcome class among the inspected, the weighted mean rate is used for everyone.
    """
    from sklearn.linear_model import LogisticRegression

    seen = observed.to_numpy(dtype=bool)
    y = outcome.to_numpy(dtype=float)[seen]
    weights = inverse_propensity_weights(propensity.to_numpy()[seen], min_propensity)
    if len(np.unique(y)) < 2:
        rate = float(np.average(y, weights=weights)) if len(y) else 0.0
        return pd.Series(rate, index=scores.index)
    clipped = np.clip(scores.to_numpy(dtype=float), 1e-6, 1 - 1e-6)
    logit = np.log(clipped / (1.0 - clipped)).reshape(-1, 1)
    platt = LogisticRegression(C=1.0).fit(logit[seen], y, sample_weight=weights)
    return pd.Series(platt.predict_proba(logit)[:, 1], index=scores.index)


def top_k_mask(scores: pd.Series, k: int) -> pd.Series:
    """True for the k highest scores (ties by workplace id, as the metrics rank)."""
    chosen = set(top_k_ids(scores, min(k, len(scores))))
    return pd.Series(scores.index.isin(chosen), index=scores.index)


def list_precision(scores: pd.Series, k: int, observed: pd.Series, outcome: pd.Series,
                   propensity: pd.Series, prediction: pd.Series | None = None, *,
                   options: EstimatorOptions) -> Estimate:
    """The precision a list of the k best-scored units would have if all of them were visited."""
    top = top_k_mask(scores, k).to_numpy()
    ids = scores.index[top]
    return estimate_mean(observed.reindex(ids).fillna(False).to_numpy(dtype=bool),
                         outcome.reindex(ids).to_numpy(dtype=float),
                         propensity.reindex(ids).to_numpy(dtype=float),
                         None if prediction is None else prediction.reindex(ids).to_numpy(),
                         options=options)

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
(or each cluster of rows: one workplace across pooled periods, `pooled_mean`) with its
inspection indicator and terms, joined with a Wilson interval of the weighted rate
among the inspected on Kish's effective sample size (the bootstrap alone collapses to [0, 0]
when no inspected unit had a finding). Resampling units treats the population as a sample of a
super-population, so the interval is wider than the design's own (conservative).
Probabilities are clipped below at `min_propensity` (weights capped at 1 / min_propensity):
a unit that could never be inspected cannot be seen by any estimator. An interval wider than
config `offpolicy.max_interval_width` is not a result: `evidence_of` says how many more visits
would narrow it enough.
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
    """A mean outcome over a target set with its bootstrap interval and how much it rests on."""

    estimate: float
    low: float
    high: float
    method: str
    confidence: float
    n_target: int  # rows of the target set (units, or units x pooled periods)
    n_observed: int  # of them, inspected with a known outcome
    n_positive: int  # of those, with a finding
    effective_sample_size: float  # Kish's, over the observed rows' inverse-propensity weights

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)

    @property
    def width(self) -> float:
        return self.high - self.low


def inverse_propensity_weights(propensity: np.ndarray | pd.Series, min_propensity: float,
                               ) -> np.ndarray:
    """1 / pi, with pi clipped below at `min_propensity` (so no weight exceeds its inverse)."""
    if not 0.0 < min_propensity <= 1.0:
        raise ValueError(f"min_propensity must be in (0, 1], got {min_propensity}")
    return 1.0 / np.clip(np.asarray(propensity, dtype=float), min_propensity, 1.0)


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
    return pooled_mean(observed, outcome, propensity, prediction, options=options)


def pooled_mean(observed: np.ndarray, outcome: np.ndarray, propensity: np.ndarray,
                prediction: np.ndarray | None = None, clusters: np.ndarray | None = None, *,
                options: EstimatorOptions) -> Estimate:
    """`estimate_mean` over rows that may repeat a unit (the same workplace in several pooled
    periods): the bootstrap resamples whole `clusters` (default: every row its own), so that a
    workplace's correlated outcomes across periods are not counted as independent evidence.

    Each estimator is a ratio of row sums (numerator terms over 1 per row, or over the observed
    weights for the self-normalised one), summed per cluster before resampling.
    """
    method = options.method
    if method not in METHODS:
        raise ValueError(f"unknown off-policy method {method!r}; known: {', '.join(METHODS)}")
    observed = np.asarray(observed, dtype=bool)
    n_target, n_observed = len(observed), int(observed.sum())
    if n_target == 0:
        return Estimate(np.nan, np.nan, np.nan, method, options.confidence, 0, 0, 0, 0.0)
    if prediction is None:
        if method == DOUBLY_ROBUST:
            raise ValueError("the doubly robust estimate needs the model's predictions")
        prediction = np.zeros(n_target)
    y = np.where(observed, np.nan_to_num(np.asarray(outcome, dtype=float)), 0.0)
    weight = inverse_propensity_weights(propensity, options.min_propensity)
    numerator, denominator = _ratio_terms(method, observed.astype(float), y, weight,
                                          np.asarray(prediction, dtype=float))
    groups = np.arange(n_target) if clusters is None else pd.factorize(np.asarray(clusters))[0]
    sums = (np.bincount(groups, numerator), np.bincount(groups, denominator))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(numerator.sum() / denominator.sum())
    base = (method, options.confidence, n_target, n_observed, int(y[observed].sum()),
            kish_effective_size(weight[observed]))
    if len(sums[0]) < 2 or not np.isfinite(value):
        return Estimate(value, np.nan, np.nan, *base)
    boot_low, boot_high = _bootstrap_ratio(sums, options)
    low, high = weighted_wilson(observed.astype(float), y, weight, options.confidence)
    # a rate: bounds outside [0, 1] say nothing more; resamples without an inspected unit leave
    # the self-normalised bootstrap undefined (NaN): the Wilson bounds then stand alone
    return Estimate(value, float(np.clip(np.nanmin([boot_low, low]), 0.0, 1.0)),
                    float(np.clip(np.nanmax([boot_high, high]), 0.0, 1.0)), *base)


def _ratio_terms(method: str, observed: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                 prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the estimator's numerator and denominator terms (module docstring)."""
    ones = np.ones_like(observed)
    if method == HORVITZ_THOMPSON:
        return observed * outcome * weight, ones
    if method == SELF_NORMALISED:
        return observed * outcome * weight, observed * weight
    return prediction + observed * (outcome - prediction) * weight, ones


def _bootstrap_ratio(sums: tuple[np.ndarray, np.ndarray],
                     options: EstimatorOptions) -> tuple[float, float]:
    """Percentile bootstrap interval of sum(numerator) / sum(denominator) over clusters."""
    def ratio(numerator, denominator, axis=-1):
        return np.sum(numerator, axis=axis) / np.sum(denominator, axis=axis)

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # a degenerate resampling (no finding among the inspected) is what the Wilson bound
        # is for
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap(sums, ratio, paired=True, vectorized=True, batch=200,
                           n_resamples=options.n_resamples, confidence_level=options.confidence,
                           method="percentile", rng=np.random.default_rng(options.seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def kish_effective_size(weight: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 of weighted observations: as many
    equally weighted ones would estimate a mean as precisely."""
    weight = np.asarray(weight, dtype=float)
    return float(weight.sum() ** 2 / np.sum(weight ** 2)) if len(weight) else 0.0


def weighted_wilson(observed: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                    confidence: float) -> tuple[float, float]:
    """Wilson interval of the weighted rate among the inspected, on Kish's effective size.

    The bootstrap alone collapses to [0, 0] when no inspected unit of the set had a finding;
    this interval still says how high the rate could be given how few were seen.
    """
    w = weight[observed > 0]
    if len(w) == 0:
        return 0.0, 1.0
    n = kish_effective_size(w)
    p = float(np.sum(w * outcome[observed > 0]) / w.sum())
    z = float(norm.ppf(0.5 + confidence / 2.0))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def estimate_by_group(groups: pd.Series, observed: pd.Series, outcome: pd.Series,
                      propensity: pd.Series, prediction: pd.Series | None = None,
                      clusters: pd.Series | None = None, *,
                      options: EstimatorOptions) -> dict[str, Estimate]:
    """`pooled_mean` per group (e.g. department) of a population; all Series share an index."""
    estimates = {}
    for name, index in groups.groupby(groups, sort=True).groups.items():
        estimates[str(name)] = pooled_mean(
            observed.loc[index].to_numpy(), outcome.loc[index].to_numpy(),
            propensity.loc[index].to_numpy(),
            None if prediction is None else prediction.loc[index].to_numpy(),
            None if clusters is None else clusters.loc[index].to_numpy(), options=options)
    return estimates


@dataclass(frozen=True)
class Evidence:
    """Whether an estimate's interval is narrow enough to be reported as a result."""

    evidence: str  # SUFFICIENT | INSUFFICIENT
    interval_width: float
    max_interval_width: float
    visits_needed: int  # more inspected visits of the target set to reach the width (0: none)

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


SUFFICIENT, INSUFFICIENT = "sufficient", "insufficient"


def evidence_of(estimate: Estimate, max_width: float) -> Evidence:
    """Sufficient when the interval is at most `max_width` wide; else the visits still needed.

    An interval's width shrinks as 1 / sqrt(n) in its effective sample size n: the observed
    variance per effective observation is v = n * (W / 2z)^2 for an interval of width W, and a
    width W* needs n* = v * (2z / W*)^2 = n * (W / W*)^2 effective observations. New visits of
    the target set drawn at random (equal, known chances) each add about one, so
    `visits_needed` = ceil(n* - n), at least 1. With no observation at all there is no variance
    to scale: the worst Bernoulli variance 1/4 is used, n* = (2z)^2 / (4 W*^2).
    """
    width = estimate.width
    if np.isfinite(width) and width <= max_width:
        return Evidence(SUFFICIENT, float(width), max_width, 0)
    n = estimate.effective_sample_size
    if n > 0 and np.isfinite(width):
        needed = n * (width / max_width) ** 2
    else:
        z = float(norm.ppf(0.5 + estimate.confidence / 2.0))
        needed = (2.0 * z) ** 2 * 0.25 / max_width ** 2
    return Evidence(INSUFFICIENT, float(width), max_width,
                    max(1, int(np.ceil(needed - n))))


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

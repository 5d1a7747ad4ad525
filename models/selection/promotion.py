"""The promotion gate: a pure decision on whether a new model may replace the champion.

Both the registered champion VERSION and the challenger score the same workplaces at the same
as-of date; their metric (config `promotion.metric`, direction from `models.metrics`) is compared
through a PAIRED bootstrap: each resample draws the same workplaces for both models, so the
interval is that of the difference, not of two independent estimates. Rule:

- the very first model registered becomes champion (there is nothing to compare it with; its
  checks are "not applicable" and its metric, even undefined, is stated);
- otherwise every check in `required_checks` must be present and True (drift, fairness); a
  missing or unmeasured check counts as failed;
- a missing or NaN figure refuses, never promotes: the challenger's metric, the champion's, and
  the paired interval must all be defined on the gate rows;
- the challenger is refused when its improvement interval lies wholly below zero (worse beyond
  paired-bootstrap noise). Above zero it is "better beyond noise"; an interval holding zero is
  "no difference beyond noise" and the challenger is accepted (it learned from newer data) but
  never called an improvement. An unchanged model gives the interval [0, 0]: no difference.
- without gate rows on which both are out of sample, the champion stays
  (`not_enough_evidence`).
The decision never touches MLflow; pipelines/tracking.py applies it to the aliases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from models.metrics import (
    METRICS,
    Metric,
    bootstrap_weights,
    greater_is_better,
    k_for_top_percent,
    rank,
)

NO_DIFFERENCE = "no difference beyond noise"
BETTER = "better beyond noise"
WORSE = "worse beyond noise"


@dataclass(frozen=True)
class PairedComparison:
    """Challenger vs champion on the same rows; `improvement` is signed so that > 0 is better."""

    metric: str
    challenger: float
    champion: float
    improvement: float
    ci_low: float
    ci_high: float
    confidence: float
    n_ranked: int
    n_labelled: int
    n_positives: int

    @property
    def verdict(self) -> str:
        """BETTER, WORSE or NO_DIFFERENCE (also when the noise cannot be measured)."""
        if self.ci_low > 0:
            return BETTER
        if self.ci_high < 0:
            return WORSE
        return NO_DIFFERENCE

    def summary(self) -> str:
        return (f"{self.metric}: challenger {self.challenger:.3f} vs champion "
                f"{self.champion:.3f}, improvement {self.improvement:+.3f} "
                f"[{self.ci_low:+.3f}, {self.ci_high:+.3f}] ({self.confidence:.0%} paired "
                f"bootstrap, {self.n_labelled} labelled / {self.n_positives} positive of "
                f"{self.n_ranked} ranked)")

    def as_tags(self) -> dict[str, str]:
        return {f"gate.{key}": f"{value:.6g}" if isinstance(value, float) else str(value)
                for key, value in asdict(self).items()}


@dataclass(frozen=True)
class PromotionDecision:
    """Whether the challenger becomes champion, and why (English, for the run report)."""

    promote: bool
    reason: str


def metric_and_cut(metric_name: str, n_ranked: int, capacity: int) -> tuple[Metric, int | None]:
    """The metric function and its list length k for a result-table name such as
    `precision_at_capacity`, `recall_at_top_1pct` or `average_precision`."""
    base, _, cut = metric_name.partition("_at_")
    metric = METRICS[base]
    if not metric.needs_k:
        return metric, None
    if cut == "capacity":
        return metric, capacity
    if cut.startswith("top_") and cut.endswith("pct"):
        return metric, k_for_top_percent(n_ranked, float(cut[len("top_"):-len("pct")]))
    raise KeyError(f"metric {metric_name!r} needs a cut (capacity or top_<p>pct)")


def paired_comparison(labels: pd.Series, challenger: pd.Series, champion: pd.Series,
                      metric_name: str, capacity: int, *, n_samples: int, seed: int,
                      confidence: float) -> PairedComparison:
    """Compare two models' scores of the same workplaces (index) on the same labels.

    Each bootstrap resample weights every workplace by how often it was drawn, and the SAME
    weights go to both models' rankings. Resamples where either metric is undefined are left
    out; fewer than half defined gives a NaN interval (noise not measurable).
    """
    ids = challenger.index
    champion = champion.reindex(ids)
    y = labels.reindex(ids).astype(float)
    metric, k = metric_and_cut(metric_name, len(ids), capacity)
    rankings = [rank(y, scores) for scores in (challenger, champion)]
    positions = [ids.get_indexer(r.ids) for r in rankings]
    sign = 1.0 if greater_is_better(metric_name) else -1.0
    values = [metric.function(r, k, None) for r in rankings]
    differences = np.array([
        metric.function(rankings[0], k, w[positions[0]].astype(float))
        - metric.function(rankings[1], k, w[positions[1]].astype(float))
        for w in bootstrap_weights(len(ids), n_samples, seed)
    ]) * sign
    defined = differences[~np.isnan(differences)]
    low = high = math.nan
    if len(defined) >= max(n_samples, 1) / 2:
        tail = (1.0 - confidence) / 2.0 * 100.0
        low, high = (float(v) for v in np.percentile(defined, [tail, 100.0 - tail]))
    return PairedComparison(
        metric=metric_name, challenger=values[0], champion=values[1],
        improvement=sign * (values[0] - values[1]), ci_low=low, ci_high=high,
        confidence=confidence, n_ranked=len(ids), n_labelled=int(y.notna().sum()),
        n_positives=int((y == 1.0).sum()),
    )


def decide_promotion(comparison: PairedComparison | None, checks: Mapping[str, bool | None],
                     required_checks: Sequence[str], challenger_value: float | None = None,
                     ) -> PromotionDecision:
    """Apply the gate in the module docstring; `comparison` is None when there is no champion
    (then `challenger_value` is the challenger's metric on the gate rows). A check is True
    (passed), False (failed) or None (not applicable: no champion)."""
    if comparison is None:
        return _first_model(checks, required_checks, challenger_value)
    failed = [name for name in required_checks if checks.get(name) is not True]
    if failed:
        return PromotionDecision(False, f"Stays challenger: check(s) failed, missing or not "
                                        f"measured: {', '.join(failed)}.")
    summary = comparison.summary()
    undefined = [name for name, value in (("the challenger's metric", comparison.challenger),
                                          ("the champion's metric", comparison.champion),
                                          ("the paired interval", comparison.ci_low))
                 if math.isnan(value)]
    if undefined:
        return PromotionDecision(False, f"Stays challenger: {' and '.join(undefined)} undefined "
                                        f"on the gate rows (too few labelled workplaces where "
                                        f"the metric looks); {summary}.")
    verdict = comparison.verdict
    if verdict == WORSE:
        return PromotionDecision(False, f"Stays challenger: {WORSE} than the champion; "
                                        f"{summary}.")
    if verdict == BETTER:
        return PromotionDecision(True, f"Becomes champion: {BETTER} than the champion; "
                                       f"{summary}.")
    return PromotionDecision(True, f"Becomes champion: {NO_DIFFERENCE}, not an improvement; "
                                   f"the newer model learned from newer data; {summary}.")


def _first_model(checks: Mapping[str, bool | None], required_checks: Sequence[str],
                 value: float | None) -> PromotionDecision:
    """The very first model: promoted unless a check that could be measured failed."""
    failed = [name for name in required_checks if checks.get(name) is False]
    if failed:
        return PromotionDecision(False, f"Stays challenger: check(s) failed: "
                                        f"{', '.join(failed)}.")
    measured = ("undefined on the gate rows (no labelled workplace where the metric looks)"
                if value is None or math.isnan(value) else f"{value:.3f} on the gate rows")
    unmeasured = [name for name in required_checks if checks.get(name) is None]
    return PromotionDecision(True, f"Becomes champion: first model registered, nothing to "
                                   f"compare it with (metric {measured}; not applicable "
                                   f"without a champion: {', '.join(unmeasured) or 'none'}).")


def not_enough_evidence(why: str) -> PromotionDecision:
    """The champion stays: no gate rows where both models are out of sample and informative."""
    return PromotionDecision(False, f"Stays challenger: not enough new evidence (sin evidencia "
                                    f"nueva suficiente): {why}.")

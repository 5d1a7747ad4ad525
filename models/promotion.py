"""The promotion gate: a pure decision on whether a new model may replace the champion.

Rule (config `promotion:`), on the NEWEST test window, both models scored on the same
workplaces and labels:

- every named check in `required_checks` must be present and True (data quality now,
  fairness once it exists); a missing check counts as failed;
- the challenger's precision at capacity must be defined (its top k held labelled rows);
- its bootstrap upper bound must reach the champion's point estimate:
  `challenger.ci_high >= champion.value`. A challenger inside the noise of the champion is
  accepted (the newer model learned from newer data); one whose whole interval lies below
  the champion's estimate is refused and stays challenger;
- the first model ever registered becomes champion if its checks pass.
The decision never touches MLflow; pipelines/tracking.py applies it to the aliases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowResult:
    """A model's metric on the newest test window: point estimate and bootstrap interval."""

    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class PromotionDecision:
    """Whether the challenger becomes champion, and why (English, for the run report)."""

    promote: bool
    reason: str


def decide_promotion(challenger: WindowResult, champion: WindowResult | None,
                     checks: Mapping[str, bool], required_checks: Sequence[str],
                     metric: str = "precision_at_capacity") -> PromotionDecision:
    """Apply the gate in the module docstring."""
    failed = [name for name in required_checks if not checks.get(name, False)]
    if failed:
        return PromotionDecision(False, f"Stays challenger: check(s) failed or missing: "
                                        f"{', '.join(failed)}.")
    if math.isnan(challenger.value):
        return PromotionDecision(False, f"Stays challenger: {metric} is undefined on the newest "
                                        "test window (no labelled workplace in its top k).")
    if champion is None:
        return PromotionDecision(True, f"Becomes champion: first model registered "
                                       f"({metric} {challenger.value:.3f}).")
    summary = (
        f"challenger {metric} {challenger.value:.3f} "
        f"[{challenger.ci_low:.3f}, {challenger.ci_high:.3f}] vs champion {champion.value:.3f}"
    )
    if math.isnan(champion.value):
        return PromotionDecision(True, f"Becomes champion: the champion's {metric} is undefined "
                                       f"on the newest test window; {summary}.")
    if math.isnan(challenger.ci_high) or challenger.ci_high < champion.value:
        return PromotionDecision(False, f"Stays challenger: worse than the champion beyond "
                                        f"bootstrap noise; {summary}.")
    return PromotionDecision(True, f"Becomes champion: not worse than the champion beyond "
                                   f"bootstrap noise; {summary}.")

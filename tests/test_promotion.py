"""The gate refuses a challenger worse beyond noise and accepts one equal within noise."""

from __future__ import annotations

import math

from models.promotion import WindowResult, decide_promotion

CHECKS_OK = {"data_quality": True}
REQUIRED = ["data_quality"]
CHAMPION = WindowResult(value=0.20, ci_low=0.15, ci_high=0.25)


def test_first_model_becomes_champion() -> None:
    decision = decide_promotion(WindowResult(0.1, 0.05, 0.15), None, CHECKS_OK, REQUIRED)
    assert decision.promote and "first model" in decision.reason


def test_worse_beyond_noise_stays_challenger() -> None:
    decision = decide_promotion(WindowResult(0.12, 0.08, 0.18), CHAMPION, CHECKS_OK, REQUIRED)
    assert not decision.promote
    assert "beyond bootstrap noise" in decision.reason and "0.200" in decision.reason


def test_equal_within_noise_is_accepted() -> None:
    decision = decide_promotion(WindowResult(0.18, 0.13, 0.23), CHAMPION, CHECKS_OK, REQUIRED)
    assert decision.promote


def test_upper_bound_exactly_at_the_champion_estimate_is_accepted() -> None:
    assert decide_promotion(WindowResult(0.15, 0.1, 0.20), CHAMPION, CHECKS_OK, REQUIRED).promote


def test_failed_or_missing_check_blocks_even_a_better_model() -> None:
    better = WindowResult(0.40, 0.35, 0.45)
    failed = decide_promotion(better, CHAMPION, {"data_quality": False}, REQUIRED)
    assert not failed.promote and "data_quality" in failed.reason
    missing = decide_promotion(better, CHAMPION, CHECKS_OK, [*REQUIRED, "fairness"])
    assert not missing.promote and "fairness" in missing.reason
    assert not decide_promotion(better, None, {}, REQUIRED).promote


def test_undefined_challenger_metric_is_not_promoted() -> None:
    undefined = WindowResult(math.nan, math.nan, math.nan)
    assert not decide_promotion(undefined, CHAMPION, CHECKS_OK, REQUIRED).promote

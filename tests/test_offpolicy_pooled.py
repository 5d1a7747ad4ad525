"""Off-policy estimates pooled over past periods: effective sample size, the evidence rule and
the narrowing that pooling buys (synthetic periods with known propensities)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import SHIPPED

from models.offpolicy.estimates import EvaluationRows, PeriodTerms, pooled_dates, pooled_figures
from models.offpolicy.estimators import (
    HORVITZ_THOMPSON,
    INSUFFICIENT,
    SUFFICIENT,
    EstimatorOptions,
    evidence_of,
    kish_effective_size,
    pooled_mean,
)
from reporting.estimates import estimate_text, offpolicy_metrics
from settings.loader import with_overrides

OPTIONS = EstimatorOptions(HORVITZ_THOMPSON, 0.01, 0.90, 999, 0)
CAPACITY = 400


def period(as_of: str, seed: int, ids: pd.Index | None = None) -> PeriodTerms:
    """A list of CAPACITY workplaces of which about a fifth were inspected (chance 0.1 or 0.3),
    true precision 0.2."""
    rng = np.random.default_rng(seed)
    ids = ids if ids is not None else pd.Index([f"W{seed}-{i}" for i in range(CAPACITY)],
                                               name="workplace_id")
    propensity = rng.choice([0.1, 0.3], size=len(ids))
    observed = rng.uniform(size=len(ids)) < propensity
    outcome = np.where(observed, (rng.uniform(size=len(ids)) < 0.2).astype(float), np.nan)
    frame = pd.DataFrame({"observed": observed, "outcome": outcome, "propensity": propensity,
                          "prediction": 0.2, "listed": True,
                          "part": np.where(np.arange(len(ids)) % 2, "new", "follow_up"),
                          "department": "15"}, index=ids)
    scores = pd.Series(rng.uniform(size=len(ids)), index=ids)
    rows = EvaluationRows(pd.Timestamp(as_of), pd.DataFrame(index=ids), scores,
                          pd.Series(outcome, index=ids), f"a model trained before {as_of}")
    return PeriodTerms(rows, frame, 1.0)


def test_kish_effective_sample_size() -> None:
    assert kish_effective_size(np.ones(4)) == 4.0
    assert kish_effective_size(np.array([1.0, 3.0])) == pytest.approx(16 / 10)
    assert kish_effective_size(np.array([])) == 0.0
    p = period("2024-01-01", 1).frame
    estimate = pooled_mean(p["observed"].to_numpy(), p["outcome"].to_numpy(),
                           p["propensity"].to_numpy(), options=OPTIONS)
    weights = 1.0 / p.loc[p["observed"], "propensity"].to_numpy()
    assert estimate.effective_sample_size == pytest.approx(
        weights.sum() ** 2 / (weights ** 2).sum())
    assert estimate.n_observed == int(p["observed"].sum())
    assert estimate.n_positive == int(p["outcome"].sum())


def test_pooling_two_periods_narrows_the_interval() -> None:
    one = pooled_figures([period("2024-07-01", 1)], CAPACITY, OPTIONS, 0.25)["list_precision"]
    two = pooled_figures([period("2024-07-01", 1), period("2024-01-01", 2)], CAPACITY, OPTIONS,
                         0.25)["list_precision"]
    assert two["periods"] == 2 and two["n_target"] == 2 * CAPACITY
    assert two["effective_sample_size"] > 1.8 * one["effective_sample_size"]
    assert two["high"] - two["low"] < 0.85 * (one["high"] - one["low"])
    assert two["low"] <= 0.2 <= two["high"]


def test_the_same_workplaces_in_two_periods_are_resampled_together() -> None:
    """Repeating one period's rows is no new evidence: clustered by workplace, the interval does
    not shrink as it would for independent rows."""
    first = period("2024-07-01", 1).frame
    stacked = pd.concat([first, first])
    clusters = stacked.index.to_numpy()
    arrays = [stacked[c].to_numpy() for c in ("observed", "outcome", "propensity")]
    clustered = pooled_mean(*arrays, clusters=clusters, options=OPTIONS)
    independent = pooled_mean(*arrays, options=OPTIONS)
    assert clustered.estimate == pytest.approx(independent.estimate)
    assert clustered.width > 1.25 * independent.width


def test_thin_evidence_is_insufficient_with_the_visits_needed() -> None:
    thin = period("2024-07-01", 6, pd.Index([f"T{i}" for i in range(60)]))
    figures = pooled_figures([thin], 60, OPTIONS, 0.25)["list_precision"]
    assert figures["evidence"] == INSUFFICIENT and figures["interval_width"] > 0.25
    needed = figures["visits_needed"]
    assert needed >= 1
    # that many more equally weighted visits at the observed rate do reach the width
    n = int(round(figures["effective_sample_size"] + needed))
    outcome = (np.arange(n) < round(figures["estimate"] * n)).astype(float)
    visited = pooled_mean(np.ones(n, bool), outcome, np.ones(n), options=OPTIONS)
    assert visited.width <= 0.25 * 1.1


def test_ample_evidence_is_sufficient() -> None:
    periods = [period(f"20{year}-01-01", year) for year in range(18, 24)]
    figures = pooled_figures(periods, CAPACITY, OPTIONS, 0.25)
    precision = figures["list_precision"]
    assert precision["evidence"] == SUFFICIENT and precision["visits_needed"] == 0
    assert precision["interval_width"] <= 0.25
    assert set(figures["list_precision_by_case"]) == {"new", "follow_up"}
    assert figures["prevalence_by_department"]["15"]["evidence"] in (SUFFICIENT, INSUFFICIENT)


def test_no_observation_asks_for_the_worst_case_visits() -> None:
    nobody = pooled_mean(np.zeros(10, bool), np.full(10, np.nan), np.full(10, 0.1),
                         options=OPTIONS)
    verdict = evidence_of(nobody, 0.25)
    z = 1.6448536269514722
    assert verdict.evidence == INSUFFICIENT
    assert verdict.visits_needed == int(np.ceil((2 * z) ** 2 * 0.25 / 0.25 ** 2))


def test_the_report_says_evidencia_insuficiente_instead_of_the_interval() -> None:
    thin = pooled_figures([period("2024-07-01", 6, pd.Index([f"T{i}" for i in range(60)]))], 60,
                          OPTIONS, 0.25)
    ample = pooled_figures([period(f"20{year}-01-01", year) for year in range(18, 24)],
                           CAPACITY, OPTIONS, 0.25)
    thin_text = estimate_text(thin["list_precision"])
    assert "evidencia insuficiente" in thin_text
    assert f"about {thin['list_precision']['visits_needed']} more inspected visits" in thin_text
    assert "evidencia insuficiente" not in estimate_text(ample["list_precision"])
    metrics = offpolicy_metrics(thin)
    assert metrics["offpolicy_list_evidence_sufficient"] == 0.0
    assert metrics["offpolicy_list_visits_needed"] == thin["list_precision"]["visits_needed"]
    assert offpolicy_metrics(ample)["offpolicy_list_evidence_sufficient"] == 1.0


def test_pooled_dates_have_known_outcomes_and_do_not_overlap() -> None:
    """With 6-month labels and a 6-month outcome lag, planning 2026-07-01: dates after 2025-07-01
    have unknown outcomes; 3-monthly windows overlap, so every other one pools; at most
    `max_pooled_periods`."""
    config = with_overrides(SHIPPED, {"offpolicy": {"max_pooled_periods": 3}})
    windows = list(pd.date_range("2023-10-01", "2026-04-01", freq="3MS"))
    log = pd.DataFrame({"planning_date": [pd.Timestamp("2025-06-01")]})
    dates = pooled_dates(log, pd.Timestamp("2026-07-01"), config, windows)
    assert dates == [pd.Timestamp("2025-07-01"), pd.Timestamp("2025-01-01"),
                     pd.Timestamp("2024-07-01")]
    assert pooled_dates(log.iloc[0:0], pd.Timestamp("2026-07-01"), config,
                        [pd.Timestamp("2025-06-01")]) == [pd.Timestamp("2025-06-01")]
    assert pooled_dates(log, pd.Timestamp("2025-07-01"), config, []) == []

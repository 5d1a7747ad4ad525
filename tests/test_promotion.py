"""The gate: paired bootstrap of champion vs challenger on the same rows, and its decision rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.metrics import bootstrap_interval, rank
from models.selection.gate import GateScores
from models.selection.promotion import (
    BETTER,
    NO_DIFFERENCE,
    WORSE,
    PairedComparison,
    decide_promotion,
    metric_and_cut,
    not_enough_evidence,
    paired_comparison,
)

CHECKS_OK = {"drift": True}
REQUIRED = ["drift"]


@pytest.fixture(scope="module")
def world() -> tuple[pd.Series, pd.Series, pd.Series]:
    """5,000 workplaces, a hidden risk, 1,500 inspected; a good model sees the risk with noise."""
    rng = np.random.default_rng(3)
    n = 5000
    ids = pd.Index([f"W{i:05d}" for i in range(n)], name="workplace_id")
    risk = rng.beta(0.5, 8.0, n)
    labels = pd.Series(np.where(rng.random(n) < 0.3, (rng.random(n) < risk) * 1.0, np.nan),
                       index=ids)
    good = pd.Series(risk + rng.normal(0, 0.02, n), index=ids)
    noise = pd.Series(rng.random(n), index=ids)
    return labels, good, noise


def compare(labels: pd.Series, challenger: pd.Series, champion: pd.Series,
            metric: str = "precision_at_capacity") -> PairedComparison:
    return paired_comparison(labels, challenger, champion, metric, capacity=250, n_samples=200,
                             seed=1, confidence=0.9)


def test_a_challenger_scoring_noise_is_refused(world) -> None:
    labels, good, noise = world
    comparison = compare(labels, noise, good)
    assert comparison.verdict == WORSE and comparison.ci_high < 0
    decision = decide_promotion(comparison, CHECKS_OK, REQUIRED)
    assert not decision.promote and WORSE in decision.reason


def test_an_unchanged_model_is_no_difference_not_an_improvement(world) -> None:
    labels, good, _ = world
    comparison = compare(labels, good, good.copy())
    assert comparison.improvement == 0 and comparison.ci_low == comparison.ci_high == 0
    assert comparison.verdict == NO_DIFFERENCE
    decision = decide_promotion(comparison, CHECKS_OK, REQUIRED)
    assert decision.promote and NO_DIFFERENCE in decision.reason
    assert "not an improvement" in decision.reason and BETTER not in decision.reason


def test_a_clearly_better_challenger_is_better_beyond_noise(world) -> None:
    labels, good, noise = world
    comparison = compare(labels, good, noise)
    assert comparison.verdict == BETTER
    assert decide_promotion(comparison, CHECKS_OK, REQUIRED).promote


def test_direction_comes_from_the_metric(world) -> None:
    """Brier score: lower is better, so a noisy challenger's improvement is still negative."""
    labels, good, noise = world
    comparison = compare(labels, noise, good.clip(0, 1), metric="brier_score")
    assert comparison.challenger > comparison.champion  # a worse (higher) Brier score
    assert comparison.improvement < 0 and comparison.verdict == WORSE


def test_the_bootstrap_is_paired(world) -> None:
    """Two close models drawn on the same resamples: the difference's interval is far narrower
    than either model's own interval (independent resamples would add their noise)."""
    labels, good, _ = world
    close = good + np.random.default_rng(5).normal(0, 0.01, len(good))
    comparison = compare(labels, close, good)
    ranking = rank(labels, close)
    metric, k = metric_and_cut("precision_at_capacity", len(close), 250)
    low, high = bootstrap_interval(ranking, metric, k, 200, seed=1, confidence=0.9)
    assert comparison.ci_high - comparison.ci_low < 0.5 * (high - low)
    assert comparison.verdict == NO_DIFFERENCE


def test_first_model_becomes_champion_and_says_what_could_not_be_measured() -> None:
    decision = decide_promotion(None, {"drift": None, "fairness": None}, [*REQUIRED, "fairness"],
                                challenger_value=0.1)
    assert decision.promote and "first model" in decision.reason
    assert "not applicable without a champion: drift, fairness" in decision.reason
    undefined = decide_promotion(None, {"drift": None}, REQUIRED, challenger_value=math.nan)
    assert undefined.promote and "undefined" in undefined.reason


def test_failed_or_missing_check_blocks_even_a_better_model(world) -> None:
    labels, good, noise = world
    better = compare(labels, good, noise)
    failed = decide_promotion(better, {"drift": False}, REQUIRED)
    assert not failed.promote and "drift" in failed.reason
    missing = decide_promotion(better, CHECKS_OK, [*REQUIRED, "fairness"])
    assert not missing.promote and "fairness" in missing.reason
    unmeasured = decide_promotion(better, {"drift": None}, REQUIRED)
    assert not unmeasured.promote and "drift" in unmeasured.reason
    assert not decide_promotion(None, {"drift": False}, REQUIRED, challenger_value=0.3).promote


@pytest.mark.parametrize("undefined", ["challenger", "champion", "ci_low"])
def test_a_nan_figure_refuses_and_never_promotes(world, undefined: str) -> None:
    labels, good, noise = world
    better = compare(labels, good, noise)
    fields = {"challenger": better.challenger, "champion": better.champion,
              "ci_low": better.ci_low, "ci_high": better.ci_high, undefined: math.nan}
    if undefined == "ci_low":
        fields["ci_high"] = math.nan
    nan = PairedComparison(**{**better.__dict__, **fields})
    decision = decide_promotion(nan, CHECKS_OK, REQUIRED)
    assert not decision.promote and "undefined on the gate rows" in decision.reason


def test_not_enough_evidence_keeps_the_champion() -> None:
    decision = not_enough_evidence("3 positive outcomes")
    assert not decision.promote and "sin evidencia nueva suficiente" in decision.reason


def test_metric_cut_names() -> None:
    assert metric_and_cut("precision_at_capacity", 1000, 40)[1] == 40
    assert metric_and_cut("recall_at_top_5pct", 1000, 40)[1] == 50
    assert metric_and_cut("average_precision", 1000, 40)[1] is None


def test_run_gate_refuses_a_noise_model_against_a_real_champion(world) -> None:
    """The run-level gate with fitted models: a champion that learned the risk, a challenger
    that scores constants (its order is the tie key's, i.e. noise)."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    from models.selection.gate import GateRows, judge
    from models.training.planning import score
    from settings.loader import load_config

    labels, good, _ = world
    features = pd.DataFrame({"signal": good.to_numpy()}, index=good.index)
    known = labels.notna()
    champion = LogisticRegression().fit(features[known], labels[known])
    noise = DummyClassifier(strategy="prior").fit(features[known], labels[known])
    rows = GateRows(pd.Timestamp("2026-01-01"), features, labels, "test", "constructed rows",
                    audit_groups_of(features.index))
    config = load_config(None)

    def scores(challenger, champion) -> GateScores:
        return GateScores(score(challenger, features),
                          None if champion is None else score(champion, features))

    refused = judge(rows, scores(noise, champion), CHECKS_OK, [], config)
    assert not refused.decision.promote and refused.comparison.verdict == WORSE
    assert refused.tags()["gate.decision"] == "refuse"
    same = judge(rows, scores(champion, champion), CHECKS_OK, [], config)
    assert same.decision.promote and NO_DIFFERENCE in same.decision.reason
    first = judge(rows, scores(champion, None), {"drift": None}, [], config)
    assert first.decision.promote and "first model" in first.decision.reason
    assert first.checks["fairness"] is None and first.tags()["gate.check.fairness"] == (
        "not applicable")


def audit_groups_of(ids: pd.Index) -> pd.DataFrame:
    """Fairness attributes of constructed workplaces: two offices (alternating), one of each
    other attribute."""
    return pd.DataFrame({"office": np.where(np.arange(len(ids)) % 2, "B", "A"),
                         "size_band": "micro", "ciiu_division": "01", "person_type": "empresa"},
                        index=ids)


def test_run_gate_refuses_a_challenger_with_a_worse_disparity(world) -> None:
    """A challenger that learned to pass over office B (its labels there were hidden as
    negatives) is refused by the computed `fairness` check, with the reason named."""
    from sklearn.linear_model import LogisticRegression

    from models.selection.gate import GateRows, judge
    from models.training.planning import score
    from settings.loader import load_config

    labels, good, _ = world
    groups = audit_groups_of(good.index)
    in_b = (groups["office"] == "B").to_numpy(dtype=float)
    features = pd.DataFrame({"signal": good.to_numpy(), "office_b": in_b}, index=good.index)
    known = labels.notna()
    champion = LogisticRegression().fit(features[known], labels[known])
    skewed = labels.where(in_b == 0, 0.0)
    challenger = LogisticRegression(C=100.0).fit(features[known], skewed[known])
    rows = GateRows(pd.Timestamp("2026-01-01"), features, labels, "test", "constructed rows",
                    groups)
    config = load_config(None)
    outcome = judge(rows, GateScores(score(challenger, features), score(champion, features)),
                    CHECKS_OK, [], config)
    assert outcome.checks["fairness"] is False and not outcome.decision.promote
    assert "fairness" in outcome.decision.reason
    assert any("recall disparity by office" in failure for failure in outcome.check_failures)
    same = score(champion, features)
    fair = judge(rows, GateScores(same, same), CHECKS_OK, [], config)
    assert fair.checks["fairness"] is True and fair.decision.promote


def test_a_registered_champion_without_a_label_cutoff_counts_as_trained_up_to_its_date() -> None:
    from models.training.planning import Contender

    tagged = Contender.registered("model", {"label_cutoff": "2025-04-01",
                                            "planning_date": "2025-07-01", "model_group": "g"})
    assert tagged.label_cutoff == pd.Timestamp("2025-04-01") and tagged.model_group == "g"
    older = Contender.registered("model", {"planning_date": "2025-07-01"})
    assert older.label_cutoff == pd.Timestamp("2025-07-01") and older.model == "model"

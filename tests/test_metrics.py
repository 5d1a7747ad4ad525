"""Metrics of a ranked list on hand-made cases: ties, NaN labels, no positives, k too large."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

import models.metrics as metrics_module
from models.metrics import (
    METRICS,
    Resamples,
    average_precision,
    bootstrap_interval,
    bootstrap_weights,
    brier_score,
    calibration_table,
    greater_is_better,
    k_for_top_percent,
    lift_at_k,
    precision_at_k,
    rank,
    recall_at_k,
    score_table,
    stable_tie_key,
    ties_at_cut,
    top_k_ids,
    top_k_jaccard,
)
from reporting.plots import plot_calibration

IDS = [f"W{i}" for i in range(6)]


def series(values, ids=IDS) -> pd.Series:
    return pd.Series(values, index=pd.Index(ids, name="workplace_id"), dtype=float)


def test_unlabelled_rows_take_list_slots_but_do_not_count() -> None:
    y = series([np.nan, 1, 0, np.nan, 1, 0])
    s = series([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    # Top 3: W0 (no label), W1 (1), W2 (0) -> 1 positive of 2 labelled.
    assert precision_at_k(y, s, 3) == pytest.approx(0.5)
    assert recall_at_k(y, s, 3) == pytest.approx(0.5)
    # Base rate 2/4 -> lift 1.0.
    assert lift_at_k(y, s, 3) == pytest.approx(1.0)
    assert brier_score(y, s) == pytest.approx(np.mean([0.2**2, 0.7**2, 0.5**2, 0.4**2]))


def test_precision_is_nan_when_the_top_k_holds_no_labelled_row() -> None:
    y = series([np.nan, np.nan, 1, 0, 0, 0])
    s = series([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert math.isnan(precision_at_k(y, s, 2))
    assert precision_at_k(y, s, 3) == pytest.approx(1.0)


def test_no_positives_gives_zero_precision_and_undefined_recall_lift_ap() -> None:
    y = series([0, 0, np.nan, 0, 0, 0])
    s = series([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert precision_at_k(y, s, 3) == 0.0
    assert math.isnan(recall_at_k(y, s, 3))
    assert math.isnan(lift_at_k(y, s, 3))
    assert math.isnan(average_precision(y, s))


def test_k_larger_than_the_population_uses_every_labelled_row() -> None:
    y = series([1, np.nan, 0, 0, 1, 0])
    s = series([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert precision_at_k(y, s, 100) == pytest.approx(2 / 5)
    assert recall_at_k(y, s, 100) == pytest.approx(1.0)


def test_ties_are_broken_by_the_hash_of_the_workplace_id_whatever_the_row_order() -> None:
    y = series([1, 0, 0, 0, 0, 0])
    s = series([0.5] * 6)
    ranking = rank(y, s)
    expected_order = [IDS[i] for i in np.argsort(stable_tie_key(IDS), kind="stable")]
    assert list(ranking.ids) == expected_order
    shuffled = [3, 5, 0, 2, 1, 4]
    assert list(rank(y.iloc[shuffled], s.iloc[shuffled]).ids) == expected_order
    assert ties_at_cut(ranking, 2) == 6
    assert top_k_ids(s, 2) == expected_order[:2]


def test_top_k_ids_are_the_head_of_the_full_ranking() -> None:
    rng = np.random.default_rng(3)
    for trial in range(200):
        n, k = int(rng.integers(1, 40)), int(rng.integers(-1, 45))
        scores = pd.Series(np.round(rng.random(n), int(rng.integers(1, 3))),  # ties at the cut
                           index=[f"20{i:09d}-0001" for i in rng.permutation(n)])
        full = [str(i) for i in rank(np.zeros(n), scores).ids]
        assert top_k_ids(scores, k) == full[:k], trial
    with pytest.raises(ValueError, match="NaN"):
        top_k_ids(pd.Series([0.5, np.nan, 0.1], index=["a", "b", "c"]), 1)


def test_tie_keys_are_the_sha256_of_the_id_text_whatever_the_memo_holds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo of keys never changes a key: ids as text, numbers or repeated, lists longer than
    what it remembers, lists half known."""
    def sha256_key(value: object) -> int:
        return int.from_bytes(hashlib.sha256(str(value).encode()).digest()[:8], "big")

    monkeypatch.setattr(metrics_module, "_TIE_KEYS", metrics_module._TieKeyMemo())
    monkeypatch.setattr(metrics_module._TieKeyMemo, "limit", 5)
    lists = [["b", "a", "b"], [7, "c", 2.5], ["a", "d", "e", "f"], [f"x{i}" for i in range(8)],
             ["a", "x1", "b"], []]
    for ids in lists:
        assert stable_tie_key(ids).tolist() == [sha256_key(i) for i in ids]
        assert stable_tie_key(pd.Index(ids, dtype=object)).tolist() == [sha256_key(i) for i in ids]


def test_ties_at_cut_is_zero_when_the_cut_falls_between_distinct_scores() -> None:
    s = series([0.9, 0.9, 0.5, 0.5, 0.5, 0.1])
    ranking = rank(np.zeros(6), s)
    assert ties_at_cut(ranking, 2) == 0
    assert ties_at_cut(ranking, 3) == 3
    assert ties_at_cut(ranking, 5) == 0


def test_directions_are_declared_by_each_metric() -> None:
    assert greater_is_better("precision_at_capacity")
    assert greater_is_better("recall_at_top_1pct")
    assert not greater_is_better("brier_score")
    assert greater_is_better("top_k_jaccard")
    with pytest.raises(KeyError):
        greater_is_better("accuracy")


def test_k_for_top_percent_rounds_up() -> None:
    assert k_for_top_percent(50_000, 1) == 500
    assert k_for_top_percent(150, 1) == 2
    assert k_for_top_percent(10, 0.1) == 1


def test_bootstrap_interval_is_seeded_and_contains_the_estimate() -> None:
    rng = np.random.default_rng(0)
    n = 400
    y = np.where(rng.random(n) < 0.5, (rng.random(n) < 0.2).astype(float), np.nan)
    s = rng.random(n) + 0.3 * np.nan_to_num(y)
    ranking = rank(y, s)
    metric = METRICS["precision"]
    first = bootstrap_interval(ranking, metric, 100, 100, seed=5, confidence=0.9)
    assert first == bootstrap_interval(ranking, metric, 100, 100, seed=5, confidence=0.9)
    estimate = metric.function(ranking, 100, None)
    assert first[0] <= estimate <= first[1]
    assert first[0] < first[1]


@pytest.mark.parametrize("first_labelled", [True, False])
def test_all_resamples_at_once_equal_each_resample_alone(first_labelled: bool) -> None:
    """The bootstrap reads labelled rows and the copies ranked above them; its values must be
    those of every metric on each resample's full weights (ties, unlabelled rows, a labelled or
    unlabelled first row)."""
    rng = np.random.default_rng(3)
    n = 300
    y = np.where(rng.random(n) < 0.3, (rng.random(n) < 0.1).astype(float), np.nan)
    y[0] = 1.0 if first_labelled else np.nan
    s = np.round(rng.random(n), 1) + 0.2 * np.nan_to_num(y)  # many ties
    ranking = rank(y, s)
    weights = bootstrap_weights(n, 60, seed=2)
    resamples = Resamples(ranking, weights)
    for metric in METRICS.values():
        for k in (1, 17, 150, 400) if metric.needs_k else (None,):
            alone = np.array([metric.function(ranking, k, w.astype(float)) for w in weights])
            together = resamples.values(metric, k)
            exact = metric.name != "average_precision"  # float rounding of the sums only
            np.testing.assert_allclose(together, alone, rtol=0 if exact else 1e-12,
                                       atol=0 if exact else 1e-15, err_msg=f"{metric.name} {k}")


def test_score_table_reports_counts_intervals_and_directions() -> None:
    y = series([np.nan, 1, 0, np.nan, 1, 0])
    s = series([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    table = score_table(y, s, capacity=3, top_percents=(50,), n_bootstrap=50, seed=1,
                        confidence=0.9)
    row = table.set_index("metric").loc["precision_at_capacity"]
    assert row["value"] == pytest.approx(0.5)
    assert (row["n_labelled_in_top_k"], row["n_positives_in_top_k"]) == (2, 1)
    assert (row["n_labelled"], row["n_positives"], row["n_ranked"]) == (4, 2, 6)
    assert "precision_at_top_50pct" in table["metric"].values
    assert not table.set_index("metric").loc["brier_score", "greater_is_better"]


def test_a_window_where_nobody_was_inspected_gives_undefined_metrics_not_an_error() -> None:
    """A gap in the inspection record (visits suspended for months) leaves a test window with
    no labelled workplace: every metric and interval is NaN, the counts say why."""
    ids = [f"W{i}" for i in range(30)]
    s = series(np.linspace(0.0, 1.0, 30), ids)
    table = score_table(series([np.nan] * 30, ids), s, capacity=5, top_percents=(10,),
                        n_bootstrap=20, seed=1, confidence=0.9).set_index("metric")
    assert table[["value", "ci_low", "ci_high"]].isna().all().all()
    assert (table["n_labelled"] == 0).all() and (table["n_ranked"] == 30).all()


def test_one_draw_serves_every_list_of_the_same_length() -> None:
    """A backtest window draws its resamples once for all candidates: each candidate's table
    must equal the one it would draw itself, whatever order its scores rank the rows in."""
    rng = np.random.default_rng(5)
    n = 400
    ids = [f"W{i}" for i in range(n)]
    y = series(np.where(rng.random(n) < 0.3, (rng.random(n) < 0.2).astype(float), np.nan), ids)
    shared = bootstrap_weights(n, 80, seed=7)
    options = {"top_percents": (5,), "n_bootstrap": 80, "seed": 7, "confidence": 0.9}
    for candidate in range(3):
        s = series(np.random.default_rng(candidate).random(n), ids)
        pd.testing.assert_frame_equal(score_table(y, s, 20, **options, resample_counts=shared),
                                      score_table(y, s, 20, **options))
    other = score_table(y, s, 20, **options, resample_counts=bootstrap_weights(n, 80, seed=8))
    assert not other["ci_low"].equals(score_table(y, s, 20, **options)["ci_low"])  # read
    with pytest.raises(ValueError, match="80 resamples of 399"):
        score_table(y.iloc[1:], s.iloc[1:], 20, **options, resample_counts=shared)


def test_top_k_jaccard() -> None:
    assert top_k_jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert top_k_jaccard([], []) == 1.0


def test_calibration_table_uses_labelled_rows_and_plots() -> None:
    rng = np.random.default_rng(2)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(float)
    y[:300] = np.nan
    table = calibration_table(pd.Series(y), pd.Series(p), n_bins=5)
    assert table["n"].sum() == 700
    assert np.allclose(table["observed_rate"], table["mean_predicted"], atol=0.12)
    figure = plot_calibration(table)
    assert len(figure.axes) == 1

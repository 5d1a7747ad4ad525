"""Selection pools every labelled row of every window and does not follow noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import SHIPPED

from models.metrics import stable_tie_key
from models.selection.choose import (
    SelectionEvidence,
    WindowScores,
    paired_bootstrap,
    pooled_metric,
    select_model,
    top_k_stability,
    window_score_table,
)

CONFIG = SHIPPED.selection.model_copy(update={
    "rule": "noise_aware_average_precision_stable", "min_test_windows": 2,
    "include_baselines": False, "bootstrap_samples": 200, "noise_confidence": 0.9,
    "seed": 7, "simplicity_order": ["logistic_regression", "random_forest",
                                    "hist_gradient_boosting"],
    "worst_case_tolerance": 0.02, "worst_case_confidence": 0.9,
})


def with_rule(name: str):
    return CONFIG.model_copy(update={"rule": name})


def evidence(windows: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]], capacity: int,
             stability: dict[str, float] | None = None) -> SelectionEvidence:
    """Evidence from hand-made windows: labels (NaN = not inspected) and scores per group."""
    built = {}
    for split, (labels, scores) in windows.items():
        ids = [f"{split}-{i}" for i in range(len(labels))]
        built[split] = WindowScores(np.asarray(labels, dtype=float), pd.DataFrame(scores),
                                    stable_tie_key(ids))
    rows = [{"model_group": g, "split": s, "metric": "top_k_jaccard", "value": v}
            for g, v in (stability or {}).items() for s in list(windows)[1:]]
    metrics = pd.DataFrame(rows, columns=["model_group", "split", "metric", "value"])
    return SelectionEvidence(metrics, built, capacity)


def test_precision_at_capacity_is_pooled_by_counts_not_by_averaging_ratios() -> None:
    # Window A: top 2 hold 1 labelled positive (1/1). Window B: top 2 hold 2 labelled, 0 positive.
    nan = np.nan
    a = (np.array([1.0, nan, 0.0, 0.0]), {"m": np.array([0.9, 0.8, 0.2, 0.1])})
    b = (np.array([0.0, 0.0, 1.0, nan]), {"m": np.array([0.9, 0.8, 0.2, 0.1])})
    ev = evidence({"2025-01-01": a, "2025-04-01": b}, capacity=2)
    assert pooled_metric(ev, "m", "precision_at_capacity") == pytest.approx(1 / 3)  # not 0.5


def test_pooled_average_precision_averages_over_every_positive() -> None:
    # Window A ranks its positive 1st (precision 1); window B ranks its two positives 2nd and
    # 4th among labelled rows (precisions 1/2 and 2/4): pooled AP = (1 + 0.5 + 0.5) / 3.
    a = (np.array([1.0, 0.0, 0.0]), {"m": np.array([0.9, 0.5, 0.1])})
    b = (np.array([0.0, 1.0, 0.0, 1.0]), {"m": np.array([0.9, 0.8, 0.7, 0.6])})
    ev = evidence({"2025-01-01": a, "2025-04-01": b}, capacity=1)
    assert pooled_metric(ev, "m", "average_precision") == pytest.approx(2 / 3)


def test_labelled_share_cuts_the_labelled_rows_at_the_lists_share() -> None:
    # 10 workplaces, capacity 5: the list visits half; 4 labelled rows -> the top 2 of them.
    nan = np.nan
    labels = np.array([nan, 1.0, nan, 0.0, nan, 1.0, nan, 0.0, nan, nan])
    scores = {"m": np.linspace(1.0, 0.1, 10)}
    ev = evidence({"w1": (labels, scores), "w2": (labels, scores)}, capacity=5)
    assert pooled_metric(ev, "m", "precision_at_labelled_share") == pytest.approx(0.5)


def _noisy_windows(rng: np.random.Generator, n: int = 400) -> dict:
    """Two groups with the same skill and independent noise: which one is ahead is luck."""
    windows = {}
    for split in ("2025-01-01", "2025-04-01", "2025-07-01"):
        risk = rng.random(n)
        labels = (rng.random(n) < 0.05 + 0.15 * risk).astype(float)
        labels[rng.random(n) < 0.5] = np.nan
        steady = risk + rng.normal(0, 0.3, n)
        lucky = risk + rng.normal(0, 0.3, n)
        windows[split] = (labels, {"random_forest:steady": steady,
                                   "hist_gradient_boosting:lucky": lucky})
    return windows


def test_a_noisy_winner_within_noise_loses_to_a_stable_one() -> None:
    ev = evidence(_noisy_windows(np.random.default_rng(1)), capacity=40,
                  stability={"random_forest:steady": 0.8, "hist_gradient_boosting:lucky": 0.3})
    lucky_ap = pooled_metric(ev, "hist_gradient_boosting:lucky", "average_precision")
    assert lucky_ap > pooled_metric(ev, "random_forest:steady", "average_precision")
    plain = select_model(ev, with_rule("pooled_average_precision"))
    assert plain.model_group == "hist_gradient_boosting:lucky"
    aware = select_model(ev, CONFIG)
    assert aware.model_group == "random_forest:steady"
    assert "within paired-bootstrap noise" in aware.explanation
    simple = select_model(ev, with_rule("noise_aware_average_precision_simple"))
    assert simple.model_group == "random_forest:steady"


def test_a_winner_beyond_noise_is_chosen_even_if_less_stable() -> None:
    rng = np.random.default_rng(5)
    windows = {}
    for split in ("2025-01-01", "2025-04-01", "2025-07-01"):
        risk = rng.random(600)
        labels = (rng.random(600) < 0.02 + 0.3 * risk**3).astype(float)
        windows[split] = (labels, {"good": risk, "poor": rng.random(600)})
    ev = evidence(windows, capacity=30, stability={"good": 0.1, "poor": 0.9})
    choice = select_model(ev, CONFIG)
    assert choice.model_group == "good"
    assert choice.summary.at["poor", "best_ahead_share"] > 0.9


def test_paired_bootstrap_gives_identical_groups_identical_draws() -> None:
    windows = _noisy_windows(np.random.default_rng(1))
    for _labels, scores in windows.values():
        scores["twin"] = scores["random_forest:steady"].copy()
    ev = evidence(windows, capacity=40)
    draws = paired_bootstrap(ev, ["random_forest:steady", "twin"], "average_precision", 50, 0)
    assert np.allclose(draws["twin"], draws["random_forest:steady"])
    assert draws["twin"].std() > 0


def test_direction_comes_from_the_metric() -> None:
    labels = np.array([1.0, 0.0, 0.0, 1.0])
    windows = {s: (labels, {"sharp": np.array([0.9, 0.1, 0.1, 0.8]),
                            "vague": np.array([0.5, 0.5, 0.5, 0.5])}) for s in ("a", "b")}
    choice = select_model(evidence(windows, capacity=2), with_rule("pooled_brier_score"))
    assert choice.model_group == "sharp"


def test_baselines_are_not_chosen_unless_allowed() -> None:
    labels = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    windows = {s: (labels, {"baseline:oracle_like": np.array([0.9, 0.1, 0.1, 0.8, 0.1]),
                            "model": np.array([0.1, 0.9, 0.1, 0.8, 0.1])}) for s in ("a", "b")}
    ev = evidence(windows, capacity=2)
    config = with_rule("pooled_average_precision")
    choice = select_model(ev, config)
    assert choice.model_group == "model"
    assert "WARNING: the best baseline is at least as good" in choice.explanation
    assert select_model(ev, config.model_copy(update={"include_baselines": True})).model_group == (
        "baseline:oracle_like")


def test_too_few_labelled_windows_and_unknown_rules_are_refused() -> None:
    nan = np.nan
    windows = {"a": (np.array([1.0, 0.0]), {"m": np.array([0.6, 0.4])}),
               "b": (np.array([nan, nan]), {"m": np.array([0.6, 0.4])})}
    with pytest.raises(ValueError, match="at least 2"):
        select_model(evidence(windows, capacity=1), CONFIG)
    windows["b"] = windows["a"]
    with pytest.raises(ValueError, match="unknown"):
        select_model(evidence(windows, capacity=1), with_rule("best_last_window"))


def test_the_former_mean_window_rule_still_guards_the_worst_window() -> None:
    splits = ["2025-01-01", "2025-04-01", "2025-07-01"]
    values = {"a": [0.20, 0.20, 0.20], "c": [0.50, 0.05, 0.50]}
    metrics = pd.DataFrame([
        {"model_group": g, "split": s, "metric": "precision_at_capacity", "value": v}
        for g, series in values.items() for s, v in zip(splits, series, strict=True)])
    windows = {s: (np.array([1.0, 0.0]), {"a": np.array([0.6, 0.4]), "c": np.array([0.5, 0.5])})
               for s in splits}
    ev = evidence(windows, capacity=1)
    ev = SelectionEvidence(metrics, ev.windows, ev.capacity)
    choice = select_model(ev, with_rule("mean_window_precision"))
    assert choice.model_group == "a"
    assert "c (worst window 0.050)" in choice.explanation


def test_stability_is_the_jaccard_of_consecutive_top_lists() -> None:
    table = top_k_stability({"g": {"2025-01-01": ["a", "b"], "2025-04-01": ["b", "c"]}})
    assert table["value"].tolist() == [pytest.approx(1 / 3)]


def test_without_any_positive_the_preference_decides_and_says_so() -> None:
    labels = np.array([0.0, 0.0, np.nan, 0.0])
    windows = {s: (labels, {"hist_gradient_boosting:a": np.array([0.9, 0.1, 0.5, 0.2]),
                            "random_forest:b": np.array([0.1, 0.9, 0.5, 0.2])})
               for s in ("2025-01-01", "2025-04-01")}
    ev = evidence(windows, capacity=2, stability={"hist_gradient_boosting:a": 0.2,
                                                   "random_forest:b": 0.7})
    choice = select_model(ev, CONFIG)
    assert choice.model_group == "random_forest:b"
    assert "undefined for every candidate" in choice.explanation


def test_compact_backtest_scores_select_as_string_scores_do() -> None:
    """The backtest's scores keep `split` and `model_group` as categoricals (memory at national
    scale): the long frame reads like the plain one, and a window without one candidate (a
    baseline left out there) gets no empty column for it."""
    from models.training.backtest import BacktestResult, stacked_scores

    rng = np.random.default_rng(3)
    frames, plain = [], []
    for split, groups in (("2025-01-01", ["m", "baseline:b"]), ("2025-04-01", ["m"])):
        ids = pd.Index([f"w{i}" for i in range(50)])
        for group in groups:
            scores = rng.random(50)
            frames.append(pd.DataFrame({
                "split": pd.Categorical([split] * 50), "model_group": pd.Categorical([group] * 50),
                "workplace_id": ids, "score": scores}))
            plain.append(pd.DataFrame({"split": split, "model_group": group,
                                       "workplace_id": ids, "score": scores}))
    compact, strings = stacked_scores(frames), pd.concat(plain, ignore_index=True)
    assert isinstance(compact["model_group"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(compact.astype({"split": str, "model_group": str}), strings)
    labels = pd.DataFrame({"split": np.repeat(["2025-01-01", "2025-04-01"], 50),
                           "workplace_id": [f"w{i}" for i in range(50)] * 2,
                           "label": rng.choice([0.0, 1.0, np.nan], 100), "new_target": True})

    def windows(scores: pd.DataFrame) -> dict[str, WindowScores]:
        backtest = BacktestResult(pd.DataFrame(), scores, labels)
        return SelectionEvidence.from_backtest(backtest, 5).windows

    for ours, theirs in zip(windows(compact).values(), windows(strings).values(), strict=True):
        assert list(ours.scores.columns) == list(theirs.scores.columns)
        np.testing.assert_array_equal(ours.scores.to_numpy(), theirs.scores.to_numpy())
    assert list(windows(compact)["2025-04-01"].scores.columns) == ["m"]


def test_a_windows_top_rows_are_the_head_of_its_full_order() -> None:
    rng = np.random.default_rng(1)
    for trial in range(300):
        n, k = int(rng.integers(1, 60)), int(rng.integers(-1, 70))
        scores = np.round(rng.random(n), int(rng.integers(1, 3)))  # ties at the cut
        if trial % 5 == 0:
            scores[rng.random(n) < 0.3] = -0.0
        if trial % 7 == 0:
            scores[rng.random(n) < 0.2] = np.nan
        labels = np.where(rng.random(n) < 0.5, 1.0, np.nan)
        window = WindowScores(labels, pd.DataFrame({"g": scores}),
                              rng.permutation(n).astype(np.uint64))
        assert window.order("g", labelled_only=True) is not None  # cached next to the top rows
        np.testing.assert_array_equal(window.top("g", k),
                                      window.order("g", labelled_only=False)[:k])


@pytest.mark.parametrize("shape", ["backtest", "shuffled", "missing", "duplicate", "one"])
def test_a_windows_score_table_is_the_pivot_of_its_rows(shape: str) -> None:
    """The table is built from blocks when every candidate lists the same workplaces in the
    same order (the backtest's own output); any other shape must still give pivot's table,
    and duplicate ids pivot's error."""
    from models.training.backtest import stacked_scores
    rng = np.random.default_rng(4)
    ids = pd.Series([f"w{i:03d}" for i in rng.permutation(60)], dtype="str")
    groups = ["m", "b", "x"] if shape != "one" else ["m"]
    frames = []
    for group in groups:
        own = ids.copy()
        if group == "x" and shape == "shuffled":
            own = own.sample(frac=1.0, random_state=0).reset_index(drop=True)
        if group == "x" and shape == "missing":
            own = own.iloc[:-5]
        if shape == "duplicate":  # every candidate the same list, one id twice
            own = own.where(own.index != 3, own.iloc[0])
        frames.append(pd.DataFrame({
            "split": pd.Categorical.from_codes(np.zeros(len(own), np.int8), ["2025-01-01"]),
            "model_group": pd.Categorical.from_codes(np.zeros(len(own), np.int8), [group]),
            "workplace_id": own, "score": np.round(rng.random(len(own)), 1)}))
    for frame in (stacked_scores(frames), pd.concat(frames, ignore_index=True)):
        if shape == "duplicate":
            with pytest.raises(ValueError, match="duplicate"):
                frame.pivot(index="workplace_id", columns="model_group", values="score")
            with pytest.raises(ValueError, match="duplicate"):
                window_score_table(frame)
            continue
        pd.testing.assert_frame_equal(
            window_score_table(frame),
            frame.pivot(index="workplace_id", columns="model_group", values="score"),
            check_exact=True)

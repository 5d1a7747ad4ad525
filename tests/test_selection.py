"""Selection picks the group that is good across windows, not the one lucky in the last one."""

from __future__ import annotations

import pandas as pd
import pytest

from models.selection import select_model, summarise, top_k_stability

CONFIG = {
    "metric": "precision_at_capacity", "min_test_windows": 2, "worst_case_tolerance": 0.02,
    "min_top_k_jaccard": 0.0, "include_baselines": False,
}
SPLITS = ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"]


def long_table(values: dict[str, list[float]], metric: str = "precision_at_capacity"):
    return pd.DataFrame([
        {"model_group": group, "split": split, "metric": metric, "value": value}
        for group, series in values.items() for split, value in zip(SPLITS, series, strict=True)
    ])


def test_steady_group_beats_one_that_only_shines_in_the_last_window() -> None:
    table = long_table({
        "hist_gradient_boosting:a": [0.20, 0.21, 0.19, 0.20],
        "random_forest:b": [0.10, 0.12, 0.11, 0.60],  # best last window and best mean
        "logistic_regression:c": [0.18, 0.19, 0.18, 0.19],
        "baseline:random": [0.02, 0.02, 0.03, 0.02],
    })
    choice = select_model(table, CONFIG)
    assert choice.summary.at["random_forest:b", "mean"] > choice.summary.at[
        "hist_gradient_boosting:a", "mean"
    ]
    assert choice.model_group == "hist_gradient_boosting:a"
    assert "Best baseline baseline:random" in choice.explanation
    assert "random_forest:b (worst window 0.100)" in choice.explanation


def test_best_mean_wins_among_groups_with_a_comparable_worst_window() -> None:
    table = long_table({
        "a": [0.20, 0.20, 0.20, 0.20],
        "b": [0.30, 0.19, 0.30, 0.30],    # worst 0.19, within 0.02 of a's 0.20
        "c": [0.50, 0.05, 0.50, 0.50],    # best mean, one collapse: set aside
    })
    choice = select_model(table, CONFIG)
    assert choice.model_group == "b"
    assert "c (worst window 0.050)" in choice.explanation


def test_direction_comes_from_the_metric() -> None:
    table = long_table({"a": [0.05, 0.05, 0.05, 0.05], "b": [0.09, 0.09, 0.09, 0.09]},
                       metric="brier_score")
    choice = select_model(table, {**CONFIG, "metric": "brier_score"})
    assert choice.model_group == "a"


def test_a_single_test_window_is_refused() -> None:
    table = long_table({"a": [0.2, 0.2, 0.2, 0.2]})
    with pytest.raises(ValueError, match="at least 2"):
        select_model(table[table["split"] == SPLITS[-1]], CONFIG)


def test_baselines_are_not_chosen_unless_allowed_and_a_better_baseline_is_flagged() -> None:
    table = long_table({"a": [0.10] * 4, "baseline:most_past_infractions": [0.30] * 4})
    choice = select_model(table, CONFIG)
    assert choice.model_group == "a"
    assert "WARNING" in choice.explanation
    assert select_model(table, {**CONFIG, "include_baselines": True}).model_group == (
        "baseline:most_past_infractions"
    )


def test_unstable_lists_are_set_aside_and_stability_is_summarised() -> None:
    lists = {
        "steady": {s: ["w1", "w2", "w3"] for s in SPLITS},
        "jumpy": {s: [f"{s}-{i}" for i in range(3)] for s in SPLITS},
    }
    stability = top_k_stability(lists)
    assert len(stability) == 2 * (len(SPLITS) - 1)
    table = pd.concat([long_table({"steady": [0.20] * 4, "jumpy": [0.21] * 4}), stability])
    summary = summarise(table, "precision_at_capacity")
    assert summary.at["steady", "mean_top_k_jaccard"] == 1.0
    assert summary.at["jumpy", "mean_top_k_jaccard"] == 0.0
    assert select_model(table, CONFIG).model_group == "jumpy"
    assert select_model(table, {**CONFIG, "min_top_k_jaccard": 0.5}).model_group == "steady"


def test_undefined_windows_are_skipped_and_counted() -> None:
    table = long_table({"a": [0.2, float("nan"), 0.2, 0.2], "b": [0.1, 0.1, 0.1, 0.1]})
    choice = select_model(table, CONFIG)
    assert choice.model_group == "a"
    assert choice.summary.at["a", "windows_defined"] == 3


def _window(group: str, split: str, positives: int, labelled: int) -> dict:
    return {"model_group": group, "split": split, "metric": "precision_at_capacity",
            "value": positives / labelled, "n_positives_in_top_k": positives,
            "n_labelled_in_top_k": labelled}


def test_worst_window_with_few_labelled_rows_is_judged_by_its_noise() -> None:
    rows = [
        _window("sparse", "w1", 10, 50), _window("sparse", "w2", 0, 50),
        _window("steady", "w1", 2, 50), _window("steady", "w2", 2, 50),
    ]
    choice = select_model(pd.DataFrame(rows), {"metric": "precision_at_capacity",
                                               "worst_case_tolerance": 0.0})
    assert choice.model_group == "sparse"


def test_worst_window_that_is_bad_beyond_noise_is_set_aside() -> None:
    rows = [
        _window("lucky", "w1", 400, 2000), _window("lucky", "w2", 0, 2000),
        _window("steady", "w1", 150, 2000), _window("steady", "w2", 150, 2000),
    ]
    choice = select_model(pd.DataFrame(rows), {"metric": "precision_at_capacity",
                                               "worst_case_tolerance": 0.0})
    assert choice.model_group == "steady"
    assert "lucky (worst window 0.000" in choice.explanation

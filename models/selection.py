"""Choose a model group by its results across ALL test windows, never the last one alone.

Worked example of the rule (config `selection:`):

    metric: precision_at_capacity   # direction read from models/metrics.py
    min_test_windows: 2
    worst_case_tolerance: 0.02
    min_top_k_jaccard: 0.0

1. Per model group: mean and worst case of `metric` over the test windows (undefined values,
   e.g. a window whose top k held no labelled workplace, are skipped and counted), and the
   mean Jaccard overlap of its top-k lists between consecutive windows.
2. Groups whose list is less stable than `min_top_k_jaccard` are set aside.
3. Groups whose worst window is more than `worst_case_tolerance` behind the best worst window
   are set aside: a good average that hides one bad window does not win. For precision the
   worst window is judged by the Wilson upper bound of its counts (`worst_case_confidence`)
   when the table carries them: 0 positives among 50 labelled workplaces is not evidence of a
   bad list when the base rate is 1%, and a guard that reads it as such picks by luck.
4. Among the rest, the best mean wins; ties go to the better worst case, then to the name.
Baselines are ranked alongside for the explanation but not chosen unless `include_baselines`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from models.baselines import is_baseline
from models.metrics import greater_is_better, top_k_jaccard

STABILITY_METRIC = "top_k_jaccard"


@dataclass(frozen=True)
class Selection:
    """The chosen model group, the per-group summary behind it and an English explanation."""

    model_group: str
    summary: pd.DataFrame
    explanation: str


def top_k_stability(top_lists: Mapping[str, Mapping[Any, Sequence[str]]]) -> pd.DataFrame:
    """Jaccard overlap of each group's top-k lists between consecutive test windows.

    `top_lists[model_group][split] = workplace ids in the top k`. Returns long-table rows
    (model_group, split, metric, value) with `split` the later window of each pair.
    """
    rows = []
    for group, by_split in top_lists.items():
        splits = sorted(by_split)
        for earlier, later in zip(splits, splits[1:], strict=False):
            rows.append({
                "model_group": group, "split": later, "metric": STABILITY_METRIC,
                "value": top_k_jaccard(by_split[earlier], by_split[later]),
            })
    return pd.DataFrame(rows, columns=["model_group", "split", "metric", "value"])


def wilson_upper(positives: float, n: float, confidence: float) -> float:
    """Upper end of the Wilson score interval of a proportion (NaN when n is 0)."""
    if n <= 0:
        return float("nan")
    z = float(norm.ppf(0.5 + confidence / 2.0))
    p = positives / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def summarise(results: pd.DataFrame, metric: str, confidence: float = 0.9) -> pd.DataFrame:
    """Per model group: mean, worst (and its plausible best), windows, and mean stability.

    `worst_plausible` is the worst window's Wilson upper bound when the table has the counts
    behind a precision (`n_positives_in_top_k`, `n_labelled_in_top_k`), else its value.
    """
    better_high = greater_is_better(metric)
    chosen = results[results["metric"] == metric]
    grouped = chosen.groupby("model_group")["value"]
    worst_rows = chosen.dropna(subset=["value"]).sort_values(
        "value", ascending=better_high, kind="stable"
    ).groupby("model_group").head(1).set_index("model_group")
    counted = metric.startswith("precision") and {
        "n_positives_in_top_k", "n_labelled_in_top_k"} <= set(chosen.columns)
    plausible = worst_rows["value"].copy()
    if counted:
        plausible = pd.Series({
            group: wilson_upper(row["n_positives_in_top_k"], row["n_labelled_in_top_k"],
                                confidence)
            for group, row in worst_rows.iterrows()
        }, dtype=float)
    summary = pd.DataFrame({
        "mean": grouped.mean(),
        "worst": grouped.min() if better_high else grouped.max(),
        "worst_plausible": plausible.reindex(grouped.mean().index),
        "windows_defined": grouped.count(),
        "windows": grouped.size(),
    })
    stability = results[results["metric"] == STABILITY_METRIC].groupby("model_group")["value"]
    summary["mean_top_k_jaccard"] = stability.mean().reindex(summary.index)
    summary["is_baseline"] = [is_baseline(g) for g in summary.index]
    return summary


def select_model(results: pd.DataFrame, selection_config: Mapping[str, Any]) -> Selection:
    """Apply the rule in the module docstring to a long table (model_group, split, metric, value).

    Raises ValueError when the table covers fewer than `min_test_windows` test windows, so
    a choice can never rest on the final window alone.
    """
    metric = selection_config["metric"]
    sign = 1.0 if greater_is_better(metric) else -1.0
    n_windows = results.loc[results["metric"] == metric, "split"].nunique()
    minimum = int(selection_config.get("min_test_windows", 2))
    if n_windows < minimum:
        raise ValueError(
            f"{n_windows} test window(s) with {metric}; selection needs at least {minimum}"
        )
    summary = summarise(results, metric,
                        float(selection_config.get("worst_case_confidence", 0.9)))
    eligible = summary[summary["windows_defined"] > 0]
    if not selection_config.get("include_baselines", False):
        eligible = eligible[~eligible["is_baseline"]]
    if eligible.empty:
        raise ValueError(f"no eligible model group has a defined {metric}")

    set_aside: list[str] = []
    min_jaccard = float(selection_config.get("min_top_k_jaccard", 0.0))
    if summary["mean_top_k_jaccard"].notna().any() and min_jaccard > 0:
        unstable = eligible["mean_top_k_jaccard"].fillna(-1.0) < min_jaccard
        if unstable.all():
            set_aside.append(f"none (every group below top-k Jaccard {min_jaccard:.2f}; "
                             "stability rule not applied)")
        else:
            set_aside += [f"{g} (top-k Jaccard {eligible.at[g, 'mean_top_k_jaccard']:.2f})"
                          for g in eligible.index[unstable]]
            eligible = eligible[~unstable]
    tolerance = float(selection_config.get("worst_case_tolerance", 0.0))
    best_worst = (sign * eligible["worst"]).max()
    weak = sign * eligible["worst_plausible"] < best_worst - tolerance
    set_aside += [_worst_note(g, eligible) for g in eligible.index[weak]]
    eligible = eligible[~weak]

    ordered = eligible.assign(
        _mean=sign * eligible["mean"], _worst=sign * eligible["worst"], _name=eligible.index
    ).sort_values(["_mean", "_worst", "_name"], ascending=[False, False, True])
    choice = str(ordered.index[0])
    explanation = _explain(choice, ordered, summary, metric, n_windows, set_aside)
    return Selection(model_group=choice, summary=summary, explanation=explanation)


def _worst_note(group: str, summary: pd.DataFrame) -> str:
    worst, plausible = summary.at[group, "worst"], summary.at[group, "worst_plausible"]
    note = f"{group} (worst window {worst:.3f}"
    if not np.isclose(worst, plausible):
        note += f", plausibly up to {plausible:.3f}"
    return note + ")"


def _describe(group: str, summary: pd.DataFrame, metric: str) -> str:
    row = summary.loc[group]
    text = (
        f"{group}: mean {metric} {row['mean']:.3f}, worst window {row['worst']:.3f} "
        f"({int(row['windows_defined'])}/{int(row['windows'])} windows defined"
    )
    if not np.isnan(row["mean_top_k_jaccard"]):
        text += f", mean top-k Jaccard {row['mean_top_k_jaccard']:.2f}"
    return text + ")"


def _explain(choice: str, ordered: pd.DataFrame, summary: pd.DataFrame, metric: str,
             n_windows: int, set_aside: list[str]) -> str:
    """English account of the choice for the run report."""
    lines = [
        f"Chosen over {n_windows} test windows by mean {metric} with a worst-window guard.",
        f"Chosen {_describe(choice, summary, metric)}.",
    ]
    if len(ordered) > 1:
        lines.append(f"Runner-up {_describe(str(ordered.index[1]), summary, metric)}.")
    baselines = summary[summary["is_baseline"]].dropna(subset=["mean"])
    if not baselines.empty:
        sign = 1.0 if greater_is_better(metric) else -1.0
        best_baseline = str((sign * baselines["mean"]).idxmax())
        lines.append(f"Best baseline {_describe(best_baseline, summary, metric)}.")
        if sign * baselines.at[best_baseline, "mean"] >= sign * summary.at[choice, "mean"]:
            lines.append("WARNING: the best baseline is at least as good as the chosen model.")
    if set_aside:
        lines.append("Set aside: " + "; ".join(set_aside) + ".")
    return "\n".join(lines)

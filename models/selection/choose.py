"""Choose a model group on ALL the evidence of the backtest, and never on noise.

A real office's backtest has few labelled workplaces in any top k (a dozen or two per window),
so a mean of per-window precisions follows luck. The rules here pool the evidence instead:

- every labelled row of every test window counts, not only those in the top k;
- windows are pooled by summing counts (positives, labelled rows, squared errors), never by
  averaging ratios;
- candidates are compared by a PAIRED bootstrap (the same resampled workplaces score every
  candidate), and a candidate within noise of the best is not beaten by it: among those the
  preferred one wins (config `selection.prefer`: the most stable top-k list, or the simplest
  family), so a lucky difference cannot decide.

Pooled metrics (`POOLED_METRICS`, each with its direction):

- `average_precision`: over the labelled rows of each window; pooled as the mean over all
  positives of all windows of the precision at that positive's rank (sum of counts);
- `precision_at_labelled_share`: the labelled rows of a window ranked by score, cut at the
  share of the population the list can visit (capacity / ranked workplaces): positives in that
  cut over its size, summed over windows. It measures the list's order where labels exist;
- `precision_at_capacity`: positives over labelled rows in the top k of every window, summed;
- `brier_score`: squared errors over all labelled rows, summed (lower is better).

Rules (`RULES`; config `selection.rule`) are replayed side by side by `make bench-models` on the
demo-world family and picked by their regret against each world's hidden truth; the table of
rules tried is in benchmarks/results/model_quality.md. `mean_window_precision` is the former
rule (mean precision at capacity over windows with a Wilson-guarded worst window), kept for that
comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from models.metrics import (
    greater_is_better,
    head_rows,
    stable_tie_key,
    top_k_jaccard,
    top_k_weights,
)
from models.training.baselines import is_baseline
from settings.schema import SelectionConfig

STABILITY_METRIC = "top_k_jaccard"


@dataclass(frozen=True)
class Selection:
    """The chosen model group, the per-group summary behind it and an English explanation."""

    model_group: str
    summary: pd.DataFrame
    explanation: str


@dataclass(frozen=True)
class WindowScores:
    """One test window: its labels and every group's scores over the same ranked workplaces."""

    labels: np.ndarray  # float, NaN where nobody inspected
    scores: pd.DataFrame  # one column per model group, rows aligned with `labels`
    tie_key: np.ndarray
    _orders: dict = field(default_factory=dict, repr=False, compare=False)

    def order(self, group: str, labelled_only: bool) -> np.ndarray:
        """Row positions by the group's score, highest first, ties by the id hash (cached:
        bootstrap resamples reweight rows, they never reorder them)."""
        key = (group, labelled_only)
        if key not in self._orders:
            rows = np.flatnonzero(~np.isnan(self.labels)) if labelled_only else np.arange(
                len(self.labels))
            scores = self.scores[group].to_numpy()[rows]
            self._orders[key] = rows[np.lexsort((self.tie_key[rows], -scores))]
        return self._orders[key]

    def top(self, group: str, k: int) -> np.ndarray:
        """`order(group, labelled_only=False)[:k]`, sorting only the rows scored at or above the
        k-th highest score (a list of hundreds out of 500,000 rows; cached like `order`)."""
        key = (group, "top", k)  # not (group, k): (group, 1) == (group, True), order's key
        if key not in self._orders:
            scores = self.scores[group].to_numpy()
            rows = head_rows(scores, k)
            self._orders[key] = rows[np.lexsort((self.tie_key[rows], -scores[rows]))][:k]
        return self._orders[key]


@dataclass(frozen=True)
class SelectionEvidence:
    """What selection reads from a backtest: the metric table and the scores behind it."""

    metrics: pd.DataFrame
    windows: dict[str, WindowScores]
    capacity: int

    @classmethod
    def from_backtest(cls, result: Any, capacity: int,
                      new_targets_only: bool = False) -> SelectionEvidence:
        """Evidence from a `models.training.backtest.BacktestResult`; with `new_targets_only`,
        each window keeps only the workplaces with no finding documented before it (what a
        list discovers, apart from re-visits of documented cases)."""
        windows = {}
        for split, frame in result.test_scores.groupby("split", sort=True):
            groups = frame["model_group"]
            if isinstance(groups.dtype, pd.CategoricalDtype):  # the backtest's compact names:
                # only this window's candidates become columns, not every window's
                frame = frame.assign(model_group=groups.cat.remove_unused_categories())
            scores = window_score_table(frame)
            window = result.test_labels[result.test_labels["split"] == split].set_index(
                "workplace_id").reindex(scores.index)
            if new_targets_only:
                keep = window["new_target"].fillna(True).to_numpy(dtype=bool)
                scores, window = scores[keep], window[keep]
            labels = window["label"]
            windows[str(split)] = WindowScores(
                labels.to_numpy(dtype=float), scores.reset_index(drop=True),
                stable_tie_key(scores.index),
            )
        return cls(result.metrics, windows, int(capacity))


def window_score_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One window's `pivot(index="workplace_id", columns="model_group", values="score")`.

    The backtest scores every candidate on the same workplaces in the same order: then each
    candidate's rows are one block, and the ids are sorted once rather than hashed row by row
    (12 candidates x 500,000 workplaces a window, whose hashing grew faster than the rows).
    Any other frame (or duplicate ids, which pivot refuses) goes to pivot itself.
    """
    codes, groups = pd.factorize(frame["model_group"], sort=True)
    rows = len(frame) // max(len(groups), 1)
    ids = frame["workplace_id"].array
    first = ids[:rows]
    if not (rows and len(groups) * rows == len(frame)
            and (codes.reshape(len(groups), rows) == codes[::rows, None]).all()
            and all(ids[start:start + rows].equals(first)
                    for start in range(rows, len(frame), rows))
            and pd.Index(first).is_unique):
        return frame.pivot(index="workplace_id", columns="model_group", values="score")
    order = np.argsort(first)
    scores = frame["score"].to_numpy().reshape(len(groups), rows)[:, order]
    by_group = np.empty_like(scores)
    by_group[codes[::rows]] = scores
    return pd.DataFrame(by_group.T, index=pd.Index(first.take(order), name="workplace_id"),
                        columns=pd.Index(groups, name="model_group"))


# --- pooled metrics: per window, counts a bootstrap can reweight ------------------------------

def _labelled_share_counts(window: WindowScores, group: str, share: float,
                           weights: np.ndarray) -> tuple[float, float]:
    order = window.order(group, labelled_only=True)
    w = weights[order]
    k = share * w.sum()
    in_top = top_k_weights(w, max(k, 1.0))
    return float(np.sum(in_top * window.labels[order])), float(in_top.sum())


def _capacity_counts(window: WindowScores, group: str, capacity: int,
                     weights: np.ndarray) -> tuple[float, float]:
    order = window.top(group, capacity)
    labels = window.labels[order]
    labelled = ~np.isnan(labels)
    w = weights[order]
    return float(np.sum(w * np.nan_to_num(labels))), float(np.sum(w * labelled))


def _average_precision_counts(window: WindowScores, group: str,
                              weights: np.ndarray) -> tuple[float, float]:
    order = window.order(group, labelled_only=True)
    w, y = weights[order], window.labels[order]
    precision_at_row = np.cumsum(w * y) / np.maximum(np.cumsum(w), 1e-12)
    return float(np.sum(w * y * precision_at_row)), float(np.sum(w * y))


def _brier_counts(window: WindowScores, group: str, weights: np.ndarray) -> tuple[float, float]:
    labelled = ~np.isnan(window.labels)
    errors = (window.scores[group].to_numpy() - np.nan_to_num(window.labels)) ** 2
    return float(np.sum(weights * errors * labelled)), float(np.sum(weights * labelled))


CountFunction = Callable[[WindowScores, str, SelectionEvidence, np.ndarray], tuple[float, float]]

POOLED_METRICS: dict[str, tuple[bool, CountFunction]] = {
    "average_precision": (True, lambda w, g, e, wt: _average_precision_counts(w, g, wt)),
    "precision_at_labelled_share": (True, lambda w, g, e, wt: _labelled_share_counts(
        w, g, e.capacity / len(w.labels), wt)),
    "precision_at_capacity": (True, lambda w, g, e, wt: _capacity_counts(w, g, e.capacity, wt)),
    "brier_score": (False, lambda w, g, e, wt: _brier_counts(w, g, wt)),
}


def pooled_metric(evidence: SelectionEvidence, group: str, metric: str,
                  weights: Mapping[str, np.ndarray] | None = None) -> float:
    """`metric` for one group with counts summed over every test window (NaN if none)."""
    count = POOLED_METRICS[metric][1]
    numerator = denominator = 0.0
    for split, window in evidence.windows.items():
        w = np.ones(len(window.labels)) if weights is None else weights[split]
        top, bottom = count(window, group, evidence, w)
        numerator, denominator = numerator + top, denominator + bottom
    return numerator / denominator if denominator > 0 else math.nan


def paired_bootstrap(evidence: SelectionEvidence, groups: Sequence[str], metric: str,
                     n_samples: int, seed: int) -> pd.DataFrame:
    """Pooled `metric` of every group on the same resamples (rows: resamples, columns: groups).

    Workplaces are resampled with replacement within each window, so every group is judged on
    the same draw and differences between groups keep their pairing.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_samples):
        weights = {split: rng.multinomial(len(w.labels), np.full(len(w.labels),
                                                                   1 / len(w.labels)))
                   .astype(float) for split, w in evidence.windows.items()}
        rows.append({g: pooled_metric(evidence, g, metric, weights) for g in groups})
    return pd.DataFrame(rows, columns=list(groups))


# --- summaries shared by every rule ----------------------------------------------------------

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


def summarise(results: pd.DataFrame, metric: str, confidence: float) -> pd.DataFrame:
    """Per model group over the windows of the metric table: mean, worst, stability.

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


# --- rules ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A pooled metric, and whether differences within paired-bootstrap noise are ignored."""

    metric: str
    within_noise: bool = False
    prefer: str = "stable"  # among groups within noise: "stable" | "simple" | "metric"


RULES: dict[str, Rule | None] = {
    "mean_window_precision": None,  # the former rule, kept for the comparison table
    "pooled_precision_at_capacity": Rule("precision_at_capacity"),
    "pooled_precision_at_labelled_share": Rule("precision_at_labelled_share"),
    "pooled_average_precision": Rule("average_precision"),
    "pooled_brier_score": Rule("brier_score"),
    "noise_aware_average_precision_stable": Rule("average_precision", True, "stable"),
    "noise_aware_average_precision_simple": Rule("average_precision", True, "simple"),
    "noise_aware_labelled_share_stable": Rule("precision_at_labelled_share", True, "stable"),
    "noise_aware_labelled_share_simple": Rule("precision_at_labelled_share", True, "simple"),
}


def select_model(evidence: SelectionEvidence, selection_config: SelectionConfig) -> Selection:
    """Apply the configured rule (`selection.rule`) to the backtest evidence.

    Raises ValueError when fewer than `min_test_windows` test windows hold labels, so a choice
    never rests on the final window alone, or when no eligible group has a defined metric.
    """
    name = selection_config.rule
    if name not in RULES:
        raise ValueError(f"selection.rule {name!r} is unknown; known: {sorted(RULES)}")
    labelled_windows = sum(bool(np.any(~np.isnan(w.labels))) for w in evidence.windows.values())
    minimum = selection_config.min_test_windows
    if labelled_windows < minimum:
        raise ValueError(f"{labelled_windows} test window(s) with labels; selection needs at "
                         f"least {minimum}")
    rule = RULES[name]
    if rule is None:
        return _mean_window_rule(evidence.metrics, selection_config)
    return _pooled_rule(evidence, rule, name, selection_config)


def _eligible(groups: Sequence[str], include_baselines: bool) -> list[str]:
    return [g for g in groups if include_baselines or not is_baseline(g)]


def _pooled_rule(evidence: SelectionEvidence, rule: Rule, name: str,
                 config: SelectionConfig) -> Selection:
    groups = sorted(next(iter(evidence.windows.values())).scores.columns)
    sign = 1.0 if POOLED_METRICS[rule.metric][0] else -1.0
    summary = pd.DataFrame(
        {metric: [pooled_metric(evidence, g, metric) for g in groups]
         for metric in POOLED_METRICS}, index=pd.Index(groups, name="model_group"))
    stability = evidence.metrics[evidence.metrics["metric"] == STABILITY_METRIC]
    summary["mean_top_k_jaccard"] = stability.groupby("model_group")["value"].mean().reindex(
        summary.index)
    summary["is_baseline"] = [is_baseline(g) for g in groups]
    candidates = _eligible(groups, config.include_baselines)
    if not candidates:
        raise ValueError("no eligible model group in the backtest")
    eligible = [g for g in candidates if not math.isnan(summary.at[g, rule.metric])]
    if not eligible:
        # No positive (or no labelled row) anywhere: the evidence cannot rank the candidates,
        # so the preference alone decides, and the explanation says so.
        choice = _preferred(candidates, summary.fillna({rule.metric: -math.inf}), rule, sign,
                            config)
        return Selection(choice, summary, f"Rule {name}: pooled {rule.metric} is undefined for "
                         f"every candidate (no positive in the test windows); {choice} chosen "
                         f"by the {rule.prefer} preference alone.")
    best = max(eligible, key=lambda g: (sign * summary.at[g, rule.metric], g))
    contenders = [best]
    if rule.within_noise and len(eligible) > 1:
        draws = paired_bootstrap(evidence, eligible, rule.metric,
                                 config.bootstrap_samples, config.seed)
        behind = sign * (draws[best].to_numpy()[:, None] - draws[eligible].to_numpy())
        # Share of resamples in which the best point estimate really is ahead of each group.
        ahead = pd.Series(np.nanmean(behind > 0, axis=0), index=eligible)
        summary["best_ahead_share"] = ahead.reindex(summary.index)
        contenders = [g for g in eligible if ahead[g] < config.noise_confidence]
    choice = _preferred(contenders, summary, rule, sign, config)
    explanation = _explain_pooled(choice, best, contenders, summary, rule, name, evidence)
    return Selection(model_group=choice, summary=summary, explanation=explanation)


def _preferred(contenders: list[str], summary: pd.DataFrame, rule: Rule, sign: float,
               config: SelectionConfig) -> str:
    """The preferred group among those the evidence cannot tell apart."""
    order = config.simplicity_order

    def simplicity(group: str) -> int:
        family = group.split(":")[0]
        return order.index(family) if family in order else len(order)

    def key(group: str) -> tuple:
        point = sign * summary.at[group, rule.metric]
        stable = summary.at[group, "mean_top_k_jaccard"]
        stable = -1.0 if math.isnan(stable) else stable
        if rule.prefer == "simple":
            return (-simplicity(group), point, group)
        if rule.prefer == "stable":
            return (stable, point, group)
        return (point, group)

    return max(contenders, key=key)


def _explain_pooled(choice: str, best: str, contenders: list[str], summary: pd.DataFrame,
                    rule: Rule, name: str, evidence: SelectionEvidence) -> str:
    labelled = sum(int(np.sum(~np.isnan(w.labels))) for w in evidence.windows.values())
    positives = sum(int(np.nansum(w.labels)) for w in evidence.windows.values())
    lines = [
        f"Rule {name}: pooled {rule.metric} over {len(evidence.windows)} test windows "
        f"({labelled} labelled workplaces, {positives} positive).",
        f"Chosen {_describe_pooled(choice, summary)}.",
    ]
    if choice != best:
        lines.append(
            f"Best point estimate {_describe_pooled(best, summary)}; {len(contenders)} group(s) "
            f"within paired-bootstrap noise of it, of which the {rule.prefer} preference "
            f"picks {choice}.")
    baselines = summary[summary["is_baseline"]].dropna(subset=[rule.metric])
    if not baselines.empty:
        sign = 1.0 if POOLED_METRICS[rule.metric][0] else -1.0
        best_baseline = str((sign * baselines[rule.metric]).idxmax())
        lines.append(f"Best baseline {_describe_pooled(best_baseline, summary)}.")
        if sign * baselines.at[best_baseline, rule.metric] >= sign * summary.at[
                choice, rule.metric]:
            lines.append("WARNING: the best baseline is at least as good as the chosen model.")
    return "\n".join(lines)


def _describe_pooled(group: str, summary: pd.DataFrame) -> str:
    row = summary.loc[group]
    parts = ", ".join(f"{metric} {row[metric]:.3f}" for metric in POOLED_METRICS)
    return f"{group} ({parts})"


def _mean_window_rule(results: pd.DataFrame, selection_config: SelectionConfig) -> Selection:
    """The former rule: best mean precision at capacity with a noise-aware worst-window guard."""
    metric = "precision_at_capacity"
    summary = summarise(results, metric, selection_config.worst_case_confidence)
    eligible = summary[summary["windows_defined"] > 0]
    if not selection_config.include_baselines:
        eligible = eligible[~eligible["is_baseline"]]
    if eligible.empty:
        raise ValueError(f"no eligible model group has a defined {metric}")
    set_aside: list[str] = []
    tolerance = selection_config.worst_case_tolerance
    weak = eligible["worst_plausible"] < eligible["worst"].max() - tolerance
    set_aside += [_worst_note(g, eligible) for g in eligible.index[weak]]
    eligible = eligible[~weak]
    ordered = eligible.assign(_name=eligible.index).sort_values(
        ["mean", "worst", "_name"], ascending=[False, False, True])
    choice = str(ordered.index[0])
    lines = [f"Rule mean_window_precision: chosen {choice} by mean {metric} "
             f"{summary.at[choice, 'mean']:.3f} over {int(summary.at[choice, 'windows'])} "
             "windows with a worst-window guard."]
    if set_aside:
        lines.append("Set aside: " + "; ".join(set_aside) + ".")
    return Selection(model_group=choice, summary=summary, explanation="\n".join(lines))


def _worst_note(group: str, summary: pd.DataFrame) -> str:
    worst, plausible = summary.at[group, "worst"], summary.at[group, "worst_plausible"]
    note = f"{group} (worst window {worst:.3f}"
    if not np.isclose(worst, plausible):
        note += f", plausibly up to {plausible:.3f}"
    return note + ")"

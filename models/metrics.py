"""Metrics of a ranked inspection list, each declaring whether greater is better.

Conventions, shared by every metric here:

- The list ranks ALL workplaces (labelled or not) by score, highest first. Ties in the score
  are broken by a stable secondary key, the sha256 of the workplace id, so the same scores
  always give the same list and no workplace wins ties because of how its RUC happens to sort.
- Labels are 1.0 / 0.0 / NaN. NaN means nobody inspected the workplace in the label window:
  it has no label and is never counted as a negative. It still occupies its slot in the list.
- precision@k = positives among labelled rows in the top k / labelled rows in the top k
  (NaN when the top k holds no labelled row); the labelled count is reported next to it.
- recall@k = positives in the top k / all labelled positives (NaN when there are none).
- lift@k = precision@k / base rate, base rate = positives / labelled rows over the whole
  ranked population (NaN when there are no positives).
- "top p%" uses k = ceil(p / 100 * number of ranked workplaces).
- average precision and the Brier score use labelled rows only.
- Bootstrap intervals resample workplaces with replacement (each workplace weighted by how
  often the seeded resample drew it); ranking metrics are recomputed on the resample's top k.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score


@dataclass(frozen=True)
class Ranking:
    """Workplaces in list order (best first) with their labels and scores."""

    ids: np.ndarray
    scores: np.ndarray
    labels: np.ndarray  # float, NaN for unlabelled

    @cached_property
    def labelled(self) -> np.ndarray:
        return ~np.isnan(self.labels)

    @cached_property
    def positives(self) -> np.ndarray:
        return np.nan_to_num(self.labels, nan=0.0) == 1.0


def stable_tie_key(ids: Sequence[str] | pd.Index) -> np.ndarray:
    """A deterministic, order-neutral integer per workplace id (first 8 bytes of the sha256 of
    `str(id)`)."""
    return _TIE_KEYS.of(pd.Index(ids, tupleize_cols=False).astype("str"))


def _sha256_key(workplace_id: str) -> int:
    return int.from_bytes(hashlib.sha256(workplace_id.encode()).digest()[:8], "big")


class _TieKeyMemo:
    """Every id's tie key computed once per process and a whole list's keys found in one hash
    table pass: every candidate of every window ranks the same workplaces, and a dictionary
    lookup per id took 0.25 s of each window's 1.85 s of metric tables at 500,000 workplaces.
    Threads (the grid's candidates) read one snapshot and replace it whole under the lock."""

    limit = 1 << 21  # ids remembered; a larger new list starts the memo over

    def __init__(self) -> None:
        self._known = pd.Series(np.empty(0, dtype=np.uint64), index=pd.Index([], dtype="str"))
        self._lock = threading.Lock()

    def of(self, ids: pd.Index) -> np.ndarray:
        known = self._known
        positions = known.index.get_indexer(ids)
        if (positions < 0).any():
            with self._lock:
                known = self._learn(ids)
            positions = known.index.get_indexer(ids)
        return known.to_numpy()[positions]

    def _learn(self, ids: pd.Index) -> pd.Series:
        """The memo with every one of `ids` in it."""
        known, new = self._known, ids.unique()
        new = new[known.index.get_indexer(new) < 0]  # another thread may have added some
        if len(known) + len(new) > self.limit:
            known, new = known.iloc[:0], ids.unique()
        keys = np.fromiter(map(_sha256_key, new), dtype=np.uint64, count=len(new))
        self._known = pd.concat([known, pd.Series(keys, index=new)])
        return self._known


_TIE_KEYS = _TieKeyMemo()


def rank(y_true: pd.Series | np.ndarray, scores: pd.Series | np.ndarray,
         ids: Sequence[str] | pd.Index | None = None) -> Ranking:
    """Order workplaces by score (descending), ties broken by `stable_tie_key` of their ids.

    `ids` defaults to the index of `scores` (or `y_true`) when they are Series, otherwise to
    positions, so hand-made arrays still rank deterministically.
    """
    if ids is None:
        if isinstance(scores, pd.Series):
            ids = scores.index
        elif isinstance(y_true, pd.Series):
            ids = y_true.index
        else:
            ids = [str(i) for i in range(len(scores))]
    score_values = np.asarray(scores, dtype=float)
    label_values = np.asarray(y_true, dtype=float)
    if not (len(score_values) == len(label_values) == len(ids)):
        raise ValueError("labels, scores and ids must have the same length")
    if np.isnan(score_values).any():
        raise ValueError("scores contain NaN: every workplace needs a score to be ranked")
    # lexsort sorts by the last key first: score descending, then the hash ascending.
    order = np.lexsort((stable_tie_key(ids), -score_values))
    return Ranking(np.asarray(ids)[order], score_values[order], label_values[order])


def top_k_weights(weights: np.ndarray, k: int) -> np.ndarray:
    """Copies of each ranked row that fall in the top k when row i appears weights[i] times."""
    cumulative = np.cumsum(weights)
    before = cumulative - weights
    return np.clip(k - before, 0, weights)


def ties_at_cut(ranking: Ranking, k: int) -> int:
    """Workplaces sharing the score at the k cut when the cut splits them (0 when it does not).

    A non-zero value means the tie key, not the model, decided part of who entered the list.
    """
    n = len(ranking.scores)
    if k <= 0 or k >= n:
        return 0
    cut_score = ranking.scores[k - 1]
    if ranking.scores[k] != cut_score:
        return 0
    return int(np.sum(ranking.scores == cut_score))


def _weights(ranking: Ranking, weights: np.ndarray | None) -> np.ndarray:
    return np.ones(len(ranking.scores)) if weights is None else weights


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> float | np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (a float for one weighting, an
    array for a stack of resamples)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(denominator == 0, np.nan, numerator / np.where(denominator == 0, 1.0,
                                                                        denominator))
    return float(ratio) if np.ndim(ratio) == 0 else ratio


# The cut metrics from the copies of each row in the top k (`in_top`), the copies of each row
# (`w`) and the rows' labelled and positive flags, summed over the last axis: one weighting, or
# every bootstrap resample at once (`Resamples`).
TopKCounts = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], "float | np.ndarray"]


def _precision_of(in_top, w, labelled, positives):
    return _ratio(np.sum(in_top * positives, axis=-1), np.sum(in_top * labelled, axis=-1))


def _recall_of(in_top, w, labelled, positives):
    return _ratio(np.sum(in_top * positives, axis=-1), np.sum(w * positives, axis=-1))


def _lift_of(in_top, w, labelled, positives):
    base_rate = _ratio(np.sum(w * positives, axis=-1), np.sum(w * labelled, axis=-1))
    return _ratio(np.asarray(_precision_of(in_top, w, labelled, positives)), base_rate)


def _at_k(counts: TopKCounts) -> MetricFunction:
    """The metric of a ranking cut at k, one weighting of its rows (None: each row once)."""
    def metric(ranking: Ranking, k: int | None, weights: np.ndarray | None = None) -> float:
        w = _weights(ranking, weights)
        return counts(top_k_weights(w, k), w, ranking.labelled, ranking.positives)
    return metric


def _average_precision(ranking: Ranking, k: int | None = None,
                       weights: np.ndarray | None = None) -> float:
    w = _weights(ranking, weights)
    keep = ranking.labelled & (w > 0)
    if not np.any(ranking.positives[keep]):
        return math.nan
    return float(average_precision_score(
        ranking.labels[keep], ranking.scores[keep], sample_weight=w[keep]
    ))


def _brier_score(ranking: Ranking, k: int | None = None,
                 weights: np.ndarray | None = None) -> float:
    w = _weights(ranking, weights)
    keep = ranking.labelled & (w > 0)
    if not np.any(keep):
        return math.nan
    errors = (ranking.scores[keep] - ranking.labels[keep]) ** 2
    return float(np.average(errors, weights=w[keep]))


MetricFunction = Callable[[Ranking, "int | None", "np.ndarray | None"], float]


@dataclass(frozen=True)
class Metric:
    """A metric of a ranking, its direction, and whether it needs a cut k."""

    name: str
    greater_is_better: bool
    needs_k: bool
    function: MetricFunction
    top_k_counts: TopKCounts | None = None  # cut metrics: the arithmetic `Resamples` shares


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        *(Metric(name, greater_is_better=True, needs_k=True, function=_at_k(counts),
                 top_k_counts=counts)
          for name, counts in (("precision", _precision_of), ("recall", _recall_of),
                               ("lift", _lift_of))),
        Metric("average_precision", greater_is_better=True, needs_k=False,
               function=_average_precision),
        Metric("brier_score", greater_is_better=False, needs_k=False, function=_brier_score),
    )
}

# Metrics computed between lists rather than on one list, with their direction.
LIST_COMPARISON_DIRECTIONS: dict[str, bool] = {
    "top_k_jaccard": True,  # stability of the top-k list between consecutive test windows
}


# Suffix of a metric measured among new targets only (no finding documented before the as-of
# date), e.g. `precision_at_capacity_new` (models/training/backtest.py `new_target_table`).
NEW_TARGETS_SUFFIX = "_new"


def greater_is_better(metric_name: str) -> bool:
    """Direction of a metric as named in result tables, e.g. `precision_at_capacity` (or
    `precision_at_capacity_new`, the same among new targets)."""
    metric_name = metric_name.removesuffix(NEW_TARGETS_SUFFIX)
    if metric_name in LIST_COMPARISON_DIRECTIONS:
        return LIST_COMPARISON_DIRECTIONS[metric_name]
    base = metric_name.split("_at_")[0]
    if base not in METRICS:
        raise KeyError(f"unknown metric {metric_name!r}; known: {sorted(METRICS)}")
    return METRICS[base].greater_is_better


def precision_at_k(y_true, scores, k: int, ids=None) -> float:
    """Share of positives among labelled workplaces in the top k of the list (NaN if none)."""
    return METRICS["precision"].function(rank(y_true, scores, ids), k)


def recall_at_k(y_true, scores, k: int, ids=None) -> float:
    """Share of all labelled positives that the top k of the list contains."""
    return METRICS["recall"].function(rank(y_true, scores, ids), k)


def lift_at_k(y_true, scores, k: int, ids=None) -> float:
    """How many times better than inspecting at random precision@k is."""
    return METRICS["lift"].function(rank(y_true, scores, ids), k)


def average_precision(y_true, scores, ids=None) -> float:
    """Average precision over labelled workplaces (NaN when there are no positives)."""
    return _average_precision(rank(y_true, scores, ids))


def brier_score(y_true, scores, ids=None) -> float:
    """Mean squared error of the probabilities over labelled workplaces (lower is better)."""
    return _brier_score(rank(y_true, scores, ids))


def k_for_top_percent(n_ranked: int, percent: float) -> int:
    """List length for the top `percent`% of `n_ranked` workplaces (at least 1)."""
    return max(1, math.ceil(percent / 100.0 * n_ranked))


def bootstrap_weights(n: int, n_samples: int, seed: int) -> np.ndarray:
    """Seeded bootstrap resamples of n workplaces as copy counts, one row per resample.

    Drawn once per scored list and shared by every metric, so intervals of different metrics
    come from the same resamples (and the draw costs once, not once per metric). The counts
    are whole numbers held as uint16 (a workplace drawn 65,536 times in a resample is beyond
    any real chance); take the rows you need, then make them floats, as `Resamples` does. At
    500,000 workplaces a draw is 200 MB written once: float32 rows stacked from a list wrote
    400 MB twice, and fresh memory's page faults made that grow faster than the rows.
    """
    rng = np.random.default_rng(seed)
    weights = np.empty((n_samples, n), dtype=np.uint16)
    for row in weights:
        row[:] = np.bincount(rng.integers(0, n, n), minlength=n)
    return weights


@dataclass
class Resamples:
    """Bootstrap copy counts of a ranking's rows (one resample per row), kept where metrics read
    them: every metric reads labelled rows only, and the top-k metrics also how many copies rank
    above each (unlabelled rows take list places too). The counts are whole numbers, so every
    sum below is exact and the values equal those of the full weights, resample by resample."""

    ranking: Ranking
    weights: np.ndarray  # resamples x rows

    @cached_property
    def labelled(self) -> Ranking:
        keep = self.ranking.labelled
        return Ranking(self.ranking.ids[keep], self.ranking.scores[keep],
                       self.ranking.labels[keep])

    @cached_property
    def labelled_weights(self) -> np.ndarray:
        return self.weights[:, self.ranking.labelled].astype(float)

    @cached_property
    def copies_above(self) -> np.ndarray:
        """Per resample and labelled row: the copies of every row ranked before it (the copies
        between consecutive labelled rows, summed once, then accumulated)."""
        positions = np.flatnonzero(self.ranking.labelled)
        # uint32 sums are exact (a resample holds n copies in all) and as fast as float32's;
        # summing the uint16 counts into floats took four times as long
        between = np.add.reduceat(self.weights, np.r_[0, positions], axis=1,
                                  dtype=np.uint32)[:, :len(positions)]
        if len(positions) and positions[0] == 0:  # reduceat gives row 0 itself, not nothing
            between[:, 0] = 0
        return np.cumsum(between, axis=1, dtype=float)

    def values(self, metric: Metric, k: int | None) -> np.ndarray:
        """The metric on every resample."""
        w, labelled = self.labelled_weights, self.labelled
        if metric.top_k_counts is not None:
            in_top = np.clip(k - self.copies_above, 0, w)
            return metric.top_k_counts(in_top, w, labelled.labelled, labelled.positives)
        if metric.name == "average_precision":
            return self.average_precision()
        return np.array([metric.function(labelled, k, row) for row in w])  # labelled rows only

    def average_precision(self) -> np.ndarray:
        """sklearn's average precision on every resample at once: the sum over score
        thresholds (best first) of the recall gained times the precision there; equal to
        `average_precision_score` with the counts as sample weights up to float rounding."""
        w, positives = self.labelled_weights, self.labelled.positives
        scores = self.labelled.scores
        if not len(scores):  # nobody inspected in the window: no positive, as sklearn's NaN
            return np.full(len(w), np.nan)
        last_of_tie = np.r_[np.flatnonzero(np.diff(scores) != 0), len(scores) - 1]
        true = np.cumsum(w * positives, axis=1)[:, last_of_tie]
        false = np.cumsum(w * ~positives, axis=1)[:, last_of_tie]
        total = true[:, -1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(true + false > 0, true / (true + false), 0.0)
            recall = true / total
        gained = np.diff(recall, axis=1, prepend=0.0)
        return np.where(total[:, 0] > 0, np.sum(gained * precision, axis=1), np.nan)


def bootstrap_interval(ranking: Ranking, metric: Metric, k: int | None, n_samples: int,
                       seed: int, confidence: float,
                       weights: np.ndarray | Resamples | None = None) -> tuple[float, float]:
    """Percentile interval of a metric over seeded bootstrap resamples of the workplaces.

    `weights` (from `bootstrap_weights`, or `Resamples` of them) reuses resamples already
    drawn; otherwise `n_samples` are drawn from `seed`. Resamples whose metric is undefined
    (e.g. no positive drawn) are left out; (NaN, NaN) when fewer than half the resamples are
    defined, because such an interval would mislead.
    """
    if weights is None:
        weights = bootstrap_weights(len(ranking.scores), n_samples, seed)
    resamples = weights if isinstance(weights, Resamples) else Resamples(ranking, weights)
    n_samples = len(resamples.weights)
    if n_samples == 0:
        return math.nan, math.nan
    values = resamples.values(metric, k)
    values = values[~np.isnan(values)]
    if len(values) < n_samples / 2:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def score_table(y_true: pd.Series, scores: pd.Series, capacity: int, *,
                top_percents: Sequence[float], n_bootstrap: int, seed: int,
                confidence: float, resample_counts: np.ndarray | None = None) -> pd.DataFrame:
    """Every metric of one scored list as rows: metric, value, interval and the counts behind it.

    `y_true` and `scores` are Series over the same workplaces (index `workplace_id`); labels
    are aligned to the scores' index, so workplaces missing from `y_true` count as unlabelled.
    Columns: metric, value, ci_low, ci_high, greater_is_better, k, n_ranked, n_labelled,
    n_positives, n_labelled_in_top_k, n_positives_in_top_k, ties_at_cut.

    `resample_counts`: `bootstrap_weights(len(scores), n_bootstrap, seed)` drawn already. Copy
    counts go to rank positions, so one draw serves every list of the same length: a backtest
    window's candidates share it (at 500,000 workplaces each draw is 200 MB and about 0.6 s).
    """
    labels = y_true.reindex(scores.index).astype(float)
    ranking = rank(labels, scores)
    n = len(ranking.scores)
    cuts = {"capacity": capacity}
    cuts.update({f"top_{p:g}pct": k_for_top_percent(n, p) for p in top_percents})
    if resample_counts is None:
        resample_counts = bootstrap_weights(n, n_bootstrap, seed)
    elif resample_counts.shape != (n_bootstrap, n):
        raise ValueError(f"resample counts of shape {resample_counts.shape} for {n_bootstrap} "
                         f"resamples of {n} ranked workplaces")
    resamples = Resamples(ranking, resample_counts)
    rows = []
    for metric in METRICS.values():
        named_cuts = cuts.items() if metric.needs_k else [(None, None)]
        for cut_name, k in named_cuts:
            in_top = np.zeros(n, dtype=bool) if k is None else np.arange(n) < k
            low, high = bootstrap_interval(
                ranking, metric, k, n_bootstrap, seed, confidence, weights=resamples
            )
            rows.append({
                "metric": metric.name if cut_name is None else f"{metric.name}_at_{cut_name}",
                "value": metric.function(ranking, k, None),
                "ci_low": low,
                "ci_high": high,
                "greater_is_better": metric.greater_is_better,
                "k": k,
                "n_ranked": n,
                "n_labelled": int(ranking.labelled.sum()),
                "n_positives": int(ranking.positives.sum()),
                "n_labelled_in_top_k": int((ranking.labelled & in_top).sum()),
                "n_positives_in_top_k": int((ranking.positives & in_top).sum()),
                "ties_at_cut": ties_at_cut(ranking, k) if k is not None else 0,
            })
    return pd.DataFrame(rows)


def head_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the rows that can be among the k highest scores (every row tied with the
    k-th included), so a list's head is ranked without sorting the whole registry; every row
    when k is not between 0 and the row count, or a score is NaN (which ranks last)."""
    if 0 < k < len(scores) and not np.isnan(scores).any():
        return np.flatnonzero(scores >= np.partition(scores, len(scores) - k)[-k])
    return np.arange(len(scores))


def top_k_ids(scores: pd.Series, k: int) -> list[str]:
    """The workplace ids of the top k of the list (same tie rule as every metric)."""
    values = np.asarray(scores, dtype=float)
    rows = head_rows(values, k)
    ranking = rank(np.zeros(len(rows)), values[rows], scores.index[rows])
    return [str(i) for i in ranking.ids[:k]]


def top_k_jaccard(list_a: Sequence[str], list_b: Sequence[str]) -> float:
    """Overlap of two lists as |A ∩ B| / |A ∪ B| (1.0 for two empty lists)."""
    a, b = set(list_a), set(list_b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def calibration_table(y_true: pd.Series, scores: pd.Series, n_bins: int) -> pd.DataFrame:
    """Reliability data over labelled workplaces: mean predicted vs observed rate per score bin.

    Bins are score quantiles (about equal counts; tied edges merged) so the rare high scores
    still get bins of their own.
    """
    labels = y_true.reindex(scores.index).astype(float)
    frame = pd.DataFrame({"y": labels, "p": scores.astype(float)}).dropna(subset=["y"])
    if frame.empty:
        return pd.DataFrame(columns=["mean_predicted", "observed_rate", "n"])
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(n_bins, len(frame)),
                           labels=False)
    table = frame.groupby("bin").agg(
        mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size")
    )
    return table.reset_index(drop=True)



"""Backtest over the split plan: every model group and baseline trained, scored and measured alike.

For each split the grid is fitted on the training as-of dates with labels known before the test
as-of date, then scores every workplace at the test as-of date. Test labels use every outcome in
the data (evaluation, not training). The result is a long table (model_group, split, metric,
value, interval, counts) that selection, the promotion gate and the report read, plus the test
scores so that truth-based evaluation can rank the same lists. Each metric is also measured
among new targets alone (workplaces with no finding documented before the test as-of date),
named with the suffix `_new` (`precision_at_capacity_new`); those rows are reported, never used
to select.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sklearn.base import BaseEstimator
from sklearn.utils.parallel import Parallel, delayed

from features.labels import build_labels, known_cases, label_summary
from features.splits import Split
from features.training_set import FeatureMemo, build_scoring_set, build_training_set
from models.metrics import NEW_TARGETS_SUFFIX, bootstrap_weights, score_table, top_k_ids
from models.offpolicy.propensity import WeightedMetric, weighted_metric_for_window
from models.selection.choose import top_k_stability
from models.training.baselines import is_baseline
from models.training.calibration import (
    RowWeights,
    TrainedModel,
    detection_weights,
    fit_calibrated,
    recency_weights,
)
from models.training.degenerate import drop_degenerate_columns
from settings.schema import CalibrationConfig, ModelConfig, TrainingSections

log = logging.getLogger(__name__)

GridFactory = Callable[[pd.Series], Mapping[str, BaseEstimator]]


@dataclass
class BacktestResult:
    """Long metric table (the top-k lists' stability across splits included), per-split test
    scores, test labels and training counts."""

    metrics: pd.DataFrame
    test_scores: pd.DataFrame  # split, model_group, workplace_id, score
    # split, workplace_id, label (NaN: not inspected in the window), new_target (no finding
    # documented before the window: `features.labels.known_cases`)
    test_labels: pd.DataFrame
    training: pd.DataFrame = field(default_factory=pd.DataFrame)

    def newest_split(self) -> str:
        """The newest test window measured (its as-of date, YYYY-MM-DD)."""
        return max(self.metrics["split"].dropna().unique())

    def recipe_scores(self, split: str, model_group: str | None,
                      ids: pd.Index) -> pd.Series | None:
        """The scores this backtest's model of `model_group` gave at test window `split`
        (trained on labels known before it), on `ids`; None when the group is not in it."""
        scores = self.test_scores
        chosen = scores[(scores["split"] == split) & (scores["model_group"] == model_group)]
        if chosen.empty:
            return None
        return chosen.set_index("workplace_id")["score"].reindex(ids)


def split_name(split: Split) -> str:
    """A split is named by its test as-of date."""
    return f"{split.test_as_of:%Y-%m-%d}"


def train_model(
    estimator: BaseEstimator, X: pd.DataFrame, y: pd.Series, meta: pd.DataFrame,
    model: ModelConfig, sample_weight: np.ndarray | None = None, *, baseline: bool = False,
) -> TrainedModel:
    """Fit one grid point with calibration on the latest training as-of date(s) (`meta` of
    `build_training_set`): rows optionally weighted toward recent label windows
    (`model.recency_half_life_months`), and negatives only regular inspectors gave weighted
    `model.regular_negative_weight` in the fit (not for a `baseline`, a plain rule)."""
    return fit_calibrated(
        estimator, X, y, meta["as_of"], **calibration_arguments(model.calibration),
        weights=RowWeights(
            both=_combined(sample_weight,
                           recency_weights(meta["as_of"], model.recency_half_life_months)),
            fit_only=None if baseline else detection_weights(y, meta["specialised"],
                                                             model.regular_negative_weight)),
    )


def calibration_arguments(calibration: CalibrationConfig) -> dict[str, Any]:
    """`fit_calibrated`'s keyword arguments from config `model.calibration`."""
    return {"calibration_as_of_dates": calibration.as_of_dates, "method": calibration.method,
            "min_positives": calibration.min_positives}


def _combined(*weights: np.ndarray | None) -> np.ndarray | None:
    """Product of the row weights given (inverse propensities, recency); None when none are."""
    given = [np.asarray(w, dtype=float) for w in weights if w is not None]
    return np.prod(given, axis=0) if given else None


@dataclass
class SplitResult:
    """What one split of the backtest measured (the frames `combine_splits` stacks in order)."""

    name: str
    metrics: list[pd.DataFrame]
    test_scores: list[pd.DataFrame]
    test_labels: pd.DataFrame
    top_lists: dict[str, list[str]]  # model group -> its top-k workplace ids
    training: list[dict[str, Any]]


def _training_row(split: str, group: str, trained: TrainedModel,
                  dropped: Mapping[str, str]) -> dict[str, Any]:
    """One row of the backtest's `training.csv`: what was fitted and calibrated."""
    return {
        "split": split, "model_group": group, "calibrated": trained.calibrated,
        "fit_rows": trained.fit_rows, "fit_positives": trained.fit_positives,
        "calibration_rows": trained.calibration_rows,
        "calibration_positives": trained.calibration_positives, "note": trained.note,
        "dropped_columns": ";".join(dropped),
    }


@dataclass(frozen=True)
class WindowResamples:
    """A test window's bootstrap copy counts, drawn once for all its candidates' metric tables
    (`score_table`'s `resample_counts`): every workplace, and the new targets alone."""

    every_workplace: np.ndarray
    new_targets: np.ndarray

    @classmethod
    def draw(cls, n_workplaces: int, n_new_targets: int, model_cfg: ModelConfig
             ) -> WindowResamples:
        """The draws `score_table` would make for lists of these lengths (config `model:`)."""
        samples, seed = model_cfg.metrics.bootstrap_samples, model_cfg.seed
        return cls(bootstrap_weights(n_workplaces, samples, seed),
                   bootstrap_weights(n_new_targets, samples, seed))


@dataclass(frozen=True)
class SplitData:
    """One split's training rows and test window, shared by every candidate of the grid."""

    X: pd.DataFrame
    y: pd.Series
    meta: pd.DataFrame
    dropped: Mapping[str, str]  # degenerate training columns left out, with why
    X_test: pd.DataFrame
    ids: pd.Index  # workplace_id of each X_test row
    y_test: pd.Series
    cases: pd.Index  # documented cases before the test date (follow-up, not discovery)
    resamples: WindowResamples

    @classmethod
    def build(cls, memo: FeatureMemo, split: Split, training: TrainingSections) -> SplitData:
        """The split's data from the run's `memo` (its tables, districts, shared features)."""
        labels_cfg, prior = training.labels, training.features.area_prior_strength
        tables, districts = memo.tables, memo.districts
        X, y, meta = build_training_set(
            memo, split.train_as_of_dates, split.label_timespan_months,
            known_before=split.test_as_of, label_kind=labels_cfg.kind,
            min_indicators=labels_cfg.min_indicators, area_prior_strength=prior,
        )
        X, dropped = drop_degenerate_columns(X)  # the grid is built on the kept columns
        X_test, meta_test = build_scoring_set(tables, districts, split.test_as_of, prior, memo)
        y_test = build_labels(
            tables, split.test_as_of, split.label_timespan_months, kind=labels_cfg.kind,
            min_indicators=labels_cfg.min_indicators,
        )
        cases = known_cases(tables["inspections"], split.test_as_of, labels_cfg.kind,
                            labels_cfg.min_indicators)
        ids = pd.Index(meta_test["workplace_id"], name="workplace_id")
        return cls(X, y, meta, dropped, X_test, ids, y_test, cases,
                   WindowResamples.draw(len(ids), int((~ids.isin(cases)).sum()), training.model))


def measure_candidate(data: SplitData, group: str, estimator: BaseEstimator,
                      model_cfg: ModelConfig, capacity: int,
                      weighted: WeightedMetric | None) -> tuple[TrainedModel, pd.Series,
                                                                 pd.DataFrame]:
    """One grid point fitted on the split's training rows, its test scores and metrics."""
    trained = train_model(estimator, data.X, data.y, data.meta, model_cfg,
                          baseline=is_baseline(group))
    scores = pd.Series(trained.model.predict_proba(data.X_test)[:, 1], index=data.ids,
                       name=group)
    table = pd.concat([_scored(data.y_test, scores, capacity, model_cfg,
                               data.resamples.every_workplace),
                       *([weighted.row(scores, capacity)] if weighted is not None else []),
                       new_target_table(data.y_test, scores, data.cases, capacity, model_cfg,
                                        data.resamples.new_targets)],
                      ignore_index=True)
    return trained, scores, table


def backtest_split(
    memo: FeatureMemo,
    split: Split,
    grid_factory: GridFactory,
    training: TrainingSections,
    capacity: int,
    metric: str,
) -> SplitResult:
    """Train and measure every grid point on one split of `memo`'s tables; lists hold
    `capacity`; the log shows `metric` (a row name of `score_table`, e.g.
    `precision_at_capacity`).

    Splits are independent of each other, so they can run in any order or in parallel; sharing
    one `memo` builds each as-of date's features once for all of them.
    """
    name, started = split_name(split), time.perf_counter()
    tables, districts = memo.tables, memo.districts
    data = SplitData.build(memo, split, training)
    result = SplitResult(name, [], [], pd.DataFrame({
        "split": name, "workplace_id": data.y_test.index, "label": data.y_test.to_numpy(),
        "new_target": ~data.y_test.index.isin(data.cases),
    }), {}, [])
    features_seconds = time.perf_counter() - started
    log.info("split %s: %d training rows (%d positive), test labels %s",
             name, len(data.y), int(data.y.sum()), label_summary(data.y_test))
    weighted = weighted_metric_for_window(tables, districts, split.test_as_of, data.y_test,
                                          data.X_test.set_index(data.ids), training)
    groups = grid_factory(data.X.dtypes)
    # Candidates are independent and seeded: `model.fit_workers` threads fit them at once (trees
    # and solvers release the GIL); the results come back in the grid's order.
    measured = Parallel(n_jobs=training.model.fit_workers, backend="threading")(
        delayed(measure_candidate)(data, group, estimator, training.model, capacity, weighted)
        for group, estimator in groups.items())
    for group, (trained, scores, table) in zip(groups, measured, strict=True):
        result.metrics.append(table.assign(model_group=group, split=name))
        result.test_scores.append(pd.DataFrame({
            "split": pd.Categorical.from_codes(np.zeros(len(scores), dtype=np.int8), [name]),
            "model_group": pd.Categorical.from_codes(np.zeros(len(scores), dtype=np.int8),
                                                     [group]),
            "workplace_id": data.ids, "score": scores.values,
        }))
        result.top_lists[group] = top_k_ids(scores, capacity)
        result.training.append(_training_row(name, group, trained, data.dropped))
        log.info("  %s: %s %.3f", group, metric,
                 table.loc[table["metric"] == metric, "value"].iloc[0])
    # benchmarks/scale.py reads this line: the split's time, features apart from the grid.
    log.info("split %s: features %.1f s, grid and evaluation %.1f s", name, features_seconds,
             time.perf_counter() - started - features_seconds)
    return result


def _scored(y_test: pd.Series, scores: pd.Series, capacity: int, model_cfg: ModelConfig,
            resample_counts: np.ndarray) -> pd.DataFrame:
    """`score_table` with the backtest's cuts, bootstrap and seed from config `model:`
    (`resample_counts`: that bootstrap drawn already, `WindowResamples`)."""
    metrics = model_cfg.metrics
    return score_table(y_test, scores, capacity, top_percents=metrics.top_percents,
                       n_bootstrap=metrics.bootstrap_samples, seed=model_cfg.seed,
                       confidence=metrics.confidence, resample_counts=resample_counts)


def new_target_table(y_test: pd.Series, scores: pd.Series, cases: pd.Index, capacity: int,
                     model_cfg: ModelConfig, resample_counts: np.ndarray) -> pd.DataFrame:
    """The same metrics among workplaces with no finding documented before the test as-of date
    (`cases`, `features.labels.known_cases`): what the model finds as new targets, apart from
    re-visits of documented cases. Metric names end in NEW_TARGETS_SUFFIX; reported (metrics
    table, run report, MLflow), never selected on."""
    table = _scored(y_test, scores[~scores.index.isin(cases)], capacity, model_cfg,
                    resample_counts)
    return table.assign(metric=table["metric"] + NEW_TARGETS_SUFFIX)


def stacked_scores(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The splits' test scores in one long frame whose `split` and `model_group` are categoricals
    (names sorted, as a string column groups them): every workplace of every window for every
    candidate is 30 million rows at 500,000 workplaces, and a string column would repeat each
    candidate's name in every one of them (4.5 GB of text)."""
    if not frames:
        return pd.DataFrame(columns=["split", "model_group", "workplace_id", "score"])
    names = {column: union_categoricals([f[column].array for f in frames], sort_categories=True)
             for column in ("split", "model_group")}
    return pd.DataFrame({
        **names, "workplace_id": pd.concat([f["workplace_id"] for f in frames],
                                           ignore_index=True),
        "score": np.concatenate([f["score"].to_numpy(dtype=float) for f in frames]),
    })


def combine_splits(splits: list[SplitResult]) -> BacktestResult:
    """The backtest from its splits, in the plan's order, with the top-k stability across them."""
    top_lists: dict[str, dict[str, list[str]]] = {}
    for split in splits:
        for group, ids in split.top_lists.items():
            top_lists.setdefault(group, {})[split.name] = ids
    metrics = pd.concat([frame for split in splits for frame in split.metrics]
                        + [top_k_stability(top_lists)], ignore_index=True)
    return BacktestResult(
        metrics=metrics,
        test_scores=stacked_scores([f for split in splits for f in split.test_scores]),
        test_labels=pd.concat([split.test_labels for split in splits], ignore_index=True),
        training=pd.DataFrame([row for split in splits for row in split.training]),
    )


def run_backtest(
    tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame,
    plan: list[Split],
    grid_factory: GridFactory,
    training: TrainingSections,
    capacity: int,
    metric: str,
) -> BacktestResult:
    """Train and measure every grid point on every split of `plan`, one split after another,
    each as-of date's features built once."""
    memo = FeatureMemo(tables, districts)
    return combine_splits([
        backtest_split(memo, split, grid_factory, training, capacity, metric)
        for split in plan])

"""What the backtest showed, written down: its files for data scientists, the comparison of model
groups on the configured metric, and how the listing model's group was validated (the planners'
report shows it; MLflow keeps it with the run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from models.metrics import greater_is_better
from models.targeting.expected_findings import fit_visit_maps, team_windows, visit_rows
from models.training.backtest import BacktestResult
from settings import catalog, files
from settings.schema import ListsConfig


def write_backtest_files(backtest: BacktestResult, out_dir: Path) -> Path:
    """The backtest's metrics, training counts and test scores for data scientists."""
    backtest_dir = catalog.BACKTEST.path(out_dir)
    backtest_dir.mkdir(parents=True, exist_ok=True)
    with files.replaced(catalog.BACKTEST_METRICS.path(out_dir)) as partial:
        backtest.metrics.to_csv(partial, index=False)
    with files.replaced(catalog.BACKTEST_TRAINING.path(out_dir)) as partial:
        backtest.training.to_csv(partial, index=False)
    with files.replaced(catalog.BACKTEST_SCORES.path(out_dir)) as partial:
        backtest.test_scores.to_parquet(partial, index=False)
    return backtest_dir


def comparison_table(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Model groups x test windows for one metric (config `promotion.metric`), best mean first
    in the metric's direction (`models.metrics.greater_is_better`)."""
    chosen = metrics[metrics["metric"] == metric]
    table = chosen.pivot_table(index="model_group", columns="split", values="value")
    table["mean"] = table.mean(axis=1)
    return table.sort_values("mean", ascending=not greater_is_better(metric))


def validation_for_planners(backtest: BacktestResult, model_group: str, metric: str,
                            label_timespan_months: int, inspections: pd.DataFrame,
                            lists: ListsConfig) -> dict[str, Any]:
    """How the listing model's group was validated on `metric` (config `promotion.metric`), as
    the planners' report shows it, with its past windows' findings per team
    (`calibration_windows`) and each team's map from score to finding (`visit_maps`): what
    expected findings are corrected and widened by."""
    measured = backtest.metrics[backtest.metrics["metric"] == metric]
    chosen = measured[measured["model_group"] == model_group]
    scores = backtest.test_scores[backtest.test_scores["model_group"] == model_group]
    rows = visit_rows(scores, backtest.test_labels, inspections, label_timespan_months,
                      lists.yield_top_share, lists.yield_origins)
    maps = fit_visit_maps(rows, lists.yield_map_c)
    return {
        "calibration_windows": team_windows(rows, maps).to_dict(orient="records"),
        "visit_maps": maps.to_dict(orient="records"),
        "model_group": model_group,
        "metric": metric,
        "label_timespan_months": label_timespan_months,
        "windows": [
            {"as_of": row.split, "value": row.value, "ci_low": row.ci_low,
             "ci_high": row.ci_high, "labelled_in_list": int(row.n_labelled_in_top_k),
             "capacity": int(row.k)}
            for row in chosen.sort_values("split").itertuples()
        ],
        "newest_window": backtest.newest_split(),
        "comparison": comparison_table(backtest.metrics, metric).round(4).reset_index().to_dict(
            orient="records"),
    }

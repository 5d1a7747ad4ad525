"""What a run keeps in MLflow beside the model: files, folders, texts, JSON documents, params,
figures and headline metrics of the retraining and of the listing (pipelines/tracking.py logs
them on the run)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cleaning.quality import QualityResult
from features.catalog_doc import render_features_doc
from models.metrics import calibration_table
from models.selection.choose import Selection
from models.training.backtest import BacktestResult
from models.training.degenerate import describe_dropped
from reporting.adaptations import render_notes
from reporting.plots import plot_calibration
from reporting.run_report import ListingReport, Retraining
from settings import catalog, inputs
from settings.schema import VigiaConfig


@dataclass(frozen=True)
class RunRecords:
    """What one stage logs on the run's MLflow run."""

    files: list[tuple[Path, str | None]] = field(default_factory=list)  # file, artifact folder
    folders: dict[str, Path] = field(default_factory=dict)  # artifact folder -> local folder
    texts: dict[str, str] = field(default_factory=dict)  # artifact name -> text
    jsons: dict[str, Any] = field(default_factory=dict)  # artifact name -> JSON document
    params: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)  # artifact name -> matplotlib figure
    metrics: dict[str, float] = field(default_factory=dict)


def backtest_records(out_dir: Path, quality: QualityResult, selection: Selection,
                     validation: dict[str, Any], notes: Sequence[str],
                     dropped_columns: dict[str, str]) -> RunRecords:
    """What the retraining logs besides the metric table: validation, split plan, selection and
    what the run adapted (notes, dropped columns)."""
    return RunRecords(
        files=[(catalog.SPLIT_PLAN.path(out_dir), None),
               (catalog.BACKTEST_METRICS.path(out_dir), catalog.BACKTEST.name)],
        folders={inputs.DATA_DOCS.name: quality.docs_dir},
        texts={inputs.FEATURE_CATALOG_DOC.name: render_features_doc(),
               inputs.SELECTION.name: selection.explanation,
               inputs.ADAPTATION_NOTES.name: render_notes(list(notes))},
        jsons={inputs.DATA_VALIDATION_SUMMARY.name: quality.summary,
               inputs.VALIDATION_FOR_PLANNERS.name: validation},
        params={"dropped_columns": describe_dropped(dropped_columns)},
    )


def listing_records(retraining: Retraining, listing: ListingReport, report_path: Path,
                    out_dir: Path, config: VigiaConfig) -> RunRecords:
    """What the listing logs: figures, the report, estimate files, headline metrics, and the
    list files only where config `mlflow.log_lists` says so."""
    result, metric = retraining.backtest, retraining.metric
    model_group, newest = retraining.selection.model_group, result.newest_split()
    figures = {inputs.EXPLANATION_FIGURE.path(name=name): figure
               for name, figure in listing.lists.figures.items()}
    figures[inputs.CALIBRATION_FIGURE.name] = calibration_figure(result, model_group, newest,
                                                                 config)
    lists = [(listing.files.list_csv, inputs.LISTS_FOLDER.name),
             (catalog.LIST_LOG.path(out_dir), inputs.LIST_LOG_FOLDER.name)]
    return RunRecords(
        figures=figures,
        files=[(report_path, None), (catalog.ESTIMATES.path(out_dir), None),
               (catalog.FAIRNESS_AUDIT.path(out_dir), None),
               (catalog.FAIRNESS_FIGURE.path(out_dir), None),
               *(lists if config.mlflow.log_lists else [])],
        metrics={"listed_workplaces": len(listing.lists.target),
                 **listing.findings.metrics,
                 "expected_findings": listing.lists.yields.loc["TOTAL", "expected_findings"],
                 f"newest_window_{metric}": newest_window_value(result.metrics, model_group,
                                                                newest, metric)},
    )


def newest_window_value(metrics: pd.DataFrame, model_group: str, split: str, metric: str) -> float:
    """A model group's metric on one test window (NaN when the backtest did not run it)."""
    rows = metrics[
        (metrics["model_group"] == model_group) & (metrics["split"] == split)
        & (metrics["metric"] == metric)
    ]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def calibration_figure(
    backtest: BacktestResult, model_group: str, split: str, config: VigiaConfig
) -> Any:
    """Calibration curve of a model group's scores on one test window (labelled rows only)."""
    scores = backtest.test_scores[(backtest.test_scores["model_group"] == model_group)
                                  & (backtest.test_scores["split"] == split)]
    labels = backtest.test_labels[backtest.test_labels["split"] == split]
    table = calibration_table(
        labels.set_index("workplace_id")["label"], scores.set_index("workplace_id")["score"],
        config.model.metrics.calibration_bins,
    )
    return plot_calibration(table, f"Calibration of {model_group.split(':')[0]} on {split}")

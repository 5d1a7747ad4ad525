"""The files a planning run writes, and what its records and reports say.

Plain functions called by the flow's tasks (pipelines/flow.py): backtest files, scores, the
planners' lists (written by reporting/planner_report.py), the data scientists' run report, the
Prefect summary and the per-office table. MLflow records go through pipelines/tracking.py.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cleaning.ingest import mapping_from_config, read_employer_identity
from cleaning.quality import QualityResult
from features.catalog import FEATURE_CATALOG
from features.catalog_doc import render_features_doc
from features.splits import Split
from models.explaining.explain import Explanation, explain
from models.explaining.reasons import reasons_frame
from models.metrics import calibration_table, greater_is_better, rank
from models.selection.choose import Selection
from models.selection.gate import GateOutcome
from models.targeting.lists import build_target_lists, with_context, yield_by_office
from models.training.backtest import BacktestResult
from models.training.degenerate import describe_dropped
from reporting.adaptations import render_notes
from reporting.markdown import markdown_table
from reporting.planner_report import write_planning_outputs
from reporting.plots import importance_bar_figure, plot_calibration
from settings import catalog, inputs
from settings.schema import VigiaConfig

log = logging.getLogger(__name__)



def newest_window_value(metrics: pd.DataFrame, model_group: str, split: str, metric: str) -> float:
    """A model group's metric on one test window (NaN when the backtest did not run it)."""
    rows = metrics[
        (metrics["model_group"] == model_group) & (metrics["split"] == split)
        & (metrics["metric"] == metric)
    ]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def scores_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Every workplace's score and rank, with the same deterministic tie rule as the metrics."""
    ranking = rank(pd.Series(float("nan"), index=scores.index), scores["score"].to_numpy(),
                   scores["workplace_id"].to_numpy())
    return pd.DataFrame({
        "workplace_id": ranking.ids,
        "score": ranking.scores,
        "rank": range(1, len(ranking.ids) + 1),
    })


def comparison_table(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Model groups x test windows for one metric (config `promotion.metric`), best mean first
    in the metric's direction (`models.metrics.greater_is_better`)."""
    chosen = metrics[metrics["metric"] == metric]
    table = chosen.pivot_table(index="model_group", columns="split", values="value")
    table["mean"] = table.mean(axis=1)
    return table.sort_values("mean", ascending=not greater_is_better(metric))


def input_files(data_dir: Path) -> list[Path]:
    """The input tables of a run (for their sha256 in MLflow)."""
    return sorted(p for p in Path(data_dir).iterdir() if p.is_file())


def write_backtest_files(backtest: BacktestResult, out_dir: Path) -> Path:
    """The backtest's metrics, training counts and test scores for data scientists."""
    backtest_dir = catalog.BACKTEST.path(out_dir)
    backtest_dir.mkdir(parents=True, exist_ok=True)
    backtest.metrics.to_csv(catalog.BACKTEST_METRICS.path(out_dir), index=False)
    backtest.training.to_csv(catalog.BACKTEST_TRAINING.path(out_dir), index=False)
    backtest.test_scores.to_parquet(catalog.BACKTEST_SCORES.path(out_dir), index=False)
    return backtest_dir


def backtest_records(out_dir: Path, quality: QualityResult, selection: Selection,
                     validation: dict[str, Any], notes: Sequence[str],
                     dropped_columns: dict[str, str]) -> dict[str, Any]:
    """What the retraining logs to MLflow besides the metrics (arguments of log_backtest)."""
    return {
        "files": [(catalog.SPLIT_PLAN.path(out_dir), None),
                  (catalog.BACKTEST_METRICS.path(out_dir), catalog.BACKTEST.name)],
        "folders": {inputs.DATA_DOCS.name: quality.docs_dir},
        "texts": {inputs.FEATURE_CATALOG_DOC.name: render_features_doc(),
                  inputs.SELECTION.name: selection.explanation,
                  inputs.ADAPTATION_NOTES.name: render_notes(list(notes))},
        "jsons": {inputs.DATA_VALIDATION_SUMMARY.name: quality.summary,
                  inputs.VALIDATION_FOR_PLANNERS.name: validation},
        "params": {"dropped_columns": describe_dropped(dropped_columns)},
    }


def write_scores(scores: pd.DataFrame, planning_date: pd.Timestamp, out_dir: Path) -> Path:
    """`scores.csv` (every workplace's score and rank) and the planning date beside it."""
    path = catalog.SCORES.path(out_dir)
    scores_frame(scores).to_csv(path, index=False)
    catalog.PLANNING_DATE.path(out_dir).write_text(f"{planning_date.date()}\n")
    return path


def office_table(target: pd.DataFrame, yields: pd.DataFrame) -> pd.DataFrame:
    """List size per office and selection, with expected yield: no workplace, no personal data."""
    sizes = target.groupby("office", sort=False)["selection"].value_counts().unstack(
        fill_value=0)
    table = sizes.join(yields[["expected_findings", "low", "high", "estimate"]], how="outer")
    return table.rename_axis("office").reset_index()


def summary_markdown(*, planning_date: pd.Timestamp, quality: QualityResult,
                     selection: Selection, gate_reason: str, validation: dict[str, Any],
                     offices: pd.DataFrame) -> str:
    """The Prefect summary artifact: rows, model, gate, the listing model's newest validation
    figure (on the metric it was validated with), list sizes."""
    accounting = quality.accounting
    validated = (f"{int(accounting['rows_in'].sum())} rows read, "
                 f"{int(accounting['rows_quarantined'].sum())} quarantined")
    figure = "not measured"
    newest = validation["windows"][-1] if validation["windows"] else None
    if newest is not None and not pd.isna(newest["value"]):
        figure = (f"{newest['value']:.3f} [{newest['ci_low']:.3f}, {newest['ci_high']:.3f}] "
                  f"on the newest test window ({newest['as_of']})")
    return "\n\n".join([
        f"# Vigía: planning date {planning_date.date()}",
        f"- Data: {validated}", f"- Model chosen: `{selection.model_group}`",
        f"- {validation['metric']}: {figure}", f"- Gate: {gate_reason}",
        "## Lists per office", markdown_table(offices, digits=2),
    ])


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


def validation_for_planners(
    comparison: pd.DataFrame, model_group: str, backtest: BacktestResult, newest: str,
    metric: str, label_timespan_months: int,
) -> dict[str, Any]:
    """How the listing model's group was validated on `metric` (config `promotion.metric`), as
    the planners' report shows it."""
    measured = backtest.metrics[backtest.metrics["metric"] == metric]
    chosen = measured[measured["model_group"] == model_group]
    return {
        "model_group": model_group,
        "metric": metric,
        "label_timespan_months": label_timespan_months,
        "windows": [
            {"as_of": row.split, "value": row.value, "ci_low": row.ci_low,
             "ci_high": row.ci_high, "labelled_in_list": int(row.n_labelled_in_top_k),
             "capacity": int(row.k)}
            for row in chosen.sort_values("split").itertuples()
        ],
        "newest_window": newest,
        "comparison": comparison.round(4).reset_index().to_dict(orient="records"),
    }


def run_report(
    *, planning_date: pd.Timestamp, quality: QualityResult, plan: list[Split],
    backtest: BacktestResult, comparison: pd.DataFrame, selection: Selection,
    planning_model: Any, drift: pd.DataFrame | None, gate: GateOutcome, calibrated: bool,
    target: pd.DataFrame,
    yields: pd.DataFrame, files: dict[str, Path], notes: Sequence[str] = (),
    listing_drift: dict[str, pd.DataFrame] | None = None, retrain_reason: str | None = None,
    metric: str, extra_sections: dict[str, str] | None = None,
) -> str:
    """The run report for data scientists (English): data, validation, choice, gate, lists,
    then `extra_sections` (title -> Markdown) before the list of files; test windows are
    compared on `metric` (config `promotion.metric`)."""
    at_capacity = backtest.metrics[backtest.metrics["metric"] == metric]
    labelled = at_capacity.pivot_table(index="model_group", columns="split",
                                       values="n_labelled_in_top_k").reindex(comparison.index)
    by_office = target.groupby("office", sort=False)["selection"].value_counts().unstack(
        fill_value=0)
    sections = [
        f"# Vigía run report: planning date {planning_date.date()}",
        "## Data (rows in = clean + quarantined)",
        markdown_table(quality.accounting),
        "## Adapted to the data",
        render_notes(list(notes)),
        "Validation details: `validation_summary.md` and `validation_summary.html` (offline), "
        "Great Expectations Data Docs in `data_docs/` (blank offline: they load their scripts "
        "from the internet), quarantined rows in `quarantine/`.",
        "## Split plan",
        "\n".join(
            f"- test as-of {s.test_as_of.date()}: training as-of dates "
            f"{s.train_as_of_dates[0].date()} .. {s.train_as_of_dates[-1].date()} "
            f"({len(s.train_as_of_dates)}), label timespan {s.label_timespan_months} months"
            for s in plan
        ) + f"\n\n![split plan]({catalog.SPLIT_PLAN.name})",
        f"## {metric} per test window (labelled workplaces in the list only)",
        markdown_table(comparison.reset_index()),
        "Labelled workplaces behind each figure (inspected in the label window, in the top k):",
        markdown_table(labelled.reset_index(), digits=0),
        "## Model selection",
        selection.explanation,
        "## Planning model and promotion gate",
        f"Retrained `{planning_model.model_group}` on training as-of dates "
        f"{[str(d.date()) for d in planning_model.train_as_of_dates]} with labels known before "
        f"{planning_date.date()}: {planning_model.training_labels}. "
        f"{planning_model.trained.note}.",
        gate.report(),
        "## Input drift against the champion's training data",
        drift_section(drift),
        "## Drift at the planning date against the listing champion's own planning date",
        listing_drift_section(listing_drift or {}, retrain_reason),
        "## Lists",
        markdown_table(by_office.reset_index(), digits=0),
        yield_note(calibrated),
        markdown_table(yields.reset_index()),
        *[part for title, body in (extra_sections or {}).items()
          for part in (f"## {title}", body)],
        "Files: " + ", ".join(f"`{Path(p).name}`" for p in files.values()),
    ]
    return "\n\n".join(sections) + "\n"


def drift_section(drift: pd.DataFrame | None, rows: int = 10) -> str:
    """The most drifted features (PSI first) or why drift was not measured."""
    if drift is None:
        return ("Not measured: no champion yet, or the champion was registered without a "
                "training-data profile.")
    return (f"Population stability index, missing share and share of new categories of the "
            f"{rows} most shifted features (all of them in MLflow "
            f"`{inputs.DRIFT_FEATURES.name}`):\n\n"
            + markdown_table(drift.head(rows), digits=3))


def listing_drift_section(tables: dict[str, pd.DataFrame], retrain_reason: str | None) -> str:
    """Score and feature drift of the planning date's data, and why the run retrained (if so)."""
    why = (f"This run retrained before listing because the data drifted: {retrain_reason}."
           if retrain_reason else "")
    if not tables:
        return why or "Not measured: the champion was registered without planning-date profiles."
    parts = [why] if why else []
    for name, table in tables.items():
        parts.append(f"`{name}` (all rows in MLflow `{inputs.DRIFT_TABLE.path(name=name)}`):\n\n"
                     + markdown_table(table.head(5), digits=3))
    return "\n\n".join(parts)


def yield_note(calibrated: bool) -> str:
    """What the expected findings are: a sum of calibrated probabilities, or not."""
    if calibrated:
        return ("Expected forced-labour findings (sum of calibrated probabilities, exact "
                "Poisson-binomial interval) against a random list of the same size:")
    return ("Expected forced-labour findings: UNCALIBRATED ESTIMATE (estimación sin calibrar). "
            "Calibration was skipped for the listing model (too few positives in its calibration "
            "slice), so its scores are not probabilities; the figures below sum raw scores and "
            "only rank offices, they do not predict how many findings to expect:")


def write_lists(
    model: Any, features: pd.DataFrame, scores: pd.DataFrame, tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame, planning_date: pd.Timestamp, config: VigiaConfig, *,
    validation: dict[str, Any], out_dir: Path, office: str | None = None,
    capacity: int | None = None, calibrated: bool = True, data_dir: Path | None = None,
) -> tuple[dict[str, Path], pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Lists, reasons and the global importance plot, written as the planners' files.

    With `data_dir`, the employer's name and address are read from the raw registry here, at the
    last step, and go into the confidential xlsx/html list files only (CONTRACT.md).
    """
    target, yields, explanation = planning_lists(
        model, features, scores, tables, districts, planning_date, config,
        office=office, capacity=capacity, calibrated=calibrated,
    )
    figures = {}
    if explanation is not None:
        labels_es = {name: spec.label_es for name, spec in FEATURE_CATALOG.items()}
        figures[inputs.IMPORTANCE_FIGURE.name] = importance_bar_figure(
            explanation, labels_es, config.explain.plot_top_features
        )
    identity = (None if data_dir is None
                else read_employer_identity(data_dir, mapping_from_config(config.data)))
    files = write_planning_outputs(
        out_dir, planning_date, target, yields, validation, districts,
        scores.set_index("workplace_id")["score"], figures, office=office,
        identity=identity, team_code=config.lists.specialized_team.code,
    )
    return files, target, yields, figures


def planning_lists(
    model: Any, features: pd.DataFrame, scores: pd.DataFrame, tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame, planning_date: pd.Timestamp, config: VigiaConfig,
    office: str | None = None, capacity: int | None = None, calibrated: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, Explanation | None]:
    """Target lists per office with Spanish reasons from the champion's SHAP values.

    Only the listed workplaces are explained (SHAP is costly); their explanation is returned for
    the global importance plot. Without calibration the expected yield is labelled as an
    uncalibrated estimate.
    """
    lists_cfg = config.lists
    explained: dict[str, Explanation] = {}

    def reasons_for(ids: pd.Index) -> pd.DataFrame:
        explanation = explain(model, features.loc[ids], background=features,
                              background_rows=config.explain.background_rows,
                              seed=config.model.seed)
        explained["listed"] = explanation
        return reasons_frame(explanation, FEATURE_CATALOG, config.reasons)

    last_inspected = tables["inspections"].groupby("workplace_id")["ordered_on"].max()
    target = build_target_lists(
        scores.assign(calibrated_probability=scores["score"]), tables["workplaces"], districts,
        last_inspected, lists_cfg, planning_date, office=office, capacity=capacity,
        seed=config.model.seed, reasons_for=reasons_for,
    )
    yields = yield_by_office(target, lists_cfg.yield_confidence, calibrated)
    target = with_context(target, tables["workplaces"], tables["inspections"], planning_date)
    return target, yields, explained.get("listed")

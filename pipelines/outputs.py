"""The edge of a planning run: MLflow records, promotion gate, the champion's scores, files.

`publish` is called once by the flow after model selection. It logs the run (parent run, child
runs per model group and split), registers the retrained model, applies the promotion gate, scores
the planning date with whichever version is champion afterwards (the list is always produced by the
champion) and writes the outputs planners and data scientists read.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from features.catalog import FEATURE_CATALOG
from features.catalog_doc import render_features_doc
from features.splits import Split
from models.backtest import BacktestResult
from models.explain import Explanation, explain, importance_bar_figure
from models.metrics import calibration_table, plot_calibration, rank
from models.promotion import WindowResult, decide_promotion
from models.reasons import reasons_frame
from models.selection import Selection
from models.targeting import build_target_lists, with_context, yield_by_office
from pipelines import tracking
from pipelines.config import lists_config
from pipelines.ingest import read_employer_identity
from pipelines.markdown import markdown_table
from pipelines.planner_report import write_planning_outputs
from pipelines.quality import QualityResult, _mapping

log = logging.getLogger(__name__)

SCORES_FILE = "scores.csv"
VALIDATION_ARTIFACT = "validation_for_planners.json"


def window_result(
    metrics: pd.DataFrame, model_group: str, split: str, metric: str
) -> WindowResult | None:
    """A model group's metric on one test window, or None when the backtest did not run it."""
    rows = metrics[
        (metrics["model_group"] == model_group) & (metrics["split"] == split)
        & (metrics["metric"] == metric)
    ]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return WindowResult(float(row["value"]), float(row["ci_low"]), float(row["ci_high"]))


def scores_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Every workplace's score and rank, with the same deterministic tie rule as the metrics."""
    ranking = rank(pd.Series(float("nan"), index=scores.index), scores["score"].to_numpy(),
                   scores["workplace_id"].to_numpy())
    return pd.DataFrame({
        "workplace_id": ranking.ids,
        "score": ranking.scores,
        "rank": range(1, len(ranking.ids) + 1),
    })


def comparison_table(metrics: pd.DataFrame, metric: str = "precision_at_capacity") -> pd.DataFrame:
    """Model groups x test windows for one metric, best mean first."""
    chosen = metrics[metrics["metric"] == metric]
    table = chosen.pivot_table(index="model_group", columns="split", values="value")
    table["mean"] = table.mean(axis=1)
    return table.sort_values("mean", ascending=False)


def input_files(data_dir: Path) -> list[Path]:
    """The input tables of a run (for their sha256 in MLflow)."""
    return sorted(p for p in Path(data_dir).iterdir() if p.is_file())


def publish(
    *, data_dir: Path, out_dir: Path, config: dict, tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame, planning_date: pd.Timestamp, quality: QualityResult,
    plan: list[Split], backtest: BacktestResult, selection: Selection, planning_model: Any,
    score: Callable[[Any], tuple[pd.DataFrame, pd.DataFrame]],
) -> dict[str, Any]:
    """Record, gate, score with the champion, and write the outputs; returns their locations."""
    mlflow_cfg = config["mlflow"]
    metric = config["promotion"]["metric"]
    newest = max(backtest.metrics["split"].dropna().unique())
    backtest_dir = out_dir / "backtest"
    backtest_dir.mkdir(parents=True, exist_ok=True)
    backtest.metrics.to_csv(backtest_dir / "metrics.csv", index=False)
    backtest.training.to_csv(backtest_dir / "training.csv", index=False)
    backtest.test_scores.to_parquet(backtest_dir / "test_scores.parquet", index=False)
    comparison = comparison_table(backtest.metrics, metric)

    with tracking.pipeline_run(
        mlflow_cfg, run_name=f"planning {planning_date.date()}", input_files=input_files(data_dir),
        params=config,
    ) as run:
        mlflow.set_tags({"planning_date": str(planning_date.date()),
                         "chosen_model_group": selection.model_group})
        mlflow.log_artifact(str(out_dir / "split_plan.png"))
        tracking.log_json(quality.summary, "data_validation/summary.json")
        mlflow.log_artifacts(str(quality.docs_dir), "data_validation/data_docs")
        mlflow.log_text(render_features_doc(), "feature_catalog.md")
        mlflow.log_text(selection.explanation, "selection.txt")
        mlflow.log_artifact(str(backtest_dir / "metrics.csv"), "backtest")
        for (group, split), table in backtest.metrics.dropna(subset=["k"]).groupby(
            ["model_group", "split"]
        ):
            with tracking.child_run(group, split):
                tracking.log_metric_table(table)
        trained = planning_model.trained
        X_planning, planning_scores = score(trained.model)
        version = tracking.log_and_register_model(
            trained.model, X_planning.reset_index(drop=True), mlflow_cfg,
            tags={"model_group": planning_model.model_group,
                  "planning_date": str(planning_date.date())},
        )
        champion_version = tracking.alias_version(mlflow_cfg, tracking.CHAMPION)
        champion_result = None
        if champion_version is not None:
            # The champion's group measured on the same newest window; a group no longer in the
            # grid has no such result and counts as undefined there.
            champion_result = window_result(
                backtest.metrics, champion_version.tags.get("model_group", ""), newest, metric
            ) or WindowResult(math.nan, math.nan, math.nan)
        challenger_result = window_result(backtest.metrics, planning_model.model_group, newest,
                                          metric)
        checks = {"data_quality": True}  # the gate above stops the run on bad data
        decision = decide_promotion(
            challenger_result, champion_result, checks,
            config["promotion"]["required_checks"], metric,
        )
        tracking.apply_promotion(mlflow_cfg, version, decision)
        mlflow.set_tag("promotion", decision.reason)
        if decision.promote:
            champion_model, scores = trained.model, planning_scores
        else:
            champion_model, _ = tracking.load_champion(config)
            X_planning, scores = score(champion_model)
        ranked = scores_frame(scores)
        scores_path = out_dir / SCORES_FILE
        ranked.to_csv(scores_path, index=False)
        (out_dir / "planning_date.txt").write_text(f"{planning_date.date()}\n")
        listed_group = (planning_model.model_group if decision.promote
                        else champion_version.tags.get("model_group", "unknown"))
        validation = validation_for_planners(comparison, listed_group, backtest, newest)
        tracking.log_json(validation, VALIDATION_ARTIFACT)
        files, target, yields, figures = write_lists(
            champion_model, X_planning, scores, tables, districts, planning_date, config,
            validation=validation, out_dir=out_dir, data_dir=data_dir,
        )
        for name, figure in figures.items():
            mlflow.log_figure(figure, f"explanations/{name}")
        tracking.log_figure(
            calibration_figure(backtest, selection.model_group, newest, config),
            "calibration_newest_window.png",
        )
        report = run_report(
            planning_date=planning_date, quality=quality, plan=plan, backtest=backtest,
            comparison=comparison, selection=selection, planning_model=planning_model,
            decision=decision.reason, target=target, yields=yields, files=files,
        )
        report_path = out_dir / "run_report.md"
        report_path.write_text(report, encoding="utf-8")
        mlflow.log_artifact(str(report_path))
        mlflow.log_artifact(str(files["list_csv"]), "lists")
        mlflow.log_metrics({
            "listed_workplaces": float(len(target)),
            "expected_findings": float(yields.loc["TOTAL", "expected_findings"]),
            f"newest_window_{metric}": challenger_result.value if challenger_result else math.nan,
        })
        run_id = run.info.run_id
    return {
        "scores": str(scores_path), "list_csv": str(files["list_csv"]),
        "run_report": str(report_path), "report_markdown": report, "mlflow_run_id": run_id,
        "mlflow_tracking_uri": mlflow.get_tracking_uri(), "promotion": decision.reason,
    }


def calibration_figure(
    backtest: BacktestResult, model_group: str, split: str, config: dict
) -> Any:
    """Calibration curve of a model group's scores on one test window (labelled rows only)."""
    scores = backtest.test_scores[(backtest.test_scores["model_group"] == model_group)
                                  & (backtest.test_scores["split"] == split)]
    labels = backtest.test_labels[backtest.test_labels["split"] == split]
    table = calibration_table(
        labels.set_index("workplace_id")["label"], scores.set_index("workplace_id")["score"],
        int(config["model"]["metrics"].get("calibration_bins", 10)),
    )
    return plot_calibration(table, f"Calibration of {model_group.split(':')[0]} on {split}")


def validation_for_planners(
    comparison: pd.DataFrame, model_group: str, backtest: BacktestResult, newest: str
) -> dict[str, Any]:
    """How the listing model's group was validated, as the planners' report shows it."""
    at_capacity = backtest.metrics[backtest.metrics["metric"] == "precision_at_capacity"]
    chosen = at_capacity[at_capacity["model_group"] == model_group]
    return {
        "model_group": model_group,
        "windows": [
            {"as_of": row.split, "precision": row.value, "ci_low": row.ci_low,
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
    planning_model: Any, decision: str, target: pd.DataFrame, yields: pd.DataFrame,
    files: dict[str, Path],
) -> str:
    """The run report for data scientists (English): data, validation, choice, gate, lists."""
    at_capacity = backtest.metrics[backtest.metrics["metric"] == "precision_at_capacity"]
    labelled = at_capacity.pivot_table(index="model_group", columns="split",
                                       values="n_labelled_in_top_k").reindex(comparison.index)
    by_office = target.groupby("office", sort=False)["selection"].value_counts().unstack(
        fill_value=0)
    sections = [
        f"# Vigía run report: planning date {planning_date.date()}",
        "## Data (rows in = clean + quarantined)",
        markdown_table(quality.accounting),
        "Validation details: `validation_summary.md` and `validation_summary.html` (offline), "
        "Great Expectations Data Docs in `data_docs/` (blank offline: they load their scripts "
        "from the internet), quarantined rows in `quarantine/`.",
        "## Split plan",
        "\n".join(
            f"- test as-of {s.test_as_of.date()}: training as-of dates "
            f"{s.train_as_of_dates[0].date()} .. {s.train_as_of_dates[-1].date()} "
            f"({len(s.train_as_of_dates)}), label timespan {s.label_timespan_months} months"
            for s in plan
        ) + "\n\n![split plan](split_plan.png)",
        "## Precision at capacity per test window (labelled workplaces in the list only)",
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
        f"Gate: {decision}",
        "## Lists",
        markdown_table(by_office.reset_index(), digits=0),
        "Expected forced-labour findings (sum of calibrated probabilities, exact "
        "Poisson-binomial interval) against a random list of the same size:",
        markdown_table(yields.reset_index()),
        "Files: " + ", ".join(f"`{Path(p).name}`" for p in files.values()),
    ]
    return "\n\n".join(sections) + "\n"


def write_lists(
    model: Any, features: pd.DataFrame, scores: pd.DataFrame, tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame, planning_date: pd.Timestamp, config: dict, *,
    validation: dict[str, Any], out_dir: Path, department: str | None = None,
    capacity: int | None = None, data_dir: Path | None = None,
) -> tuple[dict[str, Path], pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Lists, reasons and the global importance plot, written as the planners' files.

    With `data_dir`, the employer's name and address are read from the raw registry here, at the
    last step, and go into the confidential xlsx/html list files only (CONTRACT.md).
    """
    target, yields, explanation = planning_lists(
        model, features, scores, tables, districts, planning_date, config,
        department=department, capacity=capacity,
    )
    figures = {}
    if explanation is not None:
        labels_es = {name: spec.label_es for name, spec in FEATURE_CATALOG.items()}
        figures["importancia_global.png"] = importance_bar_figure(
            explanation, labels_es, int(config["explain"]["plot_top_features"])
        )
    identity = None if data_dir is None else read_employer_identity(data_dir, _mapping(config))
    files = write_planning_outputs(
        out_dir, planning_date, target, yields, validation, districts,
        scores.set_index("workplace_id")["score"], figures, office=department,
        identity=identity, team_code=lists_config(config)["specialized_team"]["code"],
    )
    return files, target, yields, figures


def planning_lists(
    model: Any, features: pd.DataFrame, scores: pd.DataFrame, tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame, planning_date: pd.Timestamp, config: dict,
    department: str | None = None, capacity: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Explanation | None]:
    """Target lists per office with Spanish reasons from the champion's SHAP values.

    Only the listed workplaces are explained (SHAP is costly); their explanation is returned for
    the global importance plot.
    """
    lists_cfg = lists_config(config)
    explained: dict[str, Explanation] = {}

    def reasons_for(ids: pd.Index) -> pd.DataFrame:
        explanation = explain(model, features.loc[ids], background=features,
                              background_rows=int(config["explain"]["background_rows"]),
                              seed=int(config["model"]["seed"]))
        explained["listed"] = explanation
        return reasons_frame(explanation, FEATURE_CATALOG, config["reasons"])

    last_inspected = tables["inspections"].groupby("workplace_id")["ordered_on"].max()
    target = build_target_lists(
        scores.assign(calibrated_probability=scores["score"]), tables["workplaces"], districts,
        last_inspected, lists_cfg, planning_date, department=department, capacity=capacity,
        seed=int(config["model"]["seed"]), reasons_for=reasons_for,
    )
    yields = yield_by_office(target, float(lists_cfg["yield_confidence"]))
    target = with_context(target, tables["workplaces"], tables["inspections"], planning_date)
    return target, yields, explained.get("listed")


def write_json(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
    return path

"""The edge of a planning run: MLflow records, promotion gate, the champion's scores, files.

`publish` is called once by the flow after model selection. It logs the run (parent run, child
runs per model group and split), registers the retrained model, applies the promotion gate, scores
the planning date with whichever version is champion afterwards (the list is always produced by the
champion) and writes the outputs planners and data scientists read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from features.catalog_doc import render_features_doc
from features.splits import Split
from models.backtest import BacktestResult
from models.metrics import rank
from models.promotion import WindowResult, decide_promotion
from models.selection import Selection
from pipelines import tracking
from pipelines.quality import QualityResult

log = logging.getLogger(__name__)

SCORES_FILE = "scores.csv"


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
    """Model groups x test windows for one metric, with the labelled counts behind each cell."""
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
            champion_result = window_result(
                backtest.metrics, champion_version.tags.get("model_group", ""), newest, metric
            )
        challenger_result = window_result(backtest.metrics, planning_model.model_group, newest,
                                          metric)
        checks = {"data_quality": True}  # the gate above stops the run on bad data
        decision = decide_promotion(
            challenger_result, champion_result if champion_version is not None else None,
            checks, config["promotion"]["required_checks"], metric,
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
        run_id = run.info.run_id
    return {
        "scores": str(scores_path), "mlflow_run_id": run_id,
        "mlflow_tracking_uri": mlflow.get_tracking_uri(), "promotion": decision.reason,
        "comparison": comparison, "champion_model": champion_model, "X_planning": X_planning,
        "ranked": ranked,
    }


def write_json(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
    return path

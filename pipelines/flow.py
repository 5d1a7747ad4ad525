"""The main Prefect flow: it reads like the table of contents of a planning run.

Each task is a thin wrapper over plain functions in `features/` and `models/`; I/O, MLflow and
reports stay at the edges in `pipelines/`. Everything runs on what was known before the planning
date, so a run for a past date is identical on the full data and on a copy cut to that date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from features.catalog import FEATURE_CATALOG
from features.contract import load_districts
from features.labels import label_summary
from features.splits import Split, plot_split_plan, production_train_as_of_dates, split_plan
from features.training_set import build_scoring_set, build_training_set, tables_known_before
from models.backtest import BacktestResult, run_backtest, split_name, train_model
from models.calibration import TrainedModel
from models.candidates import build_grid
from models.selection import Selection, select_model
from pipelines import outputs, tracking
from pipelines.config import lists_config, load_config, total_capacity
from pipelines.quality import QualityResult, run_quality_gate

log = logging.getLogger(__name__)


@dataclass
class PlanningModel:
    """The chosen model group retrained for the planning date, with its training counts."""

    model_group: str
    trained: TrainedModel
    train_as_of_dates: list[pd.Timestamp]
    training_labels: dict[str, float]


def newest_record_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The newest date any fact in the clean tables carries."""
    candidates = [
        tables["inspections"]["ordered_on"].max(),
        tables["inspections"]["closed_on"].max(),
        tables["complaints"]["received_on"].max(),
    ]
    return max(pd.Timestamp(c) for c in candidates if pd.notna(c))


def oldest_record_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The oldest order or complaint: history starts here."""
    return min(
        pd.Timestamp(tables["inspections"]["ordered_on"].min()),
        pd.Timestamp(tables["complaints"]["received_on"].min()),
    )


@task(name="quality-gate")
def quality_gate(
    data_dir: Path, out_dir: Path, config: dict, reference: date | None
) -> QualityResult:
    return run_quality_gate(data_dir, out_dir, config, reference)


@task(name="plan-splits")
def plan_splits(
    tables: dict[str, pd.DataFrame], planning_date: pd.Timestamp, config: dict, out_dir: Path
) -> list[Split]:
    plan = split_plan(
        config["splits"], oldest_record_date(tables),
        planning_date - pd.Timedelta(days=1),
        label_timespan_months=int(config["labels"]["label_timespan_months"]),
    )
    plot_split_plan(plan, out_dir / "split_plan.png")
    return plan


@task(name="backtest")
def backtest(
    tables: dict[str, pd.DataFrame], districts: pd.DataFrame, plan: list[Split], config: dict
) -> BacktestResult:
    capacity = total_capacity(lists_config(config))
    return run_backtest(
        tables, districts, plan, lambda dtypes: _grid(config, dtypes), config, capacity
    )


@task(name="select-model")
def select(result: BacktestResult, config: dict) -> Selection:
    return select_model(result.metrics, config["selection"])


@task(name="train-for-planning-date")
def train_for_planning_date(
    tables: dict[str, pd.DataFrame], districts: pd.DataFrame, model_group: str,
    planning_date: pd.Timestamp, config: dict,
) -> PlanningModel:
    span = int(config["labels"]["label_timespan_months"])
    dates = production_train_as_of_dates(
        config["splits"], planning_date, oldest_record_date(tables), span
    )
    X, y, meta = build_training_set(
        tables, districts, dates, span, known_before=planning_date,
        label_kind=config["labels"]["kind"],
        min_indicators=int(config["labels"].get("min_indicators", 2)),
        area_prior_strength=float(config["features"]["area_prior_strength"]),
    )
    estimator = _grid(config, X.dtypes)[model_group]
    trained = train_model(estimator, X, y, meta["as_of"], config["model"].get("calibration", {}))
    return PlanningModel(model_group, trained, dates, label_summary(y))


@task(name="score-planning-date")
def score_planning_date(
    model: Any, tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
    planning_date: pd.Timestamp, config: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    X, meta = build_scoring_set(
        tables, districts, planning_date, float(config["features"]["area_prior_strength"])
    )
    scores = pd.DataFrame({
        "workplace_id": meta["workplace_id"].to_numpy(),
        "score": model.predict_proba(X)[:, 1],
    })
    return X.set_index(meta["workplace_id"]), scores


@task(name="publish")
def publish(**stages: Any) -> dict[str, Any]:
    return outputs.publish(**stages)


def _grid(config: dict, dtypes: pd.Series) -> dict:
    return build_grid(config["model"], dtypes, FEATURE_CATALOG)


@flow(name="vigia-run", log_prints=True)
def vigia_run(
    data_dir: str, out_dir: str, config_path: str | None = None, as_of: str | None = None
) -> dict[str, Any]:
    """Validate the inputs, backtest the grid, pick and register a champion, write the lists."""
    logger = get_run_logger()
    config = load_config(config_path)
    data, out = Path(data_dir).resolve(), Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    requested = date.fromisoformat(as_of) if as_of else None

    # Future dates are judged against today: records after a past --as-of are real, and the
    # planning-date cut below hides them from the model.
    quality = quality_gate(data, out, config, None)
    planning_date = pd.Timestamp(requested) if requested else (
        newest_record_date(quality.clean) + pd.Timedelta(days=1)
    ).normalize()
    tables = tables_known_before(quality.clean, planning_date)
    logger.info("Planning date (as-of) %s; history from %s", planning_date.date(),
                oldest_record_date(tables).date())
    districts = load_districts()

    plan = plan_splits(tables, planning_date, config, out)
    logger.info("Split plan: test as-of dates %s", [split_name(s) for s in plan])
    result = backtest(tables, districts, plan, config)
    selection = select(result, config)
    logger.info("Selection:\n%s", selection.explanation)
    planning_model = train_for_planning_date(
        tables, districts, selection.model_group, planning_date, config
    )
    summary = publish(
        data_dir=data, out_dir=out, config=config, tables=tables, districts=districts,
        planning_date=planning_date, quality=quality, plan=plan, backtest=result,
        selection=selection, planning_model=planning_model,
        score=lambda model: score_planning_date(model, tables, districts, planning_date, config),
    )
    create_markdown_artifact(markdown=summary["report_markdown"], key="vigia-run-report")
    return summary



@flow(name="vigia-rank", log_prints=True)
def vigia_rank(
    data_dir: str, out_dir: str, config_path: str | None = None, as_of: str | None = None,
    department: str | None = None, capacity: int | None = None,
) -> dict[str, Any]:
    """A planner's list from the registered champion, no retraining: one office or all of them."""
    logger = get_run_logger()
    config = load_config(config_path)
    data, out = Path(data_dir).resolve(), Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    quality = quality_gate(data, out, config, None)
    planning_date = pd.Timestamp(as_of) if as_of else (
        newest_record_date(quality.clean) + pd.Timedelta(days=1)
    ).normalize()
    tables = tables_known_before(quality.clean, planning_date)
    districts = load_districts()
    model, champion = tracking.load_champion(config)
    logger.info("Champion %s v%s (%s)", champion.name, champion.version,
                champion.tags.get("model_group"))
    X, scores = score_planning_date(model, tables, districts, planning_date, config)
    files, _, _, _ = outputs.write_lists(
        model, X, scores, tables, districts, planning_date, config,
        validation=tracking.load_run_json(champion.run_id, outputs.VALIDATION_ARTIFACT),
        out_dir=out, department=department, capacity=capacity, data_dir=data,
    )
    return {"list_csv": str(files["list_csv"]), "report_html": str(files["report_html"])}

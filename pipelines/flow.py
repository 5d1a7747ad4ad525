"""Vigía's Prefect flows; each reads like the table of contents of its job.

- `prepare` (subflow shared by both): validate the inputs, cut them to the planning date, load
  the districts.
- `vigia_retrain`: split plan, backtest, selection, retraining for the planning date, MLflow
  records, registration and the promotion gate.
- `vigia_rank`: lists from the registered champion (all offices, or one with its capacity).
- `vigia_run`: the chain, retraining then lists, and the run report; `vigia run` and the
  scheduled deployment run it, so each quarter ends with its lists.
- `vigia_scheduled_rank`: the scheduled re-listing; retrains first (`vigia_run`) when the planning
  date's data or the champion's scores drifted beyond config `drift:`, and records why.

The backtest fans out one task per split (subflow `vigia-backtest`) on the task runner of config
`orchestration.split_runner` (local threads, or a Dask cluster through prefect-dask).

The steps are the tasks of `pipelines/tasks.py`, reached through `Stages` (pipelines/stage.py),
which gives each its timeout, retries and cache expiration from config `orchestration:`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from features.splits import Split
from features.training_set import PlanningData, oldest_record_date
from models.monitoring.drift import ListingDrift
from models.targeting.lists import ListRequest
from models.training.backtest import BacktestResult, combine_splits, split_name
from pipelines import tasks, tracking
from pipelines.stage import Stages, split_task_runner
from pipelines.tasks import Prepared
from reporting.adaptations import empty_table_notes, retraining_notes
from reporting.drift import drift_check_markdown, drift_section
from reporting.lists import office_table
from reporting.markdown import markdown_table
from reporting.planner_report import ListFiles, PlannerLists
from reporting.run_report import ListingReport, Retraining, summary_markdown
from settings import catalog
from settings.loader import load_config
from settings.schema import VigiaConfig


def stages(config: VigiaConfig, out_dir: Path) -> Stages:
    """The steps of pipelines/tasks.py with their options from config `orchestration:`, their
    cached results under `out_dir`."""
    return Stages(config.orchestration, tasks, out_dir)


@dataclass(frozen=True)
class Listing:
    """What `vigia_rank` hands on: the champion's lists, their files and the drift it saw."""

    prepared: Prepared
    champion: tracking.Champion
    lists: PlannerLists
    files: ListFiles
    drift: ListingDrift
    offices: pd.DataFrame  # list sizes and expected yield per office (no personal data)

    @property
    def scores(self) -> Path:
        return catalog.SCORES.path(self.prepared.out_dir)


@dataclass(frozen=True)
class RunResult:
    """What `vigia_run` hands its caller (the CLI prints it)."""

    scores: Path
    list_csv: Path
    run_report: Path
    mlflow_run_id: str
    mlflow_tracking_uri: str
    promotion: str  # the gate's decision and why
    retrain_reason: str | None
    offices: str  # Markdown table of the lists per office


@dataclass(frozen=True)
class ScheduledListing:
    """What a scheduled re-listing did: its lists, and the run when it retrained first."""

    scores: Path
    list_csv: Path
    run: RunResult | None  # None: the champion listed without retraining

    @property
    def retrain_reason(self) -> str | None:
        return None if self.run is None else self.run.retrain_reason


@flow(name="vigia-prepare")
def prepare(data_dir: str, out_dir: str, config_path: str | None = None,
            as_of: str | None = None) -> Prepared:
    """Validate the inputs, cut them to the planning date, load the districts."""
    config = load_config(config_path)
    data, out = Path(data_dir).resolve(), Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = tasks.run_fingerprint(data, out, config, as_of)
    quality = stages(config, out).quality_gate(data, out, config, fingerprint)
    planning_date, tables = tasks.cut_to_planning_date(quality.clean, as_of)
    history_start = oldest_record_date(tables)
    get_run_logger().info("Planning date (as-of) %s; history from %s", planning_date.date(),
                          history_start.date())
    return Prepared(config, data, out, fingerprint, quality,
                    PlanningData(tables, tasks.districts_table(), planning_date), history_start,
                    empty_table_notes(tables))


def gathered_with_progress(futures: list[Any], names: list[str]) -> list[Any]:
    """The futures' results in order, logging one line per finished split with the time left
    (mean time per split so far times the splits still to come), in the CLI and Prefect."""
    logger, started, results = get_run_logger(), time.monotonic(), []
    for done, (future, name) in enumerate(zip(futures, names, strict=True), start=1):
        results.append(future.result())
        elapsed = time.monotonic() - started
        logger.info("backtest split %s done (%d of %d) after %.0f s; about %.0f s left", name,
                    done, len(futures), elapsed, elapsed / done * (len(futures) - done))
    return results


@flow(name="vigia-backtest")
def backtest(prep: Prepared, plan: list[Split], fingerprint: str) -> BacktestResult:
    """The grid over the splits, one task per split on the flow's task runner, gathered in
    the plan's order (see `split_task_runner`)."""
    step = stages(prep.config, prep.out_dir).backtest_one_split
    futures = [step.submit(prep, split, split_name(split), fingerprint) for split in plan]
    result = combine_splits(gathered_with_progress(futures, [split_name(s) for s in plan]))
    tasks.backtest_files(result, prep.out_dir)
    return result


@flow(name="vigia-retrain", log_prints=True)
def vigia_retrain(data_dir: str, out_dir: str, config_path: str | None = None,
                  as_of: str | None = None) -> Retraining:
    """Validate, backtest the grid, select, retrain, register, and pass the promotion gate."""
    prep = prepare(data_dir, out_dir, config_path, as_of)
    config, key, run = prep.config, prep.fingerprint, stages(prep.config, prep.out_dir)
    logger = get_run_logger()
    fitted = run.plan_splits(prep, key)
    logger.info("Split plan: test as-of dates %s", [split_name(s) for s in fitted.splits])
    result = backtest.with_options(task_runner=split_task_runner(config.orchestration))(
        prep, fitted.splits, key)
    selection = run.select(result, config)
    logger.info("Selection:\n%s", selection.explanation)
    champion = run.load_champion(config)
    planning_model = run.train_for_planning_date(prep, selection.model_group, fitted, key)
    notes = retraining_notes(prep.notes, fitted, planning_model, prep.data.tables, config.splits)
    for note in notes:
        logger.warning("Adapted to the data: %s", note)
    drift = run.measure_drift(champion, planning_model)
    run_id = run.start_mlflow_run(prep, selection)
    run.log_backtest(prep, run_id, result, selection, planning_model, notes)
    outcome = run.gate(prep, result, planning_model, drift, champion)
    run.register_and_promote(prep, run_id, planning_model, drift, outcome)
    logger.info("Promotion gate: %s", outcome.decision.reason)
    create_markdown_artifact(key="vigia-drift", markdown=drift_section(drift),
                             description="Input drift against the champion's training data")
    return Retraining(run_id, prep.data.planning_date, prep.quality.accounting,
                      config.promotion.metric, fitted, result, selection, planning_model,
                      drift, outcome, notes)


@flow(name="vigia-rank", log_prints=True)
def vigia_rank(data_dir: str, out_dir: str, config_path: str | None = None,
               as_of: str | None = None, office: str | None = None,
               capacity: int | None = None) -> Listing:
    """A planner's list from the registered champion, no retraining: one office or all of them."""
    prep = prepare(data_dir, out_dir, config_path, as_of)
    config, run = prep.config, stages(prep.config, prep.out_dir)
    champion = run.load_champion(config)
    if champion is None:
        raise LookupError(f"no champion version of {config.mlflow.registered_model} yet")
    get_run_logger().info("Champion %s v%s (%s)", champion.info.name, champion.info.version,
                          champion.info.tags.get("model_group"))
    scored = run.score_planning_date(prep, champion.model)
    drift = run.measure_listing_drift(champion, scored)
    create_markdown_artifact(
        key="vigia-listing-drift", description="Data and score drift against the champion",
        markdown=drift_check_markdown(drift, drift.reasons(config.drift)))
    lists, files = run.write_planners_lists(prep, champion, scored,
                                            ListRequest(office, capacity))
    run.record_list(prep, champion, lists.target)
    offices = office_table(lists.target, lists.yields)
    create_table_artifact(key="vigia-lists", table=offices.to_dict(orient="records"),
                          description="List sizes and expected yield per office")
    return Listing(prep, champion, lists, files, drift, offices)


@flow(name="vigia-run", log_prints=True)
def vigia_run(data_dir: str, out_dir: str, config_path: str | None = None,
              as_of: str | None = None, retrain_reason: str | None = None) -> RunResult:
    """Retrain and gate, then the lists from whichever version is champion, then the report.

    `retrain_reason`: why a scheduled re-listing retrained first (kept on the MLflow run as tag
    `retrain_reason` and in the run report)."""
    retraining = vigia_retrain(data_dir, out_dir, config_path, as_of)
    listing = vigia_rank(data_dir, out_dir, config_path, as_of)
    prep, champion = listing.prepared, listing.champion
    config, run = prep.config, stages(prep.config, prep.out_dir)
    findings = run.estimate_findings(prep, retraining, champion)
    report = ListingReport(listing.lists, listing.files, champion.calibrated, listing.drift,
                           findings, retrain_reason)
    report_path = run.write_run_report(prep, retraining, report)
    run.log_listing(prep, retraining, report, report_path)
    tracking.log_drift(config.mlflow, retraining.run_id, listing.drift.tables(),
                       {"retrain_reason": retrain_reason} if retrain_reason else {})
    create_markdown_artifact(key="vigia-run-summary", markdown=summary_markdown(
        retraining, tracking.champion_validation(champion), listing.offices))
    create_markdown_artifact(key="vigia-run-report", markdown=report_path.read_text("utf-8"))
    return RunResult(listing.scores, listing.files.list_csv, report_path, retraining.run_id,
                     tracking.resolve_store(config.mlflow)[0], retraining.gate.decision.reason,
                     retrain_reason, markdown_table(listing.offices, digits=2))


@flow(name="vigia-scheduled-rank", log_prints=True)
def vigia_scheduled_rank(data_dir: str, out_dir: str, config_path: str | None = None,
                         as_of: str | None = None) -> ScheduledListing:
    """Re-listing at the start of a planning period: when the current data or the champion's
    scores drifted beyond config `drift:` (and `drift.retrain_on_drift`), retrain first."""
    prep = prepare(data_dir, out_dir, config_path, as_of)
    run = stages(prep.config, prep.out_dir)
    champion = run.load_champion(prep.config)
    reasons = run.check_drift(prep, champion)
    if reasons and prep.config.drift.retrain_on_drift:
        reason = "; ".join(reasons)
        get_run_logger().warning("Retraining before listing: %s", reason)
        result = vigia_run(data_dir, out_dir, config_path, as_of, retrain_reason=reason)
        return ScheduledListing(result.scores, result.list_csv, result)
    listing = vigia_rank(data_dir, out_dir, config_path, as_of)
    return ScheduledListing(listing.scores, listing.files.list_csv, None)

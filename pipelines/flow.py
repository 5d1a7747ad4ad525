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

Tasks are thin wrappers over plain functions in `features/`, `models/` and `pipelines/`. Expensive
tasks are cached on a run fingerprint (sha256 of the input files, the config, the planning date
request, the output folder and Vigía's own source), so a rerun on unchanged data skips finished
work and a rerun after a crash resumes from the last finished task. I/O tasks retry; every task
has a timeout (config `orchestration:`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE, TASK_SOURCE, CacheKeyFnPolicy, CachePolicy
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.hashing import hash_objects

from cleaning.contract import load_districts
from cleaning.quality import QualityResult, run_quality_gate
from features.catalog import FEATURE_CATALOG
from features.splits import FittedPlan, Split, fit_split_plan
from features.training_set import (
    build_scoring_set,
    newest_record_date,
    oldest_record_date,
    tables_known_before,
)
from models.monitoring.drift import SCORE_COLUMN, drift_table, retraining_reasons
from models.offpolicy import estimates
from models.offpolicy.list_log import append_list_log, list_log_entries, read_list_log
from models.selection.choose import Selection, SelectionEvidence, select_model
from models.selection.gate import GateOutcome, promotion_gate
from models.training.backtest import (
    BacktestResult,
    SplitResult,
    backtest_split,
    combine_splits,
    split_name,
)
from models.training.candidates import build_grid
from models.training.planning import PlanningModel, train_planning_model
from pipelines import tracking
from reporting import adaptations, outputs
from reporting import estimates as estimate_files
from reporting.markdown import markdown_table
from reporting.plots import plot_split_plan
from settings import catalog, inputs
from settings.errors import InputError
from settings.loader import load_config
from settings.paths import PROJECT_ROOT
from settings.schema import VigiaConfig

log = logging.getLogger(__name__)
SOURCE_FOLDERS = ("cleaning", "features", "models", "pipelines", "config", "settings", "reporting")


def keyed_on(*names: str) -> CachePolicy:
    """Cache key: the task's source plus the named (small) inputs, the run fingerprint first.

    Large inputs (tables, models) are left out of the key: the fingerprint already stands for
    everything they were computed from.
    """
    def key(_context: Any, parameters: dict[str, Any]) -> str | None:
        return hash_objects(*(parameters[name] for name in names))

    return TASK_SOURCE + CacheKeyFnPolicy(cache_key_fn=key)


def run_fingerprint(data_dir: Path, out_dir: Path, config: VigiaConfig, as_of: str | None) -> str:
    """sha256 over the inputs' bytes, the config (with the files it names), the as-of request,
    the output folder and Vigía's code: everything a cached task's result depends on."""
    digest = hashlib.sha256()
    for path in outputs.input_files(data_dir):
        digest.update(f"{path.name}:{tracking.file_sha256(path)}".encode())
    # The offices file (capacities, merged into config.lists) and a data mapping file count as
    # config too.
    digest.update(json.dumps(config.model_dump(mode="json"), sort_keys=True).encode())
    mapping = config.data.mapping
    if mapping:
        digest.update(tracking.file_sha256(PROJECT_ROOT / mapping).encode())
    digest.update(f"{as_of}|{out_dir}".encode())
    for folder in SOURCE_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.suffix in {".py", ".yaml", ".csv"} and path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def configured(stage: Task, config: VigiaConfig, name: str, io: bool = False) -> Task:
    """A task with its timeout (and, for I/O, retries) from config `orchestration:`."""
    settings = config.orchestration
    minutes = settings.timeout_minutes.get(name, settings.timeout_minutes["default"])
    options: dict[str, Any] = {"timeout_seconds": float(minutes) * 60}
    if io:
        options.update(retries=settings.io_retries,
                       retry_delay_seconds=settings.retry_delay_seconds)
    if stage.cache_policy is not None and stage.persist_result:
        options["cache_expiration"] = timedelta(days=settings.cache_days)
    return stage.with_options(**options)


@dataclass
class Prepared:
    """Validated inputs cut to the planning date, shared by both flows."""

    config: VigiaConfig
    data_dir: Path
    out_dir: Path
    fingerprint: str
    quality: QualityResult
    planning_date: pd.Timestamp
    tables: dict[str, pd.DataFrame]
    history_start: pd.Timestamp
    districts: pd.DataFrame
    notes: list[str]  # what the run adapted to the data (reporting/adaptations.py)


@dataclass
class Retraining:
    """What the retraining hands to the run report."""

    run_id: str
    plan: list[Split]
    backtest: BacktestResult
    selection: Selection
    planning_model: PlanningModel
    drift: pd.DataFrame | None
    gate: GateOutcome
    notes: list[str]


@task(name="quality-gate", cache_policy=keyed_on("fingerprint"), persist_result=True)
def quality_gate(data_dir: Path, out_dir: Path, config: VigiaConfig,
                 fingerprint: str) -> QualityResult:
    # Future dates are judged against today: records after a past --as-of are real, and the
    # planning-date cut hides them from the model.
    return run_quality_gate(data_dir, out_dir, config, None)


@task(name="cut-to-planning-date", cache_policy=NO_CACHE)
def cut_to_planning_date(
    clean: dict[str, pd.DataFrame], as_of: str | None
) -> tuple[pd.Timestamp, dict[str, pd.DataFrame]]:
    planning_date = pd.Timestamp(date.fromisoformat(as_of)) if as_of else (
        newest_record_date(clean) + pd.Timedelta(days=1)
    ).normalize()
    return planning_date, tables_known_before(clean, planning_date)


@task(name="load-districts", cache_policy=NO_CACHE, retries=2)
def districts_table() -> pd.DataFrame:
    return load_districts()


@flow(name="vigia-prepare")
def prepare(data_dir: str, out_dir: str, config_path: str | None = None,
            as_of: str | None = None) -> Prepared:
    """Validate the inputs, cut them to the planning date, load the districts."""
    config = load_config(config_path)
    data, out = Path(data_dir).resolve(), Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = run_fingerprint(data, out, config, as_of)
    quality = configured(quality_gate, config, "quality_gate", io=True)(
        data, out, config, fingerprint)
    planning_date, tables = cut_to_planning_date(quality.clean, as_of)
    get_run_logger().info("Planning date (as-of) %s; history from %s", planning_date.date(),
                          oldest_record_date(tables).date())
    return Prepared(config, data, out, fingerprint, quality, planning_date, tables,
                    oldest_record_date(tables), districts_table(),
                    adaptations.empty_table_notes(tables))


@task(name="plan-splits", cache_policy=keyed_on("fingerprint"), persist_result=True)
def plan_splits(prep: Prepared, fingerprint: str) -> FittedPlan:
    """The configured split plan, shrunk when the history is too short for it."""
    fitted = fit_split_plan(
        prep.config.splits, prep.history_start, prep.planning_date - pd.Timedelta(days=1),
        label_timespan_months=prep.config.labels.label_timespan_months,
    )
    plot_split_plan(fitted.splits, catalog.SPLIT_PLAN.path(prep.out_dir))
    return fitted


@task(name="backtest-split", cache_policy=keyed_on("fingerprint", "name"), persist_result=True)
def backtest_one_split(prep: Prepared, split: Split, name: str, fingerprint: str) -> SplitResult:
    """Every grid point trained and measured on one split (`name`: its test as-of date)."""
    config = prep.config
    return backtest_split(
        prep.tables, prep.districts, split,
        lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG), config.training(),
        config.lists.total_capacity, config.promotion.metric,
    )


@task(name="write-backtest-files", cache_policy=NO_CACHE)
def write_backtest_files(result: BacktestResult, out_dir: Path) -> None:
    outputs.write_backtest_files(result, out_dir)


@flow(name="vigia-backtest")
def backtest(prep: Prepared, plan: list[Split], fingerprint: str) -> BacktestResult:
    """The grid over the splits, one task per split on the flow's task runner, gathered in
    the plan's order (see `split_task_runner`)."""
    stage = configured(backtest_one_split, prep.config, "backtest")
    futures = [stage.submit(prep, split, split_name(split), fingerprint) for split in plan]
    result = combine_splits([future.result() for future in futures])
    write_backtest_files(result, prep.out_dir)
    return result


def split_task_runner(config: VigiaConfig) -> Any:
    """The task runner of the backtest's splits (config `orchestration.split_runner`): local
    threads, or a Dask cluster through prefect-dask (an address, or a local cluster)."""
    runner = config.orchestration.split_runner
    if runner.kind == "threads":
        return ThreadPoolTaskRunner(max_workers=runner.max_workers)
    if runner.kind == "dask":
        from prefect_dask import DaskTaskRunner  # only runs that ask for Dask import it

        if runner.address:
            return DaskTaskRunner(address=runner.address)
        return DaskTaskRunner(cluster_kwargs=dict(runner.cluster_kwargs))
    raise InputError(f"config orchestration.split_runner.kind: {runner.kind!r} is not "
                     "'threads' or 'dask'")


@task(name="select-model", cache_policy=NO_CACHE)
def select(result: BacktestResult, config: VigiaConfig) -> Selection:
    evidence = SelectionEvidence.from_backtest(result, config.lists.total_capacity)
    return select_model(evidence, config.selection)


@task(name="load-champion", cache_policy=NO_CACHE)
def load_champion(config: VigiaConfig) -> tracking.Champion | None:
    return tracking.champion_or_none(config)


@task(name="train-for-planning-date", cache_policy=keyed_on("fingerprint", "model_group"),
      persist_result=True)
def train_for_planning_date(prep: Prepared, model_group: str, fitted: FittedPlan,
                            fingerprint: str) -> PlanningModel:
    """The planning model on the burn-in the fitted split plan kept (a short history shrinks it)."""
    config = prep.config
    return train_planning_model(prep.tables, prep.districts, model_group, prep.planning_date,
                                prep.history_start, config.training(),
                                fitted.production_splits_config(config.splits), config.drift)


def adaptation_notes(prep: Prepared, fitted: FittedPlan,
                     planning_model: PlanningModel) -> list[str]:
    """What this run shrank, dropped or assumed to fit its data; each also logged as a warning."""
    notes = [*prep.notes, fitted.note,
             adaptations.planning_history_note(planning_model.train_as_of_dates,
                                               prep.config.splits),
             adaptations.dropped_columns_note(planning_model.dropped_columns),
             adaptations.registry_snapshot_note(prep.tables)]
    notes = [note for note in notes if note]
    for note in notes:
        get_run_logger().warning("Adapted to the data: %s", note)
    return notes


@task(name="measure-drift", cache_policy=NO_CACHE)
def measure_drift(champion: tracking.Champion | None,
                  planning_model: PlanningModel) -> pd.DataFrame | None:
    """The new training data against the champion's (None: no champion or no profile)."""
    if champion is None or champion.profile is None:
        return None
    return drift_table(champion.profile, planning_model.profile)


@task(name="log-run", cache_policy=NO_CACHE)
def start_mlflow_run(prep: Prepared, selection: Selection) -> str:
    return tracking.start_planning_run(
        prep.config.mlflow, f"planning {prep.planning_date.date()}",
        outputs.input_files(prep.data_dir),
        prep.config.model_dump(exclude={"lists": {"offices", "specialized_team"}}),
        {"planning_date": str(prep.planning_date.date()),
         "chosen_model_group": selection.model_group},
    )


@task(name="log-backtest", cache_policy=NO_CACHE)
def log_backtest(prep: Prepared, run_id: str, result: BacktestResult, selection: Selection,
                 planning_model: PlanningModel, notes: list[str]) -> None:
    metric = prep.config.promotion.metric
    newest = max(result.metrics["split"].dropna().unique())
    validation = outputs.validation_for_planners(
        outputs.comparison_table(result.metrics, metric), selection.model_group, result, newest,
        metric, prep.config.labels.label_timespan_months)
    tracking.log_backtest(prep.config.mlflow, run_id, metrics=result.metrics,
                          **outputs.backtest_records(prep.out_dir, prep.quality, selection,
                                                     validation, notes,
                                                     planning_model.dropped_columns))


@task(name="promotion-gate", cache_policy=NO_CACHE)
def gate(prep: Prepared, result: BacktestResult, planning_model: PlanningModel,
         drift: pd.DataFrame | None, champion: tracking.Champion | None) -> GateOutcome:
    return promotion_gate(
        prep.tables, prep.districts, prep.planning_date, prep.quality.accounting, result,
        prep.config, challenger=planning_model.trained.model,
        challenger_cutoff=planning_model.label_cutoff, drift=drift,
        champion=champion.model if champion else None,
        champion_tags=champion.info.tags if champion else None,
    )


@task(name="register-and-promote", cache_policy=NO_CACHE)
def register_and_promote(prep: Prepared, run_id: str, planning_model: PlanningModel,
                         drift: pd.DataFrame | None, outcome: GateOutcome) -> None:
    trained = planning_model.trained
    version = tracking.register_planning_model(
        prep.config.mlflow, run_id, trained.model,
        outcome.rows.features.reset_index(drop=True), planning_model.profile,
        tags={"model_group": planning_model.model_group,
              "planning_date": str(prep.planning_date.date()),
              "label_cutoff": str(planning_model.label_cutoff.date()),
              "calibrated": str(trained.calibrated), **outcome.tags()},
        scoring_profiles={inputs.SCORING_PROFILE.name: planning_model.scoring_profile,
                          inputs.SCORE_PROFILE.name: planning_model.score_profile},
    )
    tracking.record_promotion(prep.config.mlflow, run_id, version, outcome.decision,
                              drift.to_csv(index=False) if drift is not None else None)


@flow(name="vigia-retrain", log_prints=True)
def vigia_retrain(data_dir: str, out_dir: str, config_path: str | None = None,
                  as_of: str | None = None) -> Retraining:
    """Validate, backtest the grid, select, retrain, register, and pass the promotion gate."""
    prep = prepare(data_dir, out_dir, config_path, as_of)
    config, key = prep.config, prep.fingerprint
    fitted = configured(plan_splits, config, "plan_splits")(prep, key)
    plan = fitted.splits
    get_run_logger().info("Split plan: test as-of dates %s", [split_name(s) for s in plan])
    result = backtest.with_options(task_runner=split_task_runner(config))(prep, plan, key)
    selection = configured(select, config, "select")(result, config)
    get_run_logger().info("Selection:\n%s", selection.explanation)
    champion = configured(load_champion, config, "mlflow", io=True)(config)
    planning_model = configured(train_for_planning_date, config, "train")(
        prep, selection.model_group, fitted, key)
    notes = adaptation_notes(prep, fitted, planning_model)
    drift = configured(measure_drift, config, "drift")(champion, planning_model)
    run_id = configured(start_mlflow_run, config, "mlflow", io=True)(prep, selection)
    configured(log_backtest, config, "mlflow", io=True)(
        prep, run_id, result, selection, planning_model, notes)
    outcome = configured(gate, config, "gate")(prep, result, planning_model, drift, champion)
    configured(register_and_promote, config, "mlflow", io=True)(
        prep, run_id, planning_model, drift, outcome)
    get_run_logger().info("Promotion gate: %s", outcome.decision.reason)
    create_markdown_artifact(key="vigia-drift", markdown=outputs.drift_section(drift),
                             description="Input drift against the champion's training data")
    return Retraining(run_id, plan, result, selection, planning_model, drift, outcome, notes)


@task(name="score-with-champion", cache_policy=NO_CACHE)
def score_planning_date(prep: Prepared, model: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    X, meta = build_scoring_set(prep.tables, prep.districts, prep.planning_date,
                                prep.config.features.area_prior_strength)
    scores = pd.DataFrame({"workplace_id": meta["workplace_id"].to_numpy(),
                           "score": model.predict_proba(X)[:, 1]})
    return X.set_index(meta["workplace_id"]), scores


@task(name="measure-listing-drift", cache_policy=NO_CACHE)
def measure_listing_drift(champion: tracking.Champion, X: pd.DataFrame,
                          scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The planning date's features and the champion's scores on them against those of the
    champion's own planning date (a table per profile the champion was registered with)."""
    tables = {}
    if champion.scoring_profile is not None:
        tables["features_at_planning_date"] = drift_table(champion.scoring_profile, X)
    if champion.score_profile is not None:
        tables["scores"] = drift_table(champion.score_profile, scores[[SCORE_COLUMN]])
    return tables


def drift_markdown(tables: dict[str, pd.DataFrame], reasons: list[str]) -> str:
    """The drift check of a listing for its Prefect artifact."""
    verdict = ("Beyond the `drift:` thresholds: " + "; ".join(reasons)) if reasons else \
        "Within the `drift:` thresholds."
    return f"{verdict}\n\n{outputs.listing_drift_section(tables, None)}"


@task(name="write-lists", cache_policy=NO_CACHE)
def write_lists(prep: Prepared, champion: tracking.Champion, X: pd.DataFrame,
                scores: pd.DataFrame, office: str | None, capacity: int | None,
                out_dir: Path) -> tuple[dict[str, Path], pd.DataFrame, pd.DataFrame, dict]:
    """Explain the listed workplaces, build the lists, write the planners' files (atomically)."""
    outputs.write_scores(scores, prep.planning_date, out_dir)
    return outputs.write_lists(
        champion.model, X, scores, prep.tables, prep.districts, prep.planning_date, prep.config,
        validation=tracking.load_run_json(champion.info.run_id,
                                         inputs.VALIDATION_FOR_PLANNERS.name),
        out_dir=out_dir, office=office, capacity=capacity,
        calibrated=champion.calibrated, data_dir=prep.data_dir,
    )


@task(name="record-list", cache_policy=NO_CACHE)
def record_list(prep: Prepared, champion: tracking.Champion, target: pd.DataFrame) -> Path:
    """Append the published list to the list log under the output root
    (models/offpolicy/list_log.py)."""
    path = catalog.LIST_LOG.path(prep.out_dir)
    append_list_log(path, list_log_entries(
        target, prep.planning_date, prep.config.offpolicy.list_period_months,
        champion.info.version))
    return path


@task(name="estimate-findings", cache_policy=NO_CACHE)
def estimate_findings(prep: Prepared, retraining: Retraining,
                      listing: dict[str, Any]) -> dict[str, Any]:
    """Off-policy estimates of what the champion's list and each department really hold."""
    config, capacity = prep.config, prep.config.lists.total_capacity
    log = read_list_log(*estimates.list_log_paths(prep.out_dir, prep.data_dir))
    newest = pd.Timestamp(max(retraining.backtest.metrics["split"].dropna().unique()))
    rows = estimates.evaluation_rows(
        prep.tables, prep.districts, listing["champion"].model, prep.planning_date,
        estimates.evaluation_date(log, prep.planning_date, config, newest), config)
    figures = estimates.run_estimates(prep.tables, prep.districts, rows, prep.planning_date, log,
                                      capacity, config)
    estimate_files.write_estimates(figures, prep.out_dir)
    audit = estimates.list_audit(prep.tables, rows, capacity, config)
    estimate_files.write_audit(audit, config.fairness, prep.out_dir)
    return {**figures, "fairness_audit": estimate_files.audit_section(audit, figures["as_of"],
                                                                capacity)}


@flow(name="vigia-rank", log_prints=True)
def vigia_rank(data_dir: str, out_dir: str, config_path: str | None = None,
               as_of: str | None = None, office: str | None = None,
               capacity: int | None = None) -> dict[str, Any]:
    """A planner's list from the registered champion, no retraining: one office or all of them."""
    prep = prepare(data_dir, out_dir, config_path, as_of)
    config = prep.config
    champion = configured(load_champion, config, "mlflow", io=True)(config)
    if champion is None:
        raise LookupError(f"no champion version of {config.mlflow.registered_model} yet")
    get_run_logger().info("Champion %s v%s (%s)", champion.info.name, champion.info.version,
                          champion.info.tags.get("model_group"))
    X, scores = configured(score_planning_date, config, "score")(prep, champion.model)
    drift = configured(measure_listing_drift, config, "drift")(champion, X, scores)
    create_markdown_artifact(
        key="vigia-listing-drift", description="Data and score drift against the champion",
        markdown=drift_markdown(drift, retraining_reasons(drift.get("features_at_planning_date"),
                                                          drift.get("scores"), config.drift)))
    files, target, yields, figures = configured(write_lists, config, "lists", io=True)(
        prep, champion, X, scores, office, capacity, prep.out_dir)
    configured(record_list, config, "lists", io=True)(prep, champion, target)
    offices = outputs.office_table(target, yields)
    create_table_artifact(key="vigia-lists", table=offices.to_dict(orient="records"),
                          description="List sizes and expected yield per office")
    return {"list_csv": str(files["list_csv"]), "report_html": str(files["report_html"]),
            "scores": str(catalog.SCORES.path(prep.out_dir)), "files": files, "target": target,
            "yields": yields, "figures": figures, "champion": champion, "offices": offices,
            "planning_date": prep.planning_date, "prepared": prep, "drift": drift}


@task(name="write-run-report", cache_policy=NO_CACHE)
def write_run_report(prep: Prepared, retraining: Retraining, listing: dict[str, Any],
                     retrain_reason: str | None = None) -> Path:
    metric = prep.config.promotion.metric
    report = outputs.run_report(
        planning_date=prep.planning_date, quality=prep.quality, plan=retraining.plan,
        backtest=retraining.backtest,
        comparison=outputs.comparison_table(retraining.backtest.metrics, metric),
        selection=retraining.selection, planning_model=retraining.planning_model,
        drift=retraining.drift, gate=retraining.gate, calibrated=listing["champion"].calibrated,
        target=listing["target"], yields=listing["yields"], files=listing["files"],
        notes=retraining.notes, listing_drift=listing["drift"], retrain_reason=retrain_reason,
        metric=metric,
        extra_sections={"What the lists really find (off-policy estimates)":
                        estimate_files.estimates_section(listing["estimates"]),
                        "Fairness audit of the list at capacity":
                        listing["estimates"]["fairness_audit"]},
    )
    path = catalog.RUN_REPORT.path(prep.out_dir)
    path.write_text(report, encoding="utf-8")
    return path


@task(name="log-listing", cache_policy=NO_CACHE)
def log_listing(prep: Prepared, retraining: Retraining, listing: dict[str, Any],
                report_path: Path) -> None:
    result, metric = retraining.backtest, prep.config.promotion.metric
    newest = max(result.metrics["split"].dropna().unique())
    figures = {inputs.EXPLANATION_FIGURE.path(name=name): figure
               for name, figure in listing["figures"].items()}
    figures[inputs.CALIBRATION_FIGURE.name] = outputs.calibration_figure(
        result, retraining.selection.model_group, newest, prep.config)
    tracking.log_listing(
        prep.config.mlflow, retraining.run_id, figures=figures,
        files=[(report_path, None), (listing["files"]["list_csv"], inputs.LISTS_FOLDER.name),
               (catalog.ESTIMATES.path(prep.out_dir), None),
               (catalog.FAIRNESS_AUDIT.path(prep.out_dir), None),
               (catalog.FAIRNESS_FIGURE.path(prep.out_dir), None),
               (catalog.LIST_LOG.path(prep.out_dir), inputs.LIST_LOG_FOLDER.name)],
        metrics={"listed_workplaces": len(listing["target"]),
                 "offpolicy_list_precision": listing["estimates"]["list_precision"]["estimate"],
                 "expected_findings": listing["yields"].loc["TOTAL", "expected_findings"],
                 f"newest_window_{metric}": outputs.newest_window_value(
                     result.metrics, retraining.selection.model_group, newest, metric)},
    )


@flow(name="vigia-run", log_prints=True)
def vigia_run(data_dir: str, out_dir: str, config_path: str | None = None,
              as_of: str | None = None, retrain_reason: str | None = None) -> dict[str, Any]:
    """Retrain and gate, then the lists from whichever version is champion, then the report.

    `retrain_reason`: why a scheduled re-listing retrained first (kept on the MLflow run as tag
    `retrain_reason` and in the run report)."""
    retraining = vigia_retrain(data_dir, out_dir, config_path, as_of)
    listing = vigia_rank(data_dir, out_dir, config_path, as_of)
    prep: Prepared = listing["prepared"]
    config = prep.config
    listing["estimates"] = configured(estimate_findings, config, "estimates")(
        prep, retraining, listing)
    report_path = configured(write_run_report, config, "report", io=True)(
        prep, retraining, listing, retrain_reason)
    configured(log_listing, config, "mlflow", io=True)(prep, retraining, listing, report_path)
    tracking.log_drift(config.mlflow, retraining.run_id, listing["drift"],
                       {"retrain_reason": retrain_reason} if retrain_reason else {})
    validation = tracking.load_run_json(listing["champion"].info.run_id,
                                        inputs.VALIDATION_FOR_PLANNERS.name)
    create_markdown_artifact(key="vigia-run-summary", markdown=outputs.summary_markdown(
        planning_date=prep.planning_date, quality=prep.quality, selection=retraining.selection,
        gate_reason=retraining.gate.decision.reason, validation=validation,
        offices=listing["offices"]))
    create_markdown_artifact(key="vigia-run-report", markdown=report_path.read_text("utf-8"))
    return {
        "scores": listing["scores"], "list_csv": listing["list_csv"],
        "run_report": str(report_path), "mlflow_run_id": retraining.run_id,
        "mlflow_tracking_uri": tracking.resolve_store(config.mlflow)[0],
        "promotion": retraining.gate.decision.reason, "retrain_reason": retrain_reason,
        "offices": markdown_table(listing["offices"], digits=2),
    }


@task(name="check-drift", cache_policy=NO_CACHE)
def check_drift(prep: Prepared, champion: tracking.Champion | None) -> list[str]:
    """Why the champion should be retrained before this period's lists (empty: it need not)."""
    if champion is None:
        return [f"no champion version of {prep.config.mlflow.registered_model} yet"]
    X, scores = score_planning_date.fn(prep, champion.model)
    tables = measure_listing_drift.fn(champion, X, scores)
    reasons = retraining_reasons(tables.get("features_at_planning_date"), tables.get("scores"),
                                 prep.config.drift)
    create_markdown_artifact(key="vigia-drift-check", markdown=drift_markdown(tables, reasons),
                             description="Drift check before the scheduled re-listing")
    return reasons


@flow(name="vigia-scheduled-rank", log_prints=True)
def vigia_scheduled_rank(data_dir: str, out_dir: str, config_path: str | None = None,
                         as_of: str | None = None) -> dict[str, Any]:
    """Re-listing at the start of a planning period: when the current data or the champion's
    scores drifted beyond config `drift:` (and `drift.retrain_on_drift`), retrain first."""
    prep = prepare(data_dir, out_dir, config_path, as_of)
    champion = configured(load_champion, prep.config, "mlflow", io=True)(prep.config)
    reasons = configured(check_drift, prep.config, "drift")(prep, champion)
    if reasons and prep.config.drift.retrain_on_drift:
        reason = "; ".join(reasons)
        get_run_logger().warning("Retraining before listing: %s", reason)
        return vigia_run(data_dir, out_dir, config_path, as_of, retrain_reason=reason)
    listing = vigia_rank(data_dir, out_dir, config_path, as_of)
    return {"scores": listing["scores"], "list_csv": listing["list_csv"], "retrain_reason": None}

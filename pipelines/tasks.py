"""The flows' steps: thin Prefect tasks over the stage packages' plain functions.

Each step declares its timeout key and whether it does I/O once (`pipelines.stage.stage`); the
flows run them through `Stages`. Expensive steps are cached on the run fingerprint (sha256 of the
input files, the config, the planning date request, the output folder and Vigía's own source), so
a rerun on unchanged data skips finished work and a rerun after a crash resumes from the last
finished step. Two small steps of `prepare` keep the options they always had (no timeout).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from cleaning.contract import load_districts
from cleaning.quality import QualityResult, run_quality_gate
from features.catalog import FEATURE_CATALOG
from features.splits import FittedPlan, Split, fit_split_plan
from features.training_set import PlanningData, planning_date_for, tables_known_before
from models.monitoring.drift import ListingDrift, drift_table, listing_drift
from models.offpolicy import estimates
from models.offpolicy.list_log import append_list_log, list_log_entries, read_list_log
from models.selection.choose import Selection, SelectionEvidence, select_model
from models.selection.gate import GateOutcome, promotion_gate
from models.targeting.lists import ListRequest
from models.training.backtest import BacktestResult, SplitResult, backtest_split
from models.training.candidates import build_grid
from models.training.planning import (
    Contender,
    PlanningModel,
    ScoredWorkplaces,
    score_workplaces,
    train_planning_model,
)
from pipelines import tracking
from pipelines.stage import keyed_on, stage
from reporting import estimates as estimate_files
from reporting import records
from reporting.backtest import validation_for_planners, write_backtest_files
from reporting.drift import drift_check_markdown
from reporting.lists import ListingModel, write_lists, write_scores
from reporting.planner_report import ListFiles, PlannerLists
from reporting.plots import plot_split_plan
from reporting.run_report import ListingReport, Retraining, run_report
from settings import catalog, files, inputs
from settings.paths import PROJECT_ROOT
from settings.schema import VigiaConfig

SOURCE_FOLDERS = ("cleaning", "features", "models", "pipelines", "config", "settings", "reporting")


def run_fingerprint(data_dir: Path, out_dir: Path, config: VigiaConfig, as_of: str | None) -> str:
    """sha256 over the inputs' bytes, the config (with the files it names), the as-of request,
    the output folder and Vigía's code: everything a cached task's result depends on."""
    digest = hashlib.sha256()
    for path in tracking.input_files(data_dir):
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


@dataclass(frozen=True)
class Prepared:
    """Validated inputs cut to the planning date, shared by both flows."""

    config: VigiaConfig
    data_dir: Path
    out_dir: Path
    fingerprint: str
    quality: QualityResult
    data: PlanningData
    history_start: pd.Timestamp
    notes: list[str]  # what the run adapted to the data (reporting/adaptations.py)


# --- prepare ---------------------------------------------------------------------------------

@stage(timeout="quality_gate", io=True, name="quality-gate", cache_policy=keyed_on("fingerprint"),
       persist_result=True)
def quality_gate(data_dir: Path, out_dir: Path, config: VigiaConfig,
                 fingerprint: str) -> QualityResult:
    # Future dates are judged against today: records after a past --as-of are real, and the
    # planning-date cut hides them from the model.
    return run_quality_gate(data_dir, out_dir, config, None)


@task(name="cut-to-planning-date", cache_policy=NO_CACHE)
def cut_to_planning_date(
    clean: dict[str, pd.DataFrame], as_of: str | None
) -> tuple[pd.Timestamp, dict[str, pd.DataFrame]]:
    planning_date = planning_date_for(clean, as_of)
    return planning_date, tables_known_before(clean, planning_date)


@task(name="load-districts", cache_policy=NO_CACHE, retries=2)
def districts_table() -> pd.DataFrame:
    return load_districts()


# --- retrain ---------------------------------------------------------------------------------

@stage(timeout="plan_splits", name="plan-splits", cache_policy=keyed_on("fingerprint"),
       persist_result=True)
def plan_splits(prep: Prepared, fingerprint: str) -> FittedPlan:
    """The configured split plan, shrunk when the history is too short for it."""
    fitted = fit_split_plan(
        prep.config.splits, prep.history_start, prep.data.planning_date - pd.Timedelta(days=1),
        label_timespan_months=prep.config.labels.label_timespan_months,
    )
    plot_split_plan(fitted.splits, catalog.SPLIT_PLAN.path(prep.out_dir))
    return fitted


@stage(timeout="backtest", name="backtest-split", cache_policy=keyed_on("fingerprint", "name"),
       persist_result=True)
def backtest_one_split(prep: Prepared, split: Split, name: str, fingerprint: str) -> SplitResult:
    """Every grid point trained and measured on one split (`name`: its test as-of date)."""
    config = prep.config
    return backtest_split(
        prep.data.features, split,
        lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG), config.training(),
        config.lists.total_capacity, config.promotion.metric,
    )


@task(name="write-backtest-files", cache_policy=NO_CACHE)
def backtest_files(result: BacktestResult, out_dir: Path) -> None:
    write_backtest_files(result, out_dir)


@stage(timeout="select", name="select-model", cache_policy=NO_CACHE)
def select(result: BacktestResult, config: VigiaConfig) -> Selection:
    evidence = SelectionEvidence.from_backtest(result, config.lists.total_capacity)
    return select_model(evidence, config.selection)


@stage(timeout="mlflow", io=True, name="load-champion", cache_policy=NO_CACHE)
def load_champion(config: VigiaConfig) -> tracking.Champion | None:
    return tracking.champion_or_none(config)


@stage(timeout="train", name="train-for-planning-date",
       cache_policy=keyed_on("fingerprint", "model_group"), persist_result=True)
def train_for_planning_date(prep: Prepared, model_group: str, fitted: FittedPlan,
                            fingerprint: str) -> PlanningModel:
    """The planning model on the burn-in the fitted split plan kept (a short history shrinks it)."""
    return train_recipe(prep, model_group, fitted, prep.data.planning_date)


def train_recipe(prep: Prepared, model_group: str, fitted: FittedPlan,
                 planning_date: pd.Timestamp) -> PlanningModel:
    """`model_group` trained as the planning model is, for `planning_date` (an earlier date
    too: then it learns only from labels known before that date)."""
    config, data = prep.config, prep.data
    return train_planning_model(data.features, model_group, planning_date, prep.history_start,
                                config.training(), fitted.production_splits_config(config.splits),
                                config.drift)


@stage(timeout="drift", name="measure-drift", cache_policy=NO_CACHE)
def measure_drift(champion: tracking.Champion | None,
                  planning_model: PlanningModel) -> pd.DataFrame | None:
    """The new training data against the champion's (None: no champion or no profile)."""
    if champion is None or champion.profile is None:
        return None
    return drift_table(champion.profile, planning_model.profile)


@stage(timeout="mlflow", io=True, name="log-run", cache_policy=NO_CACHE)
def start_mlflow_run(prep: Prepared, selection: Selection) -> str:
    planning_date = str(prep.data.planning_date.date())
    return tracking.start_planning_run(
        prep.config.mlflow, f"planning {planning_date}", tracking.input_files(prep.data_dir),
        prep.config.model_dump(exclude={"lists": {"offices", "specialized_team"}}),
        {"planning_date": planning_date, "chosen_model_group": selection.model_group},
    )


@stage(timeout="mlflow", io=True, name="log-backtest", cache_policy=NO_CACHE)
def log_backtest(prep: Prepared, run_id: str, result: BacktestResult, selection: Selection,
                 planning_model: PlanningModel, notes: list[str]) -> None:
    config = prep.config
    validation = validation_for_planners(result, selection.model_group, config.promotion.metric,
                                         config.labels.label_timespan_months,
                                         prep.data.tables["inspections"],
                                         config.lists)
    tracking.log_backtest(config.mlflow, run_id, records.backtest_records(
        prep.out_dir, prep.quality, selection, validation, notes,
        planning_model.dropped_columns), result.metrics)


@stage(timeout="gate", name="promotion-gate", cache_policy=NO_CACHE)
def gate(prep: Prepared, result: BacktestResult, planning_model: PlanningModel,
         drift: pd.DataFrame | None, champion: tracking.Champion | None) -> GateOutcome:
    return promotion_gate(
        prep.data, result, prep.config,
        challenger=Contender(planning_model.trained.model, planning_model.label_cutoff,
                             planning_model.model_group),
        champion=None if champion is None else Contender.registered(champion.model,
                                                                   champion.info.tags),
        drift=drift)


@stage(timeout="mlflow", io=True, name="register-and-promote", cache_policy=NO_CACHE)
def register_and_promote(prep: Prepared, run_id: str, planning_model: PlanningModel,
                         drift: pd.DataFrame | None, outcome: GateOutcome) -> None:
    trained, planning_date = planning_model.trained, prep.data.planning_date
    version = tracking.register_planning_model(
        prep.config.mlflow, run_id, trained.model,
        outcome.rows.features.reset_index(drop=True), planning_model.profile,
        tags={"model_group": planning_model.model_group,
              "planning_date": str(planning_date.date()),
              "label_cutoff": str(planning_model.label_cutoff.date()),
              "calibrated": str(trained.calibrated), **outcome.tags()},
        scoring_profiles={inputs.SCORING_PROFILE.name: planning_model.scoring_profile,
                          inputs.SCORE_PROFILE.name: planning_model.score_profile},
    )
    tracking.record_promotion(prep.config.mlflow, run_id, version, outcome.decision,
                              drift.to_csv(index=False) if drift is not None else None)


# --- rank ------------------------------------------------------------------------------------

@stage(timeout="score", name="score-with-champion", cache_policy=NO_CACHE)
def score_planning_date(prep: Prepared, model: Any) -> ScoredWorkplaces:
    return score_workplaces(model, prep.data, prep.config.features.area_prior_strength)


@stage(timeout="drift", name="measure-listing-drift", cache_policy=NO_CACHE)
def measure_listing_drift(champion: tracking.Champion, scored: ScoredWorkplaces) -> ListingDrift:
    return champion_drift(champion, scored)


def champion_drift(champion: tracking.Champion, scored: ScoredWorkplaces) -> ListingDrift:
    """The planning date's features and the champion's scores on them against every workplace
    at the champion's newest training as-of date (a table per profile it was registered with)."""
    return listing_drift(champion.scoring_profile, champion.score_profile, scored.features,
                         scored.scores)


@stage(timeout="lists", io=True, name="write-lists", cache_policy=NO_CACHE)
def write_planners_lists(prep: Prepared, champion: tracking.Champion, scored: ScoredWorkplaces,
                         request: ListRequest) -> tuple[PlannerLists, ListFiles]:
    """Explain the listed workplaces, build the lists, write the planners' files (atomically)."""
    write_scores(scored.scores, prep.data.planning_date, prep.out_dir)
    listing_model = ListingModel(champion.model, champion.calibrated,
                                 tracking.champion_validation(champion))
    return write_lists(listing_model, scored, prep.data, prep.config, request,
                       out_dir=prep.out_dir, data_dir=prep.data_dir)


@stage(timeout="lists", io=True, name="record-list", cache_policy=NO_CACHE)
def record_list(prep: Prepared, champion: tracking.Champion, target: pd.DataFrame) -> Path:
    """Append the published list to the list log under the output root
    (models/offpolicy/list_log.py)."""
    path = catalog.LIST_LOG.path(prep.out_dir)
    append_list_log(path, list_log_entries(
        target, prep.data.planning_date, prep.config.offpolicy.list_period_months,
        champion.info.version))
    return path


@stage(timeout="drift", name="check-drift", cache_policy=NO_CACHE)
def check_drift(prep: Prepared, champion: tracking.Champion | None) -> list[str]:
    """Why the champion should be retrained before this period's lists (empty: it need not)."""
    if champion is None:
        return [f"no champion version of {prep.config.mlflow.registered_model} yet"]
    scored = score_workplaces(champion.model, prep.data, prep.config.features.area_prior_strength)
    drift = champion_drift(champion, scored)
    reasons = drift.reasons(prep.config.drift)
    create_markdown_artifact(key="vigia-drift-check", markdown=drift_check_markdown(drift, reasons),
                             description="Drift check before the scheduled re-listing")
    return reasons


# --- run: what the lists find, the report, MLflow --------------------------------------------

@stage(timeout="estimates", name="estimate-findings", cache_policy=NO_CACHE)
def estimate_findings(prep: Prepared, retraining: Retraining,
                      champion: tracking.Champion) -> estimate_files.Findings:
    """Off-policy estimates of what the champion's list and each department really hold,
    scored by a model that never saw the outcomes they are judged on."""
    contender = Contender.registered(champion.model, champion.info.tags)

    def refit(as_of: pd.Timestamp) -> Any:
        return train_recipe(prep, contender.model_group, retraining.fitted, as_of).trained.model

    log = read_list_log(*estimates.list_log_paths(prep.out_dir, prep.data_dir))
    found = estimates.champion_estimates(prep.data, contender, log, retraining.backtest, refit,
                                         prep.config)
    return estimate_files.write_findings(found, prep.config.fairness, prep.out_dir)


@stage(timeout="report", io=True, name="write-run-report", cache_policy=NO_CACHE)
def write_run_report(prep: Prepared, retraining: Retraining, listing: ListingReport) -> Path:
    path = catalog.RUN_REPORT.path(prep.out_dir)
    files.write_text(path, run_report(retraining, listing))
    return path


@stage(timeout="mlflow", io=True, name="log-listing", cache_policy=NO_CACHE)
def log_listing(prep: Prepared, retraining: Retraining, listing: ListingReport,
                report_path: Path) -> None:
    tracking.log_listing(prep.config.mlflow, retraining.run_id, records.listing_records(
        retraining, listing, report_path, prep.out_dir, prep.config))

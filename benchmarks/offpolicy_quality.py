"""Off-policy estimates against the truth over a family of demo worlds (`make bench-offpolicy`).

Not part of `make test`. For every world (scenario x seed) it does what a run does at the world's
end (planning date = the day after its last record): reads the lists the world published
(scenario `vigia_lists`), picks the evaluation date as `vigia run` does, trains a model for that
date (labels known before it) plain and weighted by inverse inspection propensities, and writes:

- the off-policy precision of the plain model's top `capacity` and the finding rate per
  department (pipelines/estimates.run_estimates) next to their true values
  (evaluation/offpolicy_truth.py), and whether each 90% interval holds the truth;
- plain vs weighted training: precision at capacity and at 1% against who really was in forced
  labour during the label window.

Capacity is the configured total scaled to the world's size (850 at 50,000 workplaces). Results:
benchmarks/results/offpolicy.md and .json.

    .venv/bin/python -m benchmarks.offpolicy_quality [--scenarios a b] [--seeds 1 2]
        [--workplaces N] [--model-group G]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.model_quality import RESULTS, world_folder
from cleaning.contract import load_districts
from cleaning.quality import validate_inputs
from evaluation.offpolicy_truth import true_values
from evaluation.truth import forced_labour_active, load_truth, truth_dir
from evaluation.truth_eval import truth_precision_at_k
from features.catalog import FEATURE_CATALOG
from features.splits import label_horizon_months, production_train_as_of_dates
from features.training_set import (
    PlanningData,
    build_training_set,
    newest_record_date,
    oldest_record_date,
    tables_known_before,
)
from models.metrics import k_for_top_percent, top_k_ids
from models.offpolicy.estimates import (
    EvaluationRows,
    evaluation_date,
    evaluation_frame,
    run_estimates,
)
from models.offpolicy.estimators import METHODS
from models.offpolicy.list_log import read_list_log
from models.offpolicy.propensity import fit_propensity, training_weights
from models.training.backtest import train_model
from models.training.candidates import build_grid
from models.training.planning import score
from reporting.markdown import markdown_table
from settings import catalog
from settings.loader import load_config, with_overrides
from settings.schema import VigiaConfig

log = logging.getLogger("offpolicy_quality")
REFERENCE_WORKPLACES = 50_000


def trained_pair(tables: dict[str, pd.DataFrame], districts: pd.DataFrame, as_of: pd.Timestamp,
                 group: str, config: VigiaConfig) -> tuple[Any, Any]:
    """The model group trained for `as_of`, plain and weighted by 1 / P(inspected)."""
    span = config.labels.label_timespan_months
    dates = production_train_as_of_dates(config.splits, as_of, oldest_record_date(tables),
                                         span)
    X, y, meta = build_training_set(
        tables, districts, dates, span, known_before=as_of, label_kind=config.labels.kind,
        min_indicators=config.labels.min_indicators,
        area_prior_strength=config.features.area_prior_strength)
    estimator = build_grid(config.model, X.dtypes, FEATURE_CATALOG)[group]
    calibration, recency = config.model.calibration, config.model.recency_half_life_months
    propensity = fit_propensity(tables_known_before(tables, as_of), districts, as_of,
                                config.training())
    weights = training_weights(propensity, X, config.offpolicy)
    return (train_model(estimator, X, y, meta["as_of"], calibration, recency).model,
            train_model(estimator, X, y, meta["as_of"], calibration, recency,
                        sample_weight=weights).model)


def evaluate_world(scenario: str, seed: int, workplaces: int, group: str,
                   config: VigiaConfig) -> dict[str, Any]:
    """Estimates, true values and plain-vs-weighted figures of one world."""
    started = time.perf_counter()
    folder = world_folder(scenario, seed, workplaces)
    clean = validate_inputs(folder, config, date.today())[0].clean
    planning = (newest_record_date(clean) + pd.Timedelta(days=1)).normalize()
    tables, districts = tables_known_before(clean, planning), load_districts()
    span = config.labels.label_timespan_months
    months = label_horizon_months(config.splits, span)
    list_log = read_list_log(catalog.LIST_LOG.path(folder))
    fallback = (planning - pd.DateOffset(months=months)).to_period("M").to_timestamp()
    as_of = evaluation_date(list_log, planning, config, fallback)
    capacity = round(config.lists.total_capacity * workplaces / REFERENCE_WORKPLACES)
    plain, weighted = trained_pair(tables, districts, as_of, group, config)
    X, labels = evaluation_frame(PlanningData(tables, districts, planning), as_of, config)
    rows = EvaluationRows(as_of, X, score(plain, X), labels,
                          f"{group} trained with labels known before {as_of.date()}")
    truth = load_truth(truth_dir(folder))
    department = clean["workplaces"].set_index("workplace_id")["ubigeo"].astype(str).str[:2]
    true = true_values(truth, as_of, span, pd.Index(top_k_ids(rows.scores, capacity)),
                       department.reindex(rows.scores.index))
    active = forced_labour_active(truth, as_of, span)
    weighted_scores = pd.Series(weighted.predict_proba(rows.features)[:, 1],
                                index=rows.scores.index)
    k_1pct = k_for_top_percent(len(rows.scores), 1)
    name = f"{scenario}-{seed}"
    estimates, departments = [], []
    propensity = fit_propensity(tables, districts, planning, config.training())
    for method in METHODS:
        figures = run_estimates(tables, districts, rows, planning, list_log, capacity,
                                with_overrides(config, {"offpolicy": {"method": method}}),
                                propensity)
        p = figures["list_precision"]
        by_department = department_rows(figures, true, name).assign(method=method)
        departments.append(by_department)
        estimates.append({
            "world": name, "method": method, "as_of": str(as_of.date()), "capacity": capacity,
            "estimate": p["estimate"], "low": p["low"], "high": p["high"],
            "true": true["list_precision"],
            "covered": bool(p["low"] <= true["list_precision"] <= p["high"]),
            "labelled_only": p["labelled_only_precision"], "inspected_in_list": p["n_observed"],
            "department_coverage": float(by_department["covered"].mean()),
            "department_mean_error": float((by_department["estimate"]
                                            - by_department["true"]).mean()),
            "department_mean_abs_error": float((by_department["estimate"]
                                                - by_department["true"]).abs().mean()),
        })
    return {"estimates": estimates, "departments": pd.concat(departments, ignore_index=True),
            "world": {
                "world": name, "as_of": str(as_of.date()),
                "logged_lists": int(list_log["planning_date"].nunique()) if len(list_log) else 0,
                "detection": true["rates"].detection,
                "true_list_active_share": true["list_active_share"],
                "plain_truth_at_capacity": truth_precision_at_k(active, rows.scores, capacity),
                "weighted_truth_at_capacity": truth_precision_at_k(active, weighted_scores,
                                                                   capacity),
                "plain_truth_at_1pct": truth_precision_at_k(active, rows.scores, k_1pct),
                "weighted_truth_at_1pct": truth_precision_at_k(active, weighted_scores, k_1pct),
                "seconds": round(time.perf_counter() - started, 1)}}


def department_rows(estimates: dict[str, Any], true: dict[str, Any], world: str) -> pd.DataFrame:
    """Per department: estimate, interval, true finding rate, covered."""
    frame = pd.DataFrame.from_dict(estimates["prevalence_by_department"], orient="index")
    frame["true"] = pd.Series(true["prevalence_by_department"]).reindex(frame.index)
    frame["covered"] = (frame["low"] <= frame["true"]) & (frame["true"] <= frame["high"])
    return frame.rename_axis("department").reset_index().assign(world=world)


def write_results(worlds: pd.DataFrame, estimates: pd.DataFrame, departments: pd.DataFrame,
                  args: argparse.Namespace, config: VigiaConfig) -> Path:
    """Markdown and JSON under benchmarks/results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    by_method = estimates.groupby("method").agg(
        worlds=("world", "size"), list_precision_coverage=("covered", "mean"),
        list_precision_mean_error=("estimate", lambda e: float(
            (e - estimates.loc[e.index, "true"]).mean())),
        labelled_only_mean_error=("labelled_only", lambda e: float(
            (e - estimates.loc[e.index, "true"]).mean())),
        mean_interval_width=("high", lambda h: float(
            (h - estimates.loc[h.index, "low"]).mean())))
    by_method["department_interval_coverage"] = departments.groupby("method")["covered"].mean()
    by_method["department_mean_error"] = (departments["estimate"] - departments["true"]).groupby(
        departments["method"]).mean()
    by_method["department_intervals"] = departments.groupby("method").size()
    training = worlds[["plain_truth_at_capacity", "weighted_truth_at_capacity",
                       "plain_truth_at_1pct", "weighted_truth_at_1pct"]].mean()
    command = ("make bench-offpolicy ARGS=\"" + " ".join(
        [f"--scenarios {' '.join(args.scenarios)}", f"--seeds {' '.join(map(str, args.seeds))}",
         f"--workplaces {args.workplaces}"]) + "\"")
    text = ["# Off-policy estimates against the truth", "",
            f"Command: `{command}` (model group `{args.model_group}`, "
            f"{config.offpolicy.confidence:.0%} intervals). True values: "
            "evaluation/offpolicy_truth.py (the share of a set in forced labour during the label "
            "window times the window's detection rate, plus false conclusions).", "",
            "## Estimators (list precision at capacity and finding rate per department)", "",
            markdown_table(by_method.reset_index(), digits=4), "",
            "## Plain vs weighted training (precision against the truth, mean over worlds)", "",
            markdown_table(training.rename("mean").reset_index()), "",
            "## Per world", "", markdown_table(worlds), "",
            "## List precision per world and method", "", markdown_table(estimates, digits=4), ""]
    path = RESULTS / "offpolicy.md"
    path.write_text("\n".join(text), encoding="utf-8")
    (RESULTS / "offpolicy.json").write_text(json.dumps({
        "command": command, "estimators": by_method.reset_index().to_dict(orient="records"),
        "training": training.to_dict(), "worlds": worlds.to_dict(orient="records"),
        "estimates": estimates.to_dict(orient="records")}, indent=2, default=float),
        encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+",
                        default=["vigia_lists", "baseline", "concentrated_planning"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--workplaces", type=int, default=5_000)
    parser.add_argument("--model-group", default="logistic_regression:C=0.5")
    parser.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("models", "features", "pipelines"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    config = load_config(args.config)
    worlds, estimates, departments = [], [], []
    for scenario in args.scenarios:
        for seed in args.seeds:
            result = evaluate_world(scenario, seed, args.workplaces, args.model_group, config)
            worlds.append(result["world"])
            estimates += result["estimates"]
            departments.append(result["departments"])
            log.info("%s", result["world"])
    path = write_results(pd.DataFrame(worlds), pd.DataFrame(estimates),
                         pd.concat(departments, ignore_index=True), args, config)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

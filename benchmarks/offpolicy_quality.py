"""Pooled off-policy estimates against the truth over demo worlds (`make bench-offpolicy`).

Not part of `make test`. For every world (scenario x seed x size) it does what `vigia run`'s
estimate step does at the world's end (planning date = the day after its last record): reads the
lists the world published (scenario `vigia_lists`), picks the periods to pool
(`models.offpolicy.estimates.pooled_dates`: logged lists and backtest test windows whose outcomes
are known, label windows not overlapping), runs a reduced backtest of one model group over those
windows for out-of-sample scores per period (`period_rows`, as for a champion trained at the
planning date), and pools the estimates (`run_estimates`, every method). It compares:

- the pooled list precision and its new-target part with their true values
  (evaluation/offpolicy_truth.py `pooled_true_rate`: each period's list's true rate, weighted as
  the pooled estimate weighs its rows) and with the newest period's true list precision;
- whether each 90% interval holds the truth, its width, and the share of worlds where the
  evidence rule (config `offpolicy.max_interval_width`) says "evidencia insuficiente";
- the finding rate per department, pooled the same way.

Capacity is the configured total scaled to the world's size (850 at 50,000 workplaces). Results:
benchmarks/results/offpolicy.md and .json.

    .venv/bin/python -m benchmarks.offpolicy_quality [--scenarios a b] [--seeds 1 2]
        [--workplaces N ...] [--large-scenarios a b] [--model-group G]
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
from evaluation.offpolicy_truth import estimates_against_truth, pooled_true_rate
from evaluation.truth import load_truth, truth_dir
from features.catalog import FEATURE_CATALOG
from features.labels import known_cases
from features.splits import fit_split_plan, production_train_as_of_dates
from features.training_set import (
    FeatureMemo,
    PlanningData,
    build_training_set,
    newest_record_date,
    oldest_record_date,
    tables_known_before,
)
from models.metrics import top_k_ids
from models.offpolicy.estimates import (
    list_parts,
    period_rows,
    period_terms,
    pooled_dates,
    run_estimates,
)
from models.offpolicy.estimators import HORVITZ_THOMPSON, METHODS
from models.offpolicy.list_log import read_list_log
from models.offpolicy.propensity import fit_propensity
from models.targeting.lists import CASE_PARTS, NEW
from models.training.backtest import run_backtest, train_model
from models.training.baselines import is_baseline
from models.training.candidates import build_grid
from models.training.planning import Contender
from reporting.markdown import markdown_table
from settings import catalog
from settings.loader import load_config, with_overrides
from settings.schema import VigiaConfig

log = logging.getLogger("offpolicy_quality")
REFERENCE_WORKPLACES = 50_000


def trained(tables: dict[str, pd.DataFrame], districts: pd.DataFrame, as_of: pd.Timestamp,
            group: str, config: VigiaConfig) -> Any:
    """The model group trained for `as_of` with labels known before it (a logged date the
    reduced backtest did not hold)."""
    span = config.labels.label_timespan_months
    dates = production_train_as_of_dates(config.splits, as_of, oldest_record_date(tables),
                                         span)
    X, y, meta = build_training_set(
        FeatureMemo(tables, districts), dates, span, known_before=as_of,
        label_kind=config.labels.kind,
        min_indicators=config.labels.min_indicators,
        area_prior_strength=config.features.area_prior_strength)
    estimator = build_grid(config.model, X.dtypes, FEATURE_CATALOG)[group]
    return train_model(estimator, X, y, meta, config.model, baseline=is_baseline(group)).model


def pooled_periods(data: PlanningData, log: pd.DataFrame, capacity: int, group: str,
                   config: VigiaConfig) -> list:
    """The pooled periods' out-of-sample rows, as the pipeline's estimate step makes them (a
    champion trained at the planning date; the backtest reduced to `group` and the periods)."""
    tables, districts, planning = data.tables, data.districts, data.planning_date
    span = config.labels.label_timespan_months
    fitted = fit_split_plan(config.splits, oldest_record_date(tables),
                            planning - pd.Timedelta(days=1), span)
    dates = pooled_dates(log, planning, config, [s.test_as_of for s in fitted.splits])
    backtest = run_backtest(
        tables, districts, [s for s in fitted.splits if s.test_as_of in dates],
        lambda dtypes: {group: build_grid(config.model, dtypes, FEATURE_CATALOG)[group]},
        config.training(), capacity, config.promotion.metric)
    champion = Contender(None, planning, group)
    return [period_rows(data, as_of, champion, backtest,
                        lambda t: trained(tables, districts, t, group, config), config)
            for as_of in dates]


def true_targets(tables: dict[str, pd.DataFrame], periods: list, capacity: int,
                 config: VigiaConfig) -> dict[str, dict[str, pd.Index]]:
    """Per period (as-of date), the workplaces of its list and of the list's new targets."""
    lists, new = {}, {}
    for rows in periods:
        cases = known_cases(tables["inspections"], rows.as_of, config.labels.kind,
                            config.labels.min_indicators)
        parts = list_parts(rows.scores, capacity, cases)
        lists[rows.as_of] = pd.Index(top_k_ids(rows.scores, capacity))
        new[rows.as_of] = parts.index[parts == CASE_PARTS[NEW]]
    return {"list": lists, "new": new}


def evaluate_world(scenario: str, seed: int, workplaces: int, group: str,
                   config: VigiaConfig) -> dict[str, Any]:
    """Pooled estimates and their true values of one world."""
    started = time.perf_counter()
    folder = world_folder(scenario, seed, workplaces)
    clean = validate_inputs(folder, config, date.today())[0].clean
    planning = (newest_record_date(clean) + pd.Timedelta(days=1)).normalize()
    data = PlanningData(tables_known_before(clean, planning), load_districts(), planning)
    list_log = read_list_log(catalog.LIST_LOG.path(folder))
    capacity = round(config.lists.total_capacity * workplaces / REFERENCE_WORKPLACES)
    periods = pooled_periods(data, list_log, capacity, group, config)
    span = config.labels.label_timespan_months
    truth = load_truth(truth_dir(folder))
    targets = true_targets(data.tables, periods, capacity, config)
    true = {"list": pooled_true_rate(truth, targets["list"], span),
            "new": pooled_true_rate(truth, targets["new"], span),
            "newest": pooled_true_rate(truth, {periods[0].as_of: targets["list"][
                periods[0].as_of]}, span)}
    propensity = fit_propensity(data.tables, data.districts, planning, config.training())
    terms = [period_terms(data.tables, rows, list_log, propensity, capacity, config)
             for rows in periods]  # the same for every method
    name = f"{scenario}-{seed}-{workplaces}"
    estimates, departments, per_period = [], [], []
    for method in METHODS:
        figures = run_estimates(data.tables, terms, planning, list_log, propensity, capacity,
                                with_overrides(config, {"offpolicy": {"method": method}}))
        estimates.append(estimate_row(figures, true, name, workplaces) | {"method": method})
        departments.append(estimates_against_truth(truth, figures).assign(
            world=name, method=method))
        if method == HORVITZ_THOMPSON:
            per_period = period_rows_against_truth(figures, truth, targets["list"], span, name)
    return {"estimates": estimates, "departments": pd.concat(departments, ignore_index=True),
            "periods": per_period,
            "world": {"world": name, "workplaces": workplaces, "capacity": capacity,
                      "pooled_as_of": ";".join(str(r.as_of.date()) for r in periods),
                      "logged_lists": int(list_log["planning_date"].nunique())
                      if len(list_log) else 0,
                      "seconds": round(time.perf_counter() - started, 1)}}


def estimate_row(figures: dict[str, Any], true: dict[str, float], world: str,
                 workplaces: int) -> dict[str, Any]:
    """One world's pooled list precision and new-target precision next to the truth."""
    p = figures["list_precision"]
    new = figures["list_precision_by_case"].get(CASE_PARTS[NEW])
    row = {"world": world, "workplaces": workplaces, "periods": p["periods"],
           "estimate": p["estimate"], "low": p["low"], "high": p["high"], "true": true["list"],
           "covered": bool(p["low"] <= true["list"] <= p["high"]),
           "covered_newest": bool(p["low"] <= true["newest"] <= p["high"]),
           "true_newest": true["newest"], "width": p["interval_width"],
           "insufficient": p["evidence"] == "insufficient", "visits_needed": p["visits_needed"],
           "ess": p["effective_sample_size"], "inspected": p["n_observed"],
           "positives": p["n_positive"], "labelled_only": p["labelled_only_precision"]}
    if new is not None:
        row |= {"new_estimate": new["estimate"], "new_low": new["low"], "new_high": new["high"],
                "new_true": true["new"], "new_covered": bool(new["low"] <= true["new"]
                                                             <= new["high"]),
                "new_width": new["interval_width"],
                "new_insufficient": new["evidence"] == "insufficient", "new_ess":
                new["effective_sample_size"]}
    return row


def period_rows_against_truth(figures: dict[str, Any], truth: Any,
                              lists: dict[pd.Timestamp, pd.Index], span: int,
                              world: str) -> list[dict[str, Any]]:
    """Each pooled period's own estimate (Horvitz-Thompson) next to its list's true precision."""
    rows = []
    for period in figures["periods"]:
        as_of = pd.Timestamp(period["as_of"])
        p, true = period["list_precision"], pooled_true_rate(truth, {as_of: lists[as_of]}, span)
        rows.append({"world": world, "as_of": period["as_of"], "estimate": p["estimate"],
                     "low": p["low"], "high": p["high"], "true": true,
                     "covered": bool(p["low"] <= true <= p["high"]),
                     "ess": p["effective_sample_size"], "inspected": p["n_observed"]})
    return rows


def summary(estimates: pd.DataFrame, departments: pd.DataFrame) -> pd.DataFrame:
    """Per method and size: coverage, mean width, share insufficient; new targets alone;
    department intervals."""
    keys = ["method", "workplaces"]
    table = estimates.groupby(keys).agg(
        worlds=("world", "size"), coverage=("covered", "mean"),
        coverage_of_newest=("covered_newest", "mean"), mean_width=("width", "mean"),
        insufficient_share=("insufficient", "mean"),
        mean_error=("estimate", lambda e: float((e - estimates.loc[e.index, "true"]).mean())),
        mean_ess=("ess", "mean"), new_coverage=("new_covered", "mean"),
        new_mean_width=("new_width", "mean"), new_insufficient_share=("new_insufficient", "mean"))
    sized = departments.merge(estimates[["world", "workplaces"]].drop_duplicates(), on="world")
    table["department_coverage"] = sized.groupby(keys)["covered"].mean()
    return table.reset_index()


def write_results(worlds: pd.DataFrame, estimates: pd.DataFrame, departments: pd.DataFrame,
                  periods: pd.DataFrame, command: str, config: VigiaConfig) -> Path:
    """Markdown and JSON under benchmarks/results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = summary(estimates, departments)
    text = ["# Pooled off-policy estimates against the truth", "",
            f"Command: `{command}` ({config.offpolicy.confidence:.0%} intervals, evidence rule: "
            f"width at most {config.offpolicy.max_interval_width}). True values: "
            "evaluation/offpolicy_truth.py (each pooled period's list: the share in forced labour "
            "during the label window times the window's detection rate, plus false conclusions; "
            "weighted as the pooled estimate weighs its rows). `coverage_of_newest`: the pooled "
            "interval against the newest period's list alone.", "",
            "## Summary per method and world size", "", markdown_table(table, digits=3), "",
            "## Worlds", "", markdown_table(worlds), "",
            "## Pooled list precision per world and method", "",
            markdown_table(estimates, digits=3), "",
            "## Each pooled period's own estimate (Horvitz-Thompson)", "",
            markdown_table(periods, digits=3), ""]
    path = RESULTS / "offpolicy.md"
    path.write_text("\n".join(text), encoding="utf-8")
    (RESULTS / "offpolicy.json").write_text(json.dumps({
        "command": command, "summary": table.to_dict(orient="records"),
        "worlds": worlds.to_dict(orient="records"),
        "estimates": estimates.to_dict(orient="records"),
        "periods": periods.to_dict(orient="records")}, indent=2, default=float),
        encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=[
        "vigia_lists", "baseline", "concentrated_planning", "poor_detection"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--workplaces", nargs="+", type=int, default=[20_000, 50_000])
    parser.add_argument("--large-scenarios", nargs="+", default=["vigia_lists", "baseline"],
                        help="the scenarios run at sizes beyond the first")
    parser.add_argument("--model-group", default="logistic_regression:C=0.5")
    parser.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("models", "features", "pipelines"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    config = load_config(args.config)
    worlds, estimates, departments, periods = [], [], [], []
    for index, workplaces in enumerate(args.workplaces):
        for scenario in args.scenarios if index == 0 else args.large_scenarios:
            for seed in args.seeds:
                result = evaluate_world(scenario, seed, workplaces, args.model_group, config)
                worlds.append(result["world"])
                estimates += result["estimates"]
                periods += result["periods"]
                departments.append(result["departments"])
                log.info("%s", result["world"])
    command = ("make bench-offpolicy ARGS=\"" + " ".join([
        f"--scenarios {' '.join(args.scenarios)}", f"--seeds {' '.join(map(str, args.seeds))}",
        f"--workplaces {' '.join(map(str, args.workplaces))}",
        f"--large-scenarios {' '.join(args.large_scenarios)}"]) + "\"")
    path = write_results(pd.DataFrame(worlds), pd.DataFrame(estimates),
                         pd.concat(departments, ignore_index=True), pd.DataFrame(periods),
                         command, config)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

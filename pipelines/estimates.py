"""What the lists really find: off-policy estimates of a run, written to `estimates.json`.

At an evaluation date t whose label window and outcome lag have passed before the planning date
(the newest logged list's date when one qualifies, else the newest backtest test window):

- `list_precision`: the precision the champion's top `capacity` workplaces at t would have if all
  of them were visited (models/offpolicy.py, method from config `offpolicy.method`), from every
  inspected workplace's outcome weighted by 1 / P(inspected);
- `prevalence_by_department`: the same estimate of the finding rate over every workplace of each
  department (INEI department code).

P(inspected) combines the logged selection probability of units drawn on a list whose period
holds t with the propensity model's chance of an inspection by any other route
(models/list_log.logged_propensity); the doubly robust estimate uses the champion's score as the
outcome model. The labelled-only precision (what the backtest reports) is kept beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from features.labels import build_labels
from features.training_set import build_scoring_set
from models.list_log import exploration_summary, link_outcomes, logged_propensity
from models.metrics import precision_at_k
from models.offpolicy import estimate_by_group, list_precision
from models.propensity import fit_propensity
from pipelines.markdown import markdown_table

ESTIMATES_FILE = "estimates.json"
LIST_LOG_FILE = "list_log.parquet"


def list_log_paths(out_dir: Path, data_dir: Path) -> list[Path]:
    """The run's own log under the output root, and one shipped with the data (a demo world's)."""
    return [Path(data_dir) / LIST_LOG_FILE, Path(out_dir) / LIST_LOG_FILE]


def evaluation_date(log: pd.DataFrame, planning_date: pd.Timestamp, config: dict,
                    fallback: pd.Timestamp) -> pd.Timestamp:
    """The newest logged list date whose label window and outcome lag end by the planning date,
    else `fallback` (the newest backtest test window)."""
    months = int(config["labels"]["label_timespan_months"]) + int(
        config["splits"]["outcome_lag_months"])
    latest = pd.Timestamp(planning_date) - pd.DateOffset(months=months)
    dates = pd.to_datetime(log["planning_date"]) if len(log) else pd.Series(dtype="datetime64[ns]")
    usable = dates[dates <= latest]
    return pd.Timestamp(usable.max()) if len(usable) else pd.Timestamp(fallback)


def run_estimates(tables: dict[str, pd.DataFrame], districts: pd.DataFrame, model: Any,
                  planning_date: pd.Timestamp, log: pd.DataFrame, fallback_as_of: pd.Timestamp,
                  capacity: int, config: dict) -> dict[str, Any]:
    """The figures of `estimates.json` (module docstring)."""
    settings, labels_cfg = config["offpolicy"], config["labels"]
    as_of = evaluation_date(log, planning_date, config, fallback_as_of)
    X, meta = build_scoring_set(tables, districts, as_of,
                                float(config["features"]["area_prior_strength"]))
    ids = pd.Index(meta["workplace_id"].astype(str), name="workplace_id")
    X.index = ids
    scores = pd.Series(model.predict_proba(X)[:, 1], index=ids)
    labels = build_labels(tables, as_of, int(labels_cfg["label_timespan_months"]),
                          kind=labels_cfg["kind"], known_before=planning_date,
                          min_indicators=int(labels_cfg.get("min_indicators", 2))).reindex(ids)
    propensity_model = fit_propensity(tables, districts, planning_date, config)
    propensity = logged_propensity(ids, propensity_model.predict(X), log, as_of)
    options = {"method": settings["method"], "min_propensity": float(settings["min_propensity"]),
               "confidence": float(settings["confidence"]),
               "n_resamples": int(settings["bootstrap_resamples"]),
               "seed": int(config["model"]["seed"])}
    observed = labels.notna()
    precision = list_precision(scores, capacity, observed, labels, propensity, scores, **options)
    department = tables["workplaces"].set_index("workplace_id")["ubigeo"].astype(str).str[:2]
    prevalence = estimate_by_group(department.reindex(ids), observed, labels, propensity, scores,
                                   **options)
    linked = link_outcomes(log, tables["inspections"], planning_date, labels_cfg["kind"],
                           int(labels_cfg.get("min_indicators", 2)))
    return {
        "as_of": str(as_of.date()),
        "label_window_months": int(labels_cfg["label_timespan_months"]),
        "list_precision": {**precision.as_dict(), "k": int(capacity),
                           "labelled_only_precision": precision_at_k(labels, scores, capacity)},
        "prevalence_by_department": {k: v.as_dict() for k, v in prevalence.items()},
        "propensity_model": {"summary": propensity_model.summary(),
                             "brier": propensity_model.brier,
                             "mean_predicted": propensity_model.mean_predicted,
                             "mean_observed": propensity_model.mean_observed,
                             "calibration": propensity_model.calibration.to_dict("records")},
        "list_log": {"rows": len(log), "lists": int(log["planning_date"].nunique()),
                     "by_list": exploration_summary(linked).to_dict("records")
                     if len(linked) else []},
    }


def write_estimates(estimates: dict[str, Any], out_dir: Path) -> Path:
    """`estimates.json` in the run's output folder."""
    path = Path(out_dir) / ESTIMATES_FILE
    path.write_text(json.dumps(estimates, indent=2, default=str), encoding="utf-8")
    return path


def estimates_section(estimates: dict[str, Any]) -> str:
    """The run report's section on what the lists really find."""
    p = estimates["list_precision"]
    departments = pd.DataFrame.from_dict(estimates["prevalence_by_department"], orient="index")
    departments = departments[["estimate", "low", "high", "n_target", "n_observed"]]
    text = [
        f"Evaluation date {estimates['as_of']} ({estimates['label_window_months']}-month label "
        f"window). Precision of the champion's top {p['k']} if every one were visited: "
        f"{p['estimate']:.3f} [{p['low']:.3f}, {p['high']:.3f}] ({p['method']}, "
        f"{p['confidence']:.0%} bootstrap interval, {p['n_observed']} of {p['n_target']} "
        f"inspected); labelled rows only: {p['labelled_only_precision']:.3f}.",
        f"Propensity: {estimates['propensity_model']['summary']}.",
        f"List log: {estimates['list_log']['rows']} rows from "
        f"{estimates['list_log']['lists']} list(s).",
    ]
    if estimates["list_log"]["by_list"]:
        text.append(markdown_table(pd.DataFrame(estimates["list_log"]["by_list"]), digits=3))
    text += ["Finding rate per department over all its workplaces (off-policy estimate):",
             markdown_table(departments.rename_axis("department").reset_index(), digits=4)]
    return "\n\n".join(text)

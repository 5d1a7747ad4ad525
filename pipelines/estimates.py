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
(models/list_log.logged_propensity), times the window's share of visits whose outcome was known
by the planning date (outcomes assumed to close independently of what they find). The doubly
robust estimate's outcome model is the champion's score mapped to rates on the inspected rows
(models/offpolicy.recalibrated_predictions). The labelled-only precision (what the backtest
reports) is kept beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.labels import build_labels
from features.training_set import build_scoring_set
from models.fairness import audit_groups, audit_table
from models.list_log import exploration_summary, link_outcomes, logged_propensity
from models.metrics import precision_at_k
from models.offpolicy import (
    estimate_by_group,
    estimator_options,
    list_precision,
    recalibrated_predictions,
    top_k_mask,
)
from models.propensity import PropensityModel, fit_propensity, inspected_in_window
from models.targeting import office_of
from reporting import catalog
from reporting.markdown import markdown_table
from reporting.plots import plot_audit
from settings.schema import FairnessConfig, VigiaConfig


def list_log_paths(out_dir: Path, data_dir: Path) -> list[Path]:
    """The run's own log under the output root, and one shipped with the data (a demo world's)."""
    return [catalog.LIST_LOG.path(data_dir), catalog.LIST_LOG.path(out_dir)]


def evaluation_date(log: pd.DataFrame, planning_date: pd.Timestamp, config: VigiaConfig,
                    fallback: pd.Timestamp) -> pd.Timestamp:
    """The newest logged list date whose label window and outcome lag end by the planning date,
    else `fallback` (the newest backtest test window)."""
    months = config.labels.label_timespan_months + config.splits.outcome_lag_months
    latest = pd.Timestamp(planning_date) - pd.DateOffset(months=months)
    dates = pd.to_datetime(log["planning_date"]) if len(log) else pd.Series(dtype="datetime64[ns]")
    usable = dates[dates <= latest]
    return pd.Timestamp(usable.max()) if len(usable) else pd.Timestamp(fallback)


@dataclass
class EvaluationRows:
    """Every workplace at the evaluation date: features, the champion's scores, labels."""

    as_of: pd.Timestamp
    features: pd.DataFrame  # index workplace_id
    scores: pd.Series
    labels: pd.Series  # 1.0 / 0.0 / NaN (not inspected, or outcome unknown at planning date)


def evaluation_rows(tables: dict[str, pd.DataFrame], districts: pd.DataFrame, model: Any,
                    planning_date: pd.Timestamp, as_of: pd.Timestamp,
                    config: VigiaConfig) -> EvaluationRows:
    """The champion's scores at `as_of` and the labels known before the planning date."""
    labels_cfg = config.labels
    X, meta = build_scoring_set(tables, districts, as_of, config.features.area_prior_strength)
    ids = pd.Index(meta["workplace_id"].astype(str), name="workplace_id")
    X.index = ids
    labels = build_labels(tables, as_of, labels_cfg.label_timespan_months,
                          kind=labels_cfg.kind, known_before=planning_date,
                          min_indicators=labels_cfg.min_indicators)
    return EvaluationRows(as_of, X, pd.Series(model.predict_proba(X)[:, 1], index=ids),
                          labels.reindex(ids))


def run_estimates(tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                  rows: EvaluationRows, planning_date: pd.Timestamp, log: pd.DataFrame,
                  capacity: int, config: VigiaConfig,
                  propensity_model: PropensityModel | None = None) -> dict[str, Any]:
    """The figures of `estimates.json` (module docstring); the propensity model is fitted here
    unless given (one fitted with `known_before=planning_date`)."""
    settings, labels_cfg = config.offpolicy, config.labels
    as_of, X, scores, labels = rows.as_of, rows.features, rows.scores, rows.labels
    ids = X.index
    if propensity_model is None:
        propensity_model = fit_propensity(tables, districts, planning_date, config.training())
    observed = labels.notna()
    # An outcome is seen when the visit happened AND closed before the planning date: the
    # chance of a visit times the window's share of visits already closed.
    inspected = inspected_in_window(tables["inspections"], ids, as_of,
                                    labels_cfg.label_timespan_months)
    known_share = float(observed.sum() / max(inspected.sum(), 1.0))
    propensity = logged_propensity(ids, propensity_model.predict(X), log, as_of) * known_share
    options = estimator_options(settings, config.model.seed)
    rates = recalibrated_predictions(scores, observed, labels, propensity,
                                     settings.min_propensity)
    precision = list_precision(scores, capacity, observed, labels, propensity, rates, **options)
    department = tables["workplaces"].set_index("workplace_id")["ubigeo"].astype(str).str[:2]
    prevalence = estimate_by_group(department.reindex(ids), observed, labels, propensity, rates,
                                   **options)
    past = log[pd.to_datetime(log["planning_date"]) < planning_date]
    linked = link_outcomes(past, tables["inspections"], planning_date, labels_cfg.kind,
                           labels_cfg.min_indicators)
    return {
        "as_of": str(as_of.date()),
        "label_window_months": labels_cfg.label_timespan_months,
        "known_outcome_share": known_share,
        "list_precision": {**precision.as_dict(), "k": int(capacity),
                           "labelled_only_precision": precision_at_k(labels, scores, capacity)},
        "prevalence_by_department": {k: v.as_dict() for k, v in prevalence.items()},
        "propensity_model": {"summary": propensity_model.summary(),
                             "brier": propensity_model.brier,
                             "mean_predicted": propensity_model.mean_predicted,
                             "mean_observed": propensity_model.mean_observed,
                             "calibration": propensity_model.calibration.to_dict("records")},
        "list_log": {"rows": len(past), "lists": int(past["planning_date"].nunique()),
                     "by_list": exploration_summary(linked).to_dict("records")
                     if len(linked) else []},
    }


def write_estimates(estimates: dict[str, Any], out_dir: Path) -> Path:
    """`estimates.json` in the run's output folder."""
    path = catalog.ESTIMATES.path(out_dir)
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
        f"Propensity: {estimates['propensity_model']['summary']}. Calibration on the check "
        "window (mean predicted vs observed share inspected per bin):",
        markdown_table(pd.DataFrame(estimates["propensity_model"]["calibration"]), digits=4),
        f"List log: {estimates['list_log']['rows']} rows from "
        f"{estimates['list_log']['lists']} list(s).",
    ]
    if estimates["list_log"]["by_list"]:
        text.append(markdown_table(pd.DataFrame(estimates["list_log"]["by_list"]), digits=3))
    text += ["Finding rate per department over all its workplaces (off-policy estimate):",
             markdown_table(departments.rename_axis("department").reset_index(), digits=4)]
    return "\n\n".join(text)


def list_audit(tables: dict[str, pd.DataFrame], rows: EvaluationRows, capacity: int,
               config: VigiaConfig) -> pd.DataFrame:
    """The fairness audit (models/fairness.py) of the champion's top `capacity` at the
    evaluation date, on the rows labelled there."""
    workplaces = tables["workplaces"]
    groups = audit_groups(workplaces, office_of(workplaces.set_index("workplace_id")["ubigeo"]))
    return audit_table(top_k_mask(rows.scores, capacity), rows.labels, groups.reindex(
        rows.scores.index), config.fairness)


def write_audit(audit: pd.DataFrame, settings: FairnessConfig, out_dir: Path) -> Path:
    """`fairness_audit.csv` and its plot (flag band from `settings`) in the run's output
    folder."""
    import matplotlib.pyplot as plt

    path = catalog.FAIRNESS_AUDIT.path(out_dir)
    audit.to_csv(path, index=False)
    figure = plot_audit(audit, (settings.ratio_low, settings.ratio_high))
    figure.savefig(catalog.FAIRNESS_FIGURE.path(out_dir), dpi=110)
    plt.close(figure)
    return path


def audit_section(audit: pd.DataFrame, as_of: str, capacity: int) -> str:
    """The run report's fairness section: flagged groups first, the whole table in the CSV."""
    flagged = audit[audit["flagged"] != ""]
    shown = ["attribute", "group", "n_workplaces", "n_listed", "n_labelled", "n_positive",
             "list_share", "selection_rate_ratio", "precision_ratio", "recall_ratio",
             "few_labelled", "flagged"]
    return "\n\n".join([
        f"The champion's top {capacity} at {as_of}, per office, size band, CIIU division and "
        "natural person vs company (fairlearn MetricFrame); ratios to each attribute's "
        "reference group, flagged outside the band unless the group is small (few_labelled: "
        "precision and recall not judged). "
        f"{len(flagged)} of {len(audit)} groups flagged "
        f"(all rows in `{catalog.FAIRNESS_AUDIT.name}`):",
        markdown_table(flagged[shown], digits=2) if len(flagged) else "None flagged.",
        f"![fairness audit]({catalog.FAIRNESS_FIGURE.name})",
    ])

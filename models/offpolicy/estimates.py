"""What the lists really find: off-policy estimates of a run (reporting/estimates.py writes them).

At an evaluation date t whose label window and outcome lag have passed before the planning date
(the newest logged list's date when one qualifies, else the newest backtest test window), the
workplaces are scored by a model that never saw the outcomes judged there (`out_of_sample`): the
champion when its labels end by t, else the champion's recipe as the backtest fitted it for t,
else that recipe refitted with labels known before t. The figures say which.

- `list_precision`: the precision the champion's top `capacity` workplaces at t would have if all
  of them were visited (models/offpolicy/estimators.py, method from config `offpolicy.method`),
  from every
  inspected workplace's outcome weighted by 1 / P(inspected);
- `list_precision_by_case`: the same estimate for the list's new targets and, apart, its
  workplaces with a finding already documented before t (follow-up, `features.labels.known_cases`);
- `prevalence_by_department`: the same estimate of the finding rate over every workplace of each
  department (INEI department code).

The fairness audit (`list_audit`) is of the lists as they are delivered, rebuilt at t from the
same out-of-sample scores (`delivered_lists`: specialised team, office quotas, seeded
exploration draws, new and follow-up visits), not of the unconstrained national top `capacity`.

P(inspected) combines the logged selection probability of units drawn on a list whose period
holds t with the propensity model's chance of an inspection by any other route
(models/list_log.logged_propensity), times the window's share of visits whose outcome was known
by the planning date (outcomes assumed to close independently of what they find). The doubly
robust estimate's outcome model is the champion's score mapped to rates on the inspected rows
(models/offpolicy.recalibrated_predictions). The labelled-only precision (what the backtest
reports) is kept beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.labels import build_labels, known_cases
from features.splits import label_horizon_months
from features.training_set import PlanningData, build_scoring_set
from models.metrics import precision_at_k
from models.monitoring.fairness import CASE_ATTRIBUTE, audit_groups, audit_table
from models.offpolicy.estimators import (
    estimate_by_group,
    estimator_options,
    list_precision,
    recalibrated_predictions,
    top_k_mask,
)
from models.offpolicy.list_log import exploration_summary, link_outcomes, logged_propensity
from models.offpolicy.propensity import PropensityModel, fit_propensity, inspected_in_window
from models.targeting.lists import (
    CASE_PARTS,
    FOLLOW_UP,
    NEW,
    WorkplaceRegistry,
    build_target_lists,
    listed_workplaces,
    office_of,
    with_case,
)
from models.training.backtest import BacktestResult
from models.training.planning import Contender, score
from settings import catalog
from settings.schema import VigiaConfig


def list_log_paths(out_dir: Path, data_dir: Path) -> list[Path]:
    """The run's own log under the output root, and one shipped with the data (a demo world's)."""
    return [catalog.LIST_LOG.path(data_dir), catalog.LIST_LOG.path(out_dir)]


def evaluation_date(log: pd.DataFrame, planning_date: pd.Timestamp, config: VigiaConfig,
                    fallback: pd.Timestamp) -> pd.Timestamp:
    """The newest logged list date whose label window and outcome lag end by the planning date,
    else `fallback` (the newest backtest test window)."""
    months = label_horizon_months(config.splits, config.labels.label_timespan_months)
    latest = pd.Timestamp(planning_date) - pd.DateOffset(months=months)
    dates = pd.to_datetime(log["planning_date"]) if len(log) else pd.Series(dtype="datetime64[ns]")
    usable = dates[dates <= latest]
    return pd.Timestamp(usable.max()) if len(usable) else pd.Timestamp(fallback)


@dataclass(frozen=True)
class EvaluationRows:
    """Every workplace at the evaluation date: features, out-of-sample scores, labels."""

    as_of: pd.Timestamp
    features: pd.DataFrame  # index workplace_id
    scores: pd.Series
    labels: pd.Series  # 1.0 / 0.0 / NaN (not inspected, or outcome unknown at planning date)
    scored_by: str  # which model scored them, and why it is out of sample


# The champion's recipe trained for a date with labels known before it (the planning model's
# training, run for an earlier date).
RecipeRefit = Callable[[pd.Timestamp], Any]


def out_of_sample(champion: Contender, as_of: pd.Timestamp, features: pd.DataFrame,
                  backtest: BacktestResult, refit: RecipeRefit) -> tuple[pd.Series, str]:
    """Scores at `as_of` from a model whose training labels end by `as_of`, and which model."""
    when = f"{as_of.date()}"
    if champion.label_cutoff <= as_of:
        return score(champion.model, features), (
            f"the champion (its training labels end {champion.label_cutoff.date()}, by {when})")
    trained_on = f"the champion itself trained on outcomes after {when}"
    recipe = backtest.recipe_scores(when, champion.model_group, features.index)
    if recipe is not None:
        return recipe, (f"the champion's recipe {champion.model_group} as the backtest fitted "
                        f"it for {when}, with labels known before it ({trained_on})")
    return score(refit(as_of), features), (
        f"the champion's recipe {champion.model_group} refitted with labels known before "
        f"{when} ({trained_on})")


def evaluation_frame(data: PlanningData, as_of: pd.Timestamp,
                     config: VigiaConfig) -> tuple[pd.DataFrame, pd.Series]:
    """Every workplace's features at `as_of` (index workplace_id) and its label there, as known
    before the planning date."""
    labels_cfg = config.labels
    X, meta = build_scoring_set(data.tables, data.districts, as_of,
                                config.features.area_prior_strength)
    X.index = pd.Index(meta["workplace_id"].astype(str), name="workplace_id")
    labels = build_labels(data.tables, as_of, labels_cfg.label_timespan_months,
                          kind=labels_cfg.kind, known_before=data.planning_date,
                          min_indicators=labels_cfg.min_indicators)
    return X, labels.reindex(X.index)


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
    precision = list_precision(scores, capacity, observed, labels, propensity, rates,
                               options=options)
    cases = known_cases(tables["inspections"], as_of, labels_cfg.kind, labels_cfg.min_indicators)
    by_case = estimate_by_group(list_parts(scores, capacity, cases), observed, labels, propensity,
                                rates, options=options)
    department = tables["workplaces"].set_index("workplace_id")["ubigeo"].astype(str).str[:2]
    prevalence = estimate_by_group(department.reindex(ids), observed, labels, propensity, rates,
                                   options=options)
    past = log[pd.to_datetime(log["planning_date"]) < planning_date]
    linked = link_outcomes(past, tables["inspections"], planning_date, labels_cfg.kind,
                           labels_cfg.min_indicators)
    return {
        "as_of": str(as_of.date()),
        "scored_by": rows.scored_by,
        "label_window_months": labels_cfg.label_timespan_months,
        "known_outcome_share": known_share,
        "list_precision": {**precision.as_dict(), "k": int(capacity),
                           "labelled_only_precision": precision_at_k(labels, scores, capacity)},
        "list_precision_by_case": {k: v.as_dict() for k, v in by_case.items()},
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


def list_parts(scores: pd.Series, capacity: int, cases: pd.Index) -> pd.Series:
    """The list at capacity split into its new targets and its follow-up of documented cases
    (CASE_PARTS prefixes); NaN off the list."""
    part = pd.Series(np.where(scores.index.isin(cases), CASE_PARTS[FOLLOW_UP], CASE_PARTS[NEW]),
                     index=scores.index)
    return part.where(top_k_mask(scores, capacity))


def delivered_lists(data: PlanningData, rows: EvaluationRows, config: VigiaConfig,
                    cases: pd.Index) -> pd.DataFrame:
    """The lists as they would have been delivered at the evaluation date from the out-of-sample
    scores: `build_target_lists` (specialised team, office quotas, seeded exploration draws,
    exclusions on inspections ordered before that date), each visit marked new or follow-up."""
    as_of, inspections = rows.as_of, data.tables["inspections"]
    tables = {**data.tables, "inspections": inspections[inspections["ordered_on"] < as_of]}
    scores = pd.DataFrame({"workplace_id": rows.scores.index, "score": rows.scores.to_numpy()})
    target = build_target_lists(scores.assign(calibrated_probability=scores["score"]),
                                WorkplaceRegistry.from_tables(tables, data.districts),
                                config.lists, as_of, seed=config.model.seed)
    return with_case(target, cases)


def list_audit(tables: dict[str, pd.DataFrame], rows: EvaluationRows, target: pd.DataFrame,
               cases: pd.Index, config: VigiaConfig) -> pd.DataFrame:
    """The fairness audit (models/monitoring/fairness.py) of the lists as delivered (`target`,
    from `delivered_lists`) at the evaluation date, on the rows labelled there; besides office,
    size band, sector and person type, by case (documented finding before that date or not)."""
    ids = rows.scores.index
    return audit_table(listed_workplaces(target, ids), rows.labels,
                       delivery_groups(tables["workplaces"], cases).reindex(ids), config.fairness)


def delivery_groups(workplaces: pd.DataFrame, cases: pd.Index) -> pd.DataFrame:
    """The audit's attributes per workplace (`audit_groups`) and its case part (CASE_ATTRIBUTE):
    seguimiento where a finding was documented before the evaluation date, else nuevo."""
    groups = audit_groups(workplaces, office_of(workplaces.set_index("workplace_id")["ubigeo"]))
    groups[CASE_ATTRIBUTE] = np.where(groups.index.isin(cases), FOLLOW_UP, NEW)
    return groups


@dataclass(frozen=True)
class ChampionEstimates:
    """What the champion's list and each department really hold, and the fairness audit of the
    lists as delivered, at the evaluation date."""

    figures: dict[str, Any]  # the document of estimates.json (`run_estimates`)
    audit: pd.DataFrame  # `list_audit` of the lists as delivered at the evaluation date
    delivered: pd.DataFrame  # those lists (`delivered_lists`)
    capacity: int  # the list's length (config lists.total_capacity)
    rows: EvaluationRows  # what was judged: out-of-sample scores and labels


def champion_estimates(data: PlanningData, champion: Contender, log: pd.DataFrame,
                       backtest: BacktestResult, refit: RecipeRefit,
                       config: VigiaConfig) -> ChampionEstimates:
    """The off-policy estimates and the audit of the champion's list at the evaluation date (the
    newest usable logged list, else the newest backtest test window), scored out of sample."""
    capacity = config.lists.total_capacity
    as_of = evaluation_date(log, data.planning_date, config,
                            pd.Timestamp(backtest.newest_split()))
    X, labels = evaluation_frame(data, as_of, config)
    scores, scored_by = out_of_sample(champion, as_of, X, backtest, refit)
    rows = EvaluationRows(as_of, X, scores, labels, scored_by)
    figures = run_estimates(data.tables, data.districts, rows, data.planning_date, log, capacity,
                            config)
    labels_cfg = config.labels
    cases = known_cases(data.tables["inspections"], as_of, labels_cfg.kind,
                        labels_cfg.min_indicators)
    delivered = delivered_lists(data, rows, config, cases)
    return ChampionEstimates(figures, list_audit(data.tables, rows, delivered, cases, config),
                             delivered, capacity, rows)

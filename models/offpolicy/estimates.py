"""What the lists really find: off-policy estimates of a run (reporting/estimates.py writes them).

The estimates pool every past period whose outcomes are known by the planning date
(`pooled_dates`): each logged list's date and each backtest test window whose label window and
outcome lag end before it, newest first, keeping only periods whose label windows do not overlap
(so that no visit counts twice). In each period t every workplace is scored by a model that never
saw the outcomes judged there (`out_of_sample`): the champion when its labels end by t, else the
champion's recipe as the backtest fitted it for t, else that recipe refitted with labels known
before t; `periods[].scored_by` says which.

The estimand is the precision a top-`capacity` list would have if every one of its workplaces
were visited, assumed stable across the pooled periods: the pooled figure is the mean of the
periods' lists' precisions, and the per-period estimates are kept so that drift shows.

- `list_precision`: pooled over the periods' lists (models/offpolicy/estimators.py, method from
  config `offpolicy.method`), from every inspected workplace's outcome weighted by
  1 / P(inspected); the bootstrap resamples workplaces (all their periods together);
- `list_precision_by_case`: the same for the lists' new targets and, apart, their workplaces with
  a finding documented before each period (follow-up, `features.labels.known_cases`);
- `prevalence_by_department`: the finding rate over every workplace of each department.

Each figure carries its effective sample size and `evidence`: an interval wider than config
`offpolicy.max_interval_width` is "insufficient", with the visits needed (`evidence_of`).

The fairness audit (`list_audit`) is of the lists as they are delivered, rebuilt at the newest
period from its out-of-sample scores (`delivered_lists`: specialised team, office quotas, seeded
exploration draws, new and follow-up visits), not of the unconstrained national top `capacity`.

P(inspected) in a period combines the logged selection probability of units drawn on a list
whose period holds t with the propensity model's chance of an inspection by any other route
(models/list_log.logged_propensity), times the window's share of visits whose outcome was known
by the planning date. One propensity model serves every period: it is fitted on windows ending by
the planning date from facts known at each window's start, and inspection orders are always
known, so fitting it on the periods it weights is ordinary estimated-propensity weighting (no
outcome is learned); a model per period would cost a fit per period for no leakage avoided. The
doubly robust estimate's outcome model is each period's score mapped to rates on its inspected
rows (recalibrated_predictions). The labelled-only precision (what the backtest reports) is kept
beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.labels import build_labels, known_cases
from features.splits import label_horizon_months
from features.training_set import PlanningData, build_scoring_set
from models.monitoring.fairness import CASE_ATTRIBUTE, audit_groups, audit_table
from models.offpolicy.estimators import (
    Estimate,
    EstimatorOptions,
    estimate_by_group,
    estimator_options,
    evidence_of,
    pooled_mean,
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


def pooled_dates(log: pd.DataFrame, planning_date: pd.Timestamp, config: VigiaConfig,
                 candidates: list[pd.Timestamp]) -> list[pd.Timestamp]:
    """The periods to pool, newest first: logged list dates and `candidates` (the backtest's test
    windows) whose label window and outcome lag end by the planning date, each kept only when its
    label window ends by the start of the newer kept one (no visit counted twice); at most
    config `offpolicy.max_pooled_periods`."""
    months = label_horizon_months(config.splits, config.labels.label_timespan_months)
    latest = pd.Timestamp(planning_date) - pd.DateOffset(months=months)
    logged = pd.to_datetime(log["planning_date"]).tolist() if len(log) else []
    kept: list[pd.Timestamp] = []
    for date in sorted({pd.Timestamp(d) for d in logged + list(candidates)}, reverse=True):
        if date <= latest and (not kept or date + pd.DateOffset(
                months=config.labels.label_timespan_months) <= kept[-1]):
            kept.append(date)
    return kept[:config.offpolicy.max_pooled_periods]


@dataclass(frozen=True)
class EvaluationRows:
    """Every workplace at one evaluation date (a pooled period): features, out-of-sample scores,
    labels."""

    as_of: pd.Timestamp
    features: pd.DataFrame  # index workplace_id
    scores: pd.Series
    labels: pd.Series  # 1.0 / 0.0 / NaN (not inspected, or outcome unknown at planning date)
    scored_by: str  # which model scored them, and why it is out of sample

    def without_features(self) -> EvaluationRows:
        """The same rows keeping only the features' index: nothing reads the features after
        `period_terms`, and they are every workplace's (0.5 GB a period at 500,000)."""
        return replace(self, features=self.features.iloc[:, :0])


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


def period_rows(data: PlanningData, as_of: pd.Timestamp, champion: Contender,
                backtest: BacktestResult, refit: RecipeRefit,
                config: VigiaConfig) -> EvaluationRows:
    """One pooled period's workplaces, scored out of sample (`out_of_sample`)."""
    X, labels = evaluation_frame(data, as_of, config)
    scores, scored_by = out_of_sample(champion, as_of, X, backtest, refit)
    return EvaluationRows(as_of, X, scores, labels, scored_by)


@dataclass(frozen=True)
class PeriodTerms:
    """One period's weighted observations, one row per workplace (index workplace_id):
    observed, outcome, propensity, prediction, listed (in the top `capacity`), part (new /
    follow-up, NaN off the list), department."""

    rows: EvaluationRows
    frame: pd.DataFrame
    known_share: float  # share of the window's visits whose outcome was known by planning


def period_terms(tables: dict[str, pd.DataFrame], rows: EvaluationRows, log: pd.DataFrame,
                 propensity_model: PropensityModel, capacity: int,
                 config: VigiaConfig) -> PeriodTerms:
    """The weighted observations of one period (P(inspected): module docstring)."""
    labels_cfg, as_of, ids = config.labels, rows.as_of, rows.features.index
    observed = rows.labels.notna()
    # An outcome is seen when the visit happened AND closed before the planning date: the
    # chance of a visit times the window's share of visits already closed.
    inspected = inspected_in_window(tables["inspections"], ids, as_of,
                                    labels_cfg.label_timespan_months)
    known_share = float(observed.sum() / max(inspected.sum(), 1.0))
    propensity = logged_propensity(ids, propensity_model.predict(rows.features), log,
                                   as_of) * known_share
    cases = known_cases(tables["inspections"], as_of, labels_cfg.kind, labels_cfg.min_indicators)
    department = tables["workplaces"].drop_duplicates("workplace_id").set_index(
        "workplace_id")["ubigeo"].astype(str).str[:2]
    frame = pd.DataFrame({
        "observed": observed, "outcome": rows.labels, "propensity": propensity,
        "prediction": recalibrated_predictions(rows.scores, observed, rows.labels, propensity,
                                               config.offpolicy.min_propensity),
        "listed": top_k_mask(rows.scores, capacity),
        "part": list_parts(rows.scores, capacity, cases), "department": department.reindex(ids)})
    return PeriodTerms(rows.without_features(), frame, known_share)


def with_evidence(estimate: Estimate, max_width: float) -> dict[str, Any]:
    """An estimate's figures and whether its interval is narrow enough to report."""
    return {**estimate.as_dict(), **evidence_of(estimate, max_width).as_dict()}


def pooled_figures(periods: list[PeriodTerms], capacity: int,
                   options: EstimatorOptions, max_width: float) -> dict[str, Any]:
    """List precision (whole and by case part) and department rates over the stacked periods;
    a workplace's rows of every period are resampled together."""
    stacked = pd.concat({str(p.rows.as_of.date()): p.frame for p in periods}, names=["as_of"])
    clusters = pd.Series(stacked.index.get_level_values(-1), index=stacked.index)

    def by(groups: pd.Series) -> dict[str, dict[str, Any]]:
        found = estimate_by_group(groups, stacked["observed"], stacked["outcome"],
                                  stacked["propensity"], stacked["prediction"], clusters,
                                  options=options)
        return {name: with_evidence(e, max_width) for name, e in found.items()}

    listed = stacked[stacked["listed"]]
    precision = pooled_mean(listed["observed"].to_numpy(), listed["outcome"].to_numpy(),
                            listed["propensity"].to_numpy(), listed["prediction"].to_numpy(),
                            clusters[listed.index].to_numpy(), options=options)
    seen = listed.loc[listed["observed"], "outcome"]
    return {"list_precision": {**with_evidence(precision, max_width), "k": int(capacity),
                               "periods": len(periods),
                               "labelled_only_precision": float(seen.mean())
                               if len(seen) else float("nan")},
            "list_precision_by_case": by(stacked["part"]),
            "prevalence_by_department": by(stacked["department"])}


def period_figures(period: PeriodTerms, capacity: int, options: EstimatorOptions,
                   max_width: float) -> dict[str, Any]:
    """One period's own list precision (whole and by case part), so that drift shows."""
    figures = pooled_figures([period], capacity, options, max_width)
    return {"as_of": str(period.rows.as_of.date()), "scored_by": period.rows.scored_by,
            "known_outcome_share": period.known_share,
            "list_precision": figures["list_precision"],
            "list_precision_by_case": figures["list_precision_by_case"]}


def run_estimates(tables: dict[str, pd.DataFrame], terms: list[PeriodTerms],
                  planning_date: pd.Timestamp, log: pd.DataFrame,
                  propensity_model: PropensityModel, capacity: int,
                  config: VigiaConfig) -> dict[str, Any]:
    """The figures of `estimates.json` (module docstring) over the periods' `terms` (newest
    first, `period_terms` with `propensity_model`, fitted with `known_before=planning_date`)."""
    settings, labels_cfg = config.offpolicy, config.labels
    options = estimator_options(settings, config.model.seed)
    periods = [t.rows for t in terms]
    past = log[pd.to_datetime(log["planning_date"]) < planning_date]
    linked = link_outcomes(past, tables["inspections"], planning_date, labels_cfg.kind,
                           labels_cfg.min_indicators)
    return {
        "as_of": str(periods[0].as_of.date()),
        "scored_by": periods[0].scored_by,
        "pooled_as_of": [str(rows.as_of.date()) for rows in periods],
        "label_window_months": labels_cfg.label_timespan_months,
        **pooled_figures(terms, capacity, options, settings.max_interval_width),
        "periods": [period_figures(t, capacity, options, settings.max_interval_width)
                    for t in terms],
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
    """What the champion's list and each department really hold (pooled over past periods), and
    the fairness audit of the lists as delivered at the newest of them."""

    figures: dict[str, Any]  # the document of estimates.json (`run_estimates`)
    audit: pd.DataFrame  # `list_audit` of the lists as delivered at the evaluation date
    delivered: pd.DataFrame  # those lists (`delivered_lists`)
    capacity: int  # the list's length (config lists.total_capacity)
    rows: EvaluationRows  # the newest period: out-of-sample scores and labels


def champion_estimates(data: PlanningData, champion: Contender, log: pd.DataFrame,
                       backtest: BacktestResult, refit: RecipeRefit,
                       config: VigiaConfig) -> ChampionEstimates:
    """The off-policy estimates pooled over every past period whose outcomes are known
    (`pooled_dates`: logged lists and backtest test windows), each scored out of sample, and the
    audit of the lists as delivered at the newest of them."""
    capacity = config.lists.total_capacity
    windows = [pd.Timestamp(split) for split in backtest.test_scores["split"].unique()]
    dates = pooled_dates(log, data.planning_date, config, windows) or [
        pd.Timestamp(backtest.newest_split())]
    propensity = fit_propensity(data.tables, data.districts, data.planning_date,
                                config.training())
    # Each period's terms before the next period's features: one period's at a time in memory.
    terms = [period_terms(data.tables, period_rows(data, as_of, champion, backtest, refit, config),
                          log, propensity, capacity, config) for as_of in dates]
    figures = run_estimates(data.tables, terms, data.planning_date, log, propensity, capacity,
                            config)
    newest, labels_cfg = terms[0].rows, config.labels
    cases = known_cases(data.tables["inspections"], newest.as_of, labels_cfg.kind,
                        labels_cfg.min_indicators)
    delivered = delivered_lists(data, newest, config, cases)
    return ChampionEstimates(figures, list_audit(data.tables, newest, delivered, cases, config),
                             delivered, capacity, newest)

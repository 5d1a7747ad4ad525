"""The true values behind the off-policy estimates, from a demo world's hidden truth.

The estimates (models/offpolicy/estimates.py) say what share of a target set's workplaces an
inspection would find in forced labour if every one of them were visited. In a demo world the
spells say who really was in forced labour during the label window; inspectors only conclude it
with some detection rate, and now and then wrongly. The true finding rate of a set T is taken as

    a_T * detection + (1 - a_T) * false_conclusion

with a_T the share of T in forced labour during [as_of, as_of + horizon), detection the share of
the window's inspections of an active case that concluded forced labour, false_conclusion the
share of the others that did (both over every inspection ordered in the window, all origins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from evaluation.truth import forced_labour_active
from settings.schema import FairnessConfig


@dataclass(frozen=True)
class FindingRates:
    """How often the window's inspections concluded forced labour, by the case's real state."""

    detection: float
    false_conclusion: float
    inspections_of_active: int


def _window(truth: Mapping[str, pd.DataFrame], as_of: pd.Timestamp,
            horizon_months: int) -> pd.DataFrame:
    """The truth's inspections ordered in [as_of, as_of + horizon)."""
    inspections = truth["inspections"]
    start = pd.Timestamp(as_of)
    end = start + pd.DateOffset(months=horizon_months)
    return inspections[(inspections["ordered_on"] >= start) & (inspections["ordered_on"] < end)]


def finding_rates(truth: Mapping[str, pd.DataFrame], as_of: pd.Timestamp,
                  horizon_months: int) -> FindingRates:
    """Detection and false-conclusion rates over the inspections ordered in the window."""
    return _rates(_window(truth, as_of, horizon_months))


def finding_rates_by_team(truth: Mapping[str, pd.DataFrame], teams: pd.Series,
                          as_of: pd.Timestamp, horizon_months: int) -> dict[str, FindingRates]:
    """`finding_rates` per inspecting team (`teams`: the public table's team by inspection_id):
    the regular inspectors and the specialised team conclude forced labour at different rates."""
    window = _window(truth, as_of, horizon_months)
    team = window["inspection_id"].map(teams)
    return {str(name): _rates(window[team == name]) for name in team.dropna().unique()}


def _rates(window: pd.DataFrame) -> FindingRates:
    active = window["fl_active"].astype(str).str.lower() == "true"
    concluded = window["forced_labour_concluded"].astype(str).str.lower() == "true"
    return FindingRates(float(concluded[active].mean()) if active.any() else 0.0,
                        float(concluded[~active].mean()) if (~active).any() else 0.0,
                        int(active.sum()))


def true_finding_rate(active: pd.Series, members: pd.Index, rates: FindingRates) -> float:
    """The finding rate of the workplaces `members` if every one were visited (docstring)."""
    share = float(active.reindex(members).fillna(False).astype(bool).mean())
    return share * rates.detection + (1.0 - share) * rates.false_conclusion


def true_values(truth: Mapping[str, pd.DataFrame], as_of: pd.Timestamp, horizon_months: int,
                top_k: pd.Index, departments: pd.Series) -> dict[str, object]:
    """True list precision of `top_k` and true finding rate per department (index ids)."""
    active = forced_labour_active(truth, as_of, horizon_months)
    rates = finding_rates(truth, as_of, horizon_months)
    by_department = {
        str(code): true_finding_rate(active, members, rates)
        for code, members in departments.groupby(departments).groups.items()
    }
    return {"list_precision": true_finding_rate(active, top_k, rates),
            "list_active_share": float(active.reindex(top_k).fillna(False).mean()),
            "prevalence_by_department": by_department, "rates": rates}


def pooled_true_rate(truth: Mapping[str, pd.DataFrame], members: Mapping[str, pd.Index],
                     horizon_months: int) -> float:
    """The true finding rate behind a pooled estimate: each period's (as-of date -> its target
    set) true rate weighted by its set's size, as the pooled estimate weighs its rows."""
    sizes = {as_of: len(ids) for as_of, ids in members.items()}
    if not sum(sizes.values()):
        return float("nan")
    return sum(size * true_finding_rate(forced_labour_active(truth, pd.Timestamp(as_of),
                                                             horizon_months),
                                        members[as_of],
                                        finding_rates(truth, pd.Timestamp(as_of),
                                                      horizon_months))
               for as_of, size in sizes.items()) / sum(sizes.values())


def estimates_against_truth(truth: Mapping[str, pd.DataFrame],
                            estimates: Mapping[str, object]) -> pd.DataFrame:
    """A run's `estimates.json` finding rates per department next to their true values (over
    every pooled period, `pooled_as_of`, as the estimates pool them)."""
    dates = list(estimates.get("pooled_as_of") or [estimates["as_of"]])
    horizon = int(estimates["label_window_months"])
    departments = truth["workplaces"].set_index("workplace_id")["department_code"].astype(str)
    table = pd.DataFrame.from_dict(estimates["prevalence_by_department"], orient="index")
    table["true"] = [pooled_true_rate(truth, dict.fromkeys(
        dates, departments.index[departments == code]), horizon) for code in table.index]
    table["covered"] = (table["low"] <= table["true"]) & (table["true"] <= table["high"])
    return table.rename_axis("department").reset_index()


def fairness_against_truth(truth: Mapping[str, pd.DataFrame], workplaces: pd.DataFrame,
                           target: pd.DataFrame, as_of: pd.Timestamp,
                           settings: FairnessConfig) -> pd.DataFrame:
    """The fairness audit of the lists as delivered (`target`, the run's list file: every
    establishment of a listed visit counts as listed) with precision and recall against who
    really was in forced labour at `as_of` (every workplace labelled by the truth)."""
    from models.monitoring.fairness import audit_groups, audit_table
    from models.targeting.lists import listed_workplaces, office_of

    ids = pd.Index(workplaces["workplace_id"].astype(str), name="workplace_id")
    active = forced_labour_active(truth, as_of).reindex(ids).fillna(False)
    groups = audit_groups(workplaces, office_of(workplaces.set_index("workplace_id")["ubigeo"]))
    return audit_table(listed_workplaces(target, ids), active.astype(float),
                       groups.reindex(ids), settings)

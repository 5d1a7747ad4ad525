"""What the lists really find, written down: `estimates.json`, the fairness audit and their
run-report sections (the figures come from models/offpolicy/estimates.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from models.offpolicy.estimates import ChampionEstimates
from models.selection.gate import CHECK_MEANING, check_word
from reporting.markdown import markdown_table
from reporting.plots import plot_audit
from settings import catalog, files
from settings.schema import FairnessConfig


def write_estimates(estimates: dict[str, Any], out_dir: Path) -> Path:
    """`estimates.json` in the run's output folder."""
    path = catalog.ESTIMATES.path(out_dir)
    files.write_text(path, json.dumps(estimates, indent=2, default=str))
    return path


def estimate_text(e: dict[str, Any]) -> str:
    """An estimate as a result, or "evidencia insuficiente" with the visits needed when its
    interval is wider than config `offpolicy.max_interval_width` (the interval then is not a
    result: it is shown only as what was measured)."""
    rests_on = (f"{e['n_observed']} of {e['n_target']} inspected, {e['n_positive']} with a "
                f"finding, effective sample size {e['effective_sample_size']:.1f}")
    if e["evidence"] == "sufficient":
        return (f"{e['estimate']:.3f} [{e['low']:.3f}, {e['high']:.3f}] ({e['method']}, "
                f"{e['confidence']:.0%} interval; {rests_on})")
    return (f"**evidencia insuficiente**: the {e['confidence']:.0%} interval "
            f"[{e['low']:.3f}, {e['high']:.3f}] is wider than {e['max_interval_width']}; about "
            f"{e['visits_needed']} more inspected visits of the list would narrow it to that "
            f"({rests_on})")


def estimates_section(estimates: dict[str, Any]) -> str:
    """The run report's section on what the lists really find."""
    p = estimates["list_precision"]
    departments = pd.DataFrame.from_dict(estimates["prevalence_by_department"], orient="index")
    departments = departments[["estimate", "low", "high", "n_target", "n_observed",
                               "effective_sample_size", "evidence", "visits_needed"]]
    text = [
        f"Pooled over {p['periods']} past period(s) whose outcomes are known "
        f"({', '.join(estimates['pooled_as_of'])}; {estimates['label_window_months']}-month label "
        "windows), assuming the list's precision stable across them. Precision of the "
        f"champion's top {p['k']} if every one were visited: {estimate_text(p)}; labelled rows "
        f"only: {p['labelled_only_precision']:.3f}.",
        _by_case_sentence(estimates["list_precision_by_case"]),
        "Each period, scored out of sample (drift shows here):",
        markdown_table(_periods_table(estimates["periods"]), digits=3),
        f"Propensity: {estimates['propensity_model']['summary']}. Calibration on the check "
        "window (mean predicted vs observed share inspected per bin):",
        markdown_table(pd.DataFrame(estimates["propensity_model"]["calibration"]), digits=4),
        f"List log: {estimates['list_log']['rows']} rows from "
        f"{estimates['list_log']['lists']} list(s).",
    ]
    if estimates["list_log"]["by_list"]:
        text.append(markdown_table(pd.DataFrame(estimates["list_log"]["by_list"]), digits=3))
    text += ["Finding rate per department over all its workplaces (off-policy estimate, pooled):",
             markdown_table(departments.rename_axis("department").reset_index(), digits=4)]
    return "\n\n".join(text)


def _periods_table(periods: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per pooled period: its own list precision, what it rests on, its scorer."""
    return pd.DataFrame([{
        "as_of": period["as_of"], "estimate": e["estimate"], "low": e["low"], "high": e["high"],
        "inspected": e["n_observed"], "positives": e["n_positive"],
        "effective_sample_size": e["effective_sample_size"],
        "known_outcome_share": period["known_outcome_share"], "scored_by": period["scored_by"]}
        for period in periods for e in [period["list_precision"]]])


def _by_case_sentence(by_case: dict[str, dict[str, Any]]) -> str:
    """The list's new targets apart from its follow-up of documented cases."""
    parts = [f"{name.replace('_', '-')}: {estimate_text(e)}" for name, e in sorted(by_case.items())]
    return ("By case (new targets vs follow-up of findings documented before each period), "
            "pooled: " + "; ".join(parts) + ".") if parts else "No listed workplace to split."


def offpolicy_metrics(estimates: dict[str, Any]) -> dict[str, float]:
    """The MLflow metrics of the pooled estimates: the list's and its new targets' precision,
    interval, effective sample size, evidence (1 sufficient, 0 not) and visits needed."""
    metrics = {}
    parts = {"list": estimates["list_precision"],
             "new_target": estimates["list_precision_by_case"].get("new")}
    for name, e in parts.items():
        if e is None:
            metrics[f"offpolicy_{name}_precision"] = float("nan")
            continue
        metrics |= {f"offpolicy_{name}_precision": e["estimate"],
                    f"offpolicy_{name}_precision_low": e["low"],
                    f"offpolicy_{name}_precision_high": e["high"],
                    f"offpolicy_{name}_effective_sample_size": e["effective_sample_size"],
                    f"offpolicy_{name}_evidence_sufficient": float(e["evidence"] == "sufficient"),
                    f"offpolicy_{name}_visits_needed": float(e["visits_needed"])}
    return metrics


def write_audit(audit: pd.DataFrame, settings: FairnessConfig, out_dir: Path) -> Path:
    """`fairness_audit.csv` and its plot (flag band from `settings`) in the run's output
    folder."""
    import matplotlib.pyplot as plt

    path = catalog.FAIRNESS_AUDIT.path(out_dir)
    with files.replaced(path) as partial:
        audit.to_csv(partial, index=False)
    figure = plot_audit(audit, (settings.ratio_low, settings.ratio_high))
    with files.replaced(catalog.FAIRNESS_FIGURE.path(out_dir)) as partial:
        figure.savefig(partial, dpi=110, format="png")
    plt.close(figure)
    return path


def fairness_statement(gate_fairness: bool | None, audit: pd.DataFrame) -> str:
    """The gate's fairness verdict and the delivered lists' flags in one statement: they answer
    different questions (challenger against champion; these lists against the band), so a
    passed check beside flagged groups is not a contradiction, and the reader is told why."""
    flagged = audit[audit["flagged"] != ""]
    by_attribute = flagged.groupby("attribute", sort=False).size()
    where = ", ".join(f"{attribute} {n}" for attribute, n in by_attribute.items())
    return (f"Fairness check of the gate ({CHECK_MEANING['fairness']}): "
            f"{check_word(gate_fairness, 'passed', 'FAILED')}. It compares two models; it does "
            f"not judge the lists below in absolute terms. The audit of the lists as delivered "
            f"flags {len(flagged)} of {len(audit)} groups" + (f" ({where})." if where else "."))


def audit_section(audit: pd.DataFrame, as_of: str, capacity: int, scored_by: str) -> str:
    """The run report's fairness section: flagged groups first, the whole table in the CSV."""
    flagged = audit[audit["flagged"] != ""]
    shown = ["attribute", "group", "n_workplaces", "n_listed", "n_labelled", "n_positive",
             "list_share", "selection_rate_ratio", "precision_ratio", "recall_ratio",
             "few_labelled", "flagged"]
    return "\n\n".join([
        f"The lists as delivered at {as_of} ({capacity} visits: specialised team, office quotas, "
        f"seeded exploration draws), rebuilt from scores by {scored_by}; every establishment of "
        "a listed visit counts as listed. Per office, size band, CIIU division, natural person "
        "vs company, and case (nuevo: no finding documented before that date; seguimiento: one "
        "was) (fairlearn MetricFrame); ratios to each attribute's reference group, flagged "
        "outside the band unless the group is small (few_labelled: precision and recall not "
        f"judged). Flagged groups (all rows in `{catalog.FAIRNESS_AUDIT.name}`):",
        markdown_table(flagged[shown], digits=2) if len(flagged) else "None flagged.",
        f"![fairness audit]({catalog.FAIRNESS_FIGURE.name})",
    ])


@dataclass(frozen=True)
class Findings:
    """What the run's off-policy estimates and fairness audit hand to the run report and MLflow."""

    metrics: dict[str, float]  # `offpolicy_metrics`: the pooled list precision for MLflow
    estimates_section: str  # Markdown
    fairness_section: str  # Markdown
    audit: pd.DataFrame  # the delivered lists' audit behind `fairness_section`


def write_findings(found: ChampionEstimates, fairness: FairnessConfig, out_dir: Path) -> Findings:
    """`estimates.json`, the fairness audit and its plot, and the run report's sections on them."""
    write_estimates(found.figures, out_dir)
    write_audit(found.audit, fairness, out_dir)
    return Findings(offpolicy_metrics(found.figures),
                    estimates_section(found.figures),
                    audit_section(found.audit, found.figures["as_of"], len(found.delivered),
                                  found.figures["scored_by"]), found.audit)

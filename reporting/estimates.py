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
from settings import catalog
from settings.schema import FairnessConfig


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
        f"window), scored out of sample by {estimates['scored_by']}. Precision of the "
        f"champion's top {p['k']} if every one were visited: "
        f"{p['estimate']:.3f} [{p['low']:.3f}, {p['high']:.3f}] ({p['method']}, "
        f"{p['confidence']:.0%} bootstrap interval, {p['n_observed']} of {p['n_target']} "
        f"inspected); labelled rows only: {p['labelled_only_precision']:.3f}.",
        _by_case_sentence(estimates["list_precision_by_case"]),
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


def _by_case_sentence(by_case: dict[str, dict[str, Any]]) -> str:
    """The list's new targets apart from its follow-up of documented cases."""
    parts = [f"{name.replace('_', '-')}: {e['estimate']:.3f} [{e['low']:.3f}, {e['high']:.3f}] "
             f"over {e['n_target']} listed ({e['n_observed']} inspected)"
             for name, e in sorted(by_case.items())]
    return ("By case (new targets vs follow-up of findings documented before the evaluation "
            "date): " + "; ".join(parts) + ".") if parts else "No listed workplace to split."


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

    list_precision: float  # off-policy precision of the champion's list at capacity
    new_target_precision: float  # the same among its workplaces without a documented finding
    estimates_section: str  # Markdown
    fairness_section: str  # Markdown
    audit: pd.DataFrame  # the delivered lists' audit behind `fairness_section`


def write_findings(found: ChampionEstimates, fairness: FairnessConfig, out_dir: Path) -> Findings:
    """`estimates.json`, the fairness audit and its plot, and the run report's sections on them."""
    write_estimates(found.figures, out_dir)
    write_audit(found.audit, fairness, out_dir)
    new = found.figures["list_precision_by_case"].get("new", {"estimate": float("nan")})
    return Findings(found.figures["list_precision"]["estimate"], new["estimate"],
                    estimates_section(found.figures),
                    audit_section(found.audit, found.figures["as_of"], len(found.delivered),
                                  found.figures["scored_by"]), found.audit)

"""What the lists really find, written down: `estimates.json`, the fairness audit and their
run-report sections (the figures come from models/offpolicy/estimates.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from models.offpolicy.estimates import ChampionEstimates
from reporting.markdown import markdown_table
from reporting.plots import plot_audit
from settings import catalog, files
from settings.schema import FairnessConfig


def write_estimates(estimates: dict[str, Any], out_dir: Path) -> Path:
    """`estimates.json` in the run's output folder."""
    path = catalog.ESTIMATES.path(out_dir)
    files.write_text(path, json.dumps(estimates, indent=2, default=str))
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
    with files.replaced(path) as partial:
        audit.to_csv(partial, index=False)
    figure = plot_audit(audit, (settings.ratio_low, settings.ratio_high))
    with files.replaced(catalog.FAIRNESS_FIGURE.path(out_dir)) as partial:
        figure.savefig(partial, dpi=110, format="png")
    plt.close(figure)
    return path


def audit_section(audit: pd.DataFrame, as_of: str, capacity: int, scored_by: str) -> str:
    """The run report's fairness section: flagged groups first, the whole table in the CSV."""
    flagged = audit[audit["flagged"] != ""]
    shown = ["attribute", "group", "n_workplaces", "n_listed", "n_labelled", "n_positive",
             "list_share", "selection_rate_ratio", "precision_ratio", "recall_ratio",
             "few_labelled", "flagged"]
    return "\n\n".join([
        f"The champion's top {capacity} at {as_of} (scored by {scored_by}), per office, size "
        "band, CIIU division and natural person vs company (fairlearn MetricFrame); ratios to "
        "each attribute's reference group, flagged outside the band unless the group is small "
        "(few_labelled: precision and recall not judged). "
        f"{len(flagged)} of {len(audit)} groups flagged "
        f"(all rows in `{catalog.FAIRNESS_AUDIT.name}`):",
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


def write_findings(found: ChampionEstimates, fairness: FairnessConfig, out_dir: Path) -> Findings:
    """`estimates.json`, the fairness audit and its plot, and the run report's sections on them."""
    write_estimates(found.figures, out_dir)
    write_audit(found.audit, fairness, out_dir)
    new = found.figures["list_precision_by_case"].get("new", {"estimate": float("nan")})
    return Findings(found.figures["list_precision"]["estimate"], new["estimate"],
                    estimates_section(found.figures),
                    audit_section(found.audit, found.figures["as_of"], found.capacity,
                                  found.figures["scored_by"]))

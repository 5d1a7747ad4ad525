"""Fairness audit of a list at capacity (fairlearn MetricFrame), and its use in the gate.

Per group of each attribute (office, size band, CIIU sector division, natural person vs
company; for the delivered lists also new target vs follow-up of a documented case): share
of the list, selection rate (listed / group's workplaces), and on labelled rows (inspected
in the label window) precision and recall of "listed", with sample sizes so that small
groups are not over-read. Disparity ratios divide a group's figure by its attribute's reference
group (config `fairness.reference_groups`; the largest group when unset or absent);
a ratio outside [`ratio_low`, `ratio_high`] (the four-fifths band [0.8, 1.25]) is flagged
unless the group is too small (`min_labelled` labelled rows for precision and recall,
`min_positives` positives for recall, `min_workplaces` for the selection rate).

The gate compares the challenger's worst disparity per attribute and metric of `gate_metrics`
(max(r, 1/r) over groups large enough) with the champion's on the same rows: worse beyond
`gate_tolerance` (relative) AND outside the band refuses the challenger, the reason naming
attribute, metric and groups. By default only recall gates (equal opportunity: a group's real
cases are found as often as the reference's); selection rates differ between offices and
sectors by design, as risk does, and are reported, not gated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, selection_rate
from sklearn.metrics import precision_score, recall_score

from settings.schema import FairnessConfig

ATTRIBUTES = ("office", "size_band", "ciiu_division", "person_type")
# An optional attribute of the audit of delivered lists: new target or follow-up of a documented
# case (models/offpolicy/estimates.py adds it; the gate audits ATTRIBUTES only).
CASE_ATTRIBUTE = "case"
RATIO_METRICS = ("selection_rate", "precision", "recall")
NATURAL_PERSON = "persona_natural"
COMPANY = "empresa"


def audit_groups(workplaces: pd.DataFrame, office: pd.Series) -> pd.DataFrame:
    """The audit's attributes per workplace_id (index): office, size band, CIIU division, and
    natural person (RUC prefix 10) vs company."""
    registry = workplaces.set_index("workplace_id")
    return pd.DataFrame({
        "office": office.reindex(registry.index).astype(str),
        "size_band": registry["size_band"].astype(str),
        "ciiu_division": registry["ciiu"].astype(str).str[:2],
        "person_type": np.where(registry["ruc"].astype(str).str[:2] == "10", NATURAL_PERSON,
                                COMPANY),
    }, index=registry.index)


def _zero_safe(metric):
    def safe(y_true, y_pred):
        return metric(y_true, y_pred, zero_division=np.nan)
    return safe


def audit_table(listed: pd.Series, labels: pd.Series, groups: pd.DataFrame,
                settings: FairnessConfig) -> pd.DataFrame:
    """One row per (attribute, group): sizes, list share, rates, ratios and flags.

    `listed` is boolean per workplace (on the list at capacity), `labels` 1/0/NaN per workplace,
    `groups` the attributes (`audit_groups`, optionally with CASE_ATTRIBUTE); all share an
    index. Every column of `groups` is audited, in its order.
    """
    listed = listed.reindex(groups.index).fillna(False).astype(int)
    labels = labels.reindex(groups.index)
    labelled = labels.notna().to_numpy()
    tables = []
    for attribute in groups.columns:
        features = groups[attribute]
        everyone = MetricFrame(metrics={"n_workplaces": count, "selection_rate": selection_rate},
                               y_true=listed, y_pred=listed, sensitive_features=features)
        inspected = MetricFrame(
            metrics={"n_labelled": count, "precision": _zero_safe(precision_score),
                     "recall": _zero_safe(recall_score)},
            y_true=labels[labelled].astype(int), y_pred=listed[labelled],
            sensitive_features=features[labelled])
        table = everyone.by_group.join(inspected.by_group, how="left")
        table["n_listed"] = listed.groupby(features).sum()
        table["n_positive"] = labels.groupby(features).sum()
        table["list_share"] = table["n_listed"] / max(int(listed.sum()), 1)
        table = table.rename_axis("group").reset_index()
        table.insert(0, "attribute", attribute)
        tables.append(_with_ratios(table, attribute, settings))
    audit = pd.concat(tables, ignore_index=True)
    counts = ["n_workplaces", "n_listed", "n_labelled", "n_positive"]
    audit[counts] = audit[counts].fillna(0).astype(int)
    columns = ["attribute", "group", *counts, "list_share", *RATIO_METRICS,
               *[f"{m}_ratio" for m in RATIO_METRICS], "reference", "few_labelled", "flagged"]
    return audit[columns]


def _with_ratios(table: pd.DataFrame, attribute: str, settings: FairnessConfig) -> pd.DataFrame:
    """Ratios to the attribute's reference group and the flags of one attribute's table."""
    configured = settings.reference_groups.get(attribute)
    groups = table["group"].astype(str)
    reference = str(configured) if configured is not None and str(configured) in set(
        groups) else str(table.loc[table["n_workplaces"].idxmax(), "group"])
    base = table[groups == reference].iloc[0]
    low, high = settings.ratio_low, settings.ratio_high
    small_labelled = table["n_labelled"].fillna(0) < settings.min_labelled
    few_positives = table["n_positive"].fillna(0) < settings.min_positives
    small = {"selection_rate": table["n_workplaces"] < settings.min_workplaces,
             "precision": small_labelled, "recall": small_labelled | few_positives}
    flags = pd.Series([[] for _ in range(len(table))], index=table.index)
    for metric in RATIO_METRICS:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = table[metric] / base[metric] if base[metric] else np.nan
        table[f"{metric}_ratio"] = ratio
        outside = ((ratio < low) | (ratio > high)) & ~small[metric]
        for i in table.index[outside.fillna(False).to_numpy(dtype=bool)]:
            flags[i] = [*flags[i], metric]
    table["reference"] = reference
    table["few_labelled"] = small_labelled
    table["flagged"] = flags.map(";".join)
    return table


def worst_disparities(audit: pd.DataFrame, settings: FairnessConfig) -> pd.DataFrame:
    """Per attribute and metric: the largest max(r, 1/r) over groups large enough, and where."""
    rows = []
    for (attribute, metric), _ in pd.MultiIndex.from_product(
            [ATTRIBUTES, settings.gate_metrics]).to_frame().iterrows():
        part = audit[audit["attribute"] == attribute]
        big = part["n_workplaces"] >= settings.min_workplaces
        if metric != "selection_rate":
            big &= part["n_labelled"] >= settings.min_labelled
        if metric == "recall":
            big &= part["n_positive"] >= settings.min_positives
        ratio = part.loc[big, f"{metric}_ratio"].astype(float)
        with np.errstate(divide="ignore"):
            disparity = np.maximum(ratio, 1.0 / ratio).dropna()  # a ratio of 0 is infinite
        worst = disparity.idxmax() if len(disparity) else None
        rows.append({"attribute": attribute, "metric": metric,
                     "worst": float(disparity.max()) if len(disparity) else 1.0,
                     "group": str(part.at[worst, "group"]) if worst is not None else ""})
    return pd.DataFrame(rows)


def fairness_check(challenger: pd.DataFrame, champion: pd.DataFrame | None,
                   settings: FairnessConfig) -> tuple[bool, list[str]]:
    """The gate's `fairness` check on two audits of the same rows (module docstring)."""
    if champion is None:
        return True, []
    mine = worst_disparities(challenger, settings).set_index(["attribute", "metric"])
    theirs = worst_disparities(champion, settings).set_index(["attribute", "metric"])
    tolerance, high = settings.gate_tolerance, settings.ratio_high
    failures = []
    for key, row in mine.iterrows():
        before = theirs.loc[key]
        if row["worst"] > high and row["worst"] > before["worst"] * (1.0 + tolerance):
            failures.append(
                f"fairness: {key[1]} disparity by {key[0]} worse than the champion's: "
                f"{row['worst']:.2f}x (group {row['group']}) vs {before['worst']:.2f}x (group "
                f"{before['group']}); tolerance {tolerance:.0%}, band up to {high:.2f}x")
    return not failures, failures


"""The data scientists' run report (`run_report.md`) and the Prefect summary of a run.

The report reads two hand-offs: what the retraining measured and decided (`Retraining`, the
result of flow `vigia_retrain`) and what the listing produced (`ListingReport`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.splits import FittedPlan
from models.metrics import NEW_TARGETS_SUFFIX
from models.monitoring.drift import ListingDrift
from models.selection.choose import Selection
from models.selection.gate import GateOutcome
from models.training.backtest import BacktestResult
from models.training.planning import PlanningModel
from reporting.adaptations import render_notes
from reporting.backtest import comparison_table
from reporting.drift import drift_section, listing_drift_section
from reporting.estimates import Findings, fairness_statement
from reporting.markdown import markdown_table
from reporting.planner_report import ListFiles, PlannerLists
from settings import catalog


@dataclass(frozen=True)
class Retraining:
    """What a retraining measured and decided, with its MLflow run."""

    run_id: str
    planning_date: pd.Timestamp
    accounting: pd.DataFrame  # rows in, clean and quarantined per table (the quality gate)
    metric: str  # config promotion.metric: what selected, gated and is reported
    fitted: FittedPlan  # the split plan the backtest ran
    backtest: BacktestResult
    selection: Selection
    planning_model: PlanningModel
    drift: pd.DataFrame | None  # the new training data against the champion's
    gate: GateOutcome
    notes: list[str]  # what the run adapted to the data (reporting/adaptations.py)


@dataclass(frozen=True)
class ListingReport:
    """What the listing hands to the run report."""

    lists: PlannerLists
    files: ListFiles
    calibrated: bool  # the listing champion's scores are probabilities
    drift: ListingDrift
    findings: Findings
    retrain_reason: str | None  # why a scheduled re-listing retrained first


def run_report(retraining: Retraining, listing: ListingReport) -> str:
    """The run report for data scientists (English): data, validation, choice, gate, lists and
    what they really find; test windows are compared on config `promotion.metric`."""
    return "\n\n".join([*_retraining_sections(retraining),
                        *_listing_sections(listing, retraining.gate)]) + "\n"


def _retraining_sections(retraining: Retraining) -> list[str]:
    metric, planning_model = retraining.metric, retraining.planning_model
    new = metric + NEW_TARGETS_SUFFIX
    planning_date = retraining.planning_date.date()
    return [
        f"# Vigía run report: planning date {planning_date}",
        "## Data (rows in = clean + quarantined)",
        markdown_table(retraining.accounting),
        "## Adapted to the data",
        render_notes(list(retraining.notes)),
        "Validation details: `validation_summary.md` and `validation_summary.html` (offline), "
        "Great Expectations Data Docs in `data_docs/` (blank offline: they load their scripts "
        "from the internet), quarantined rows in `quarantine/`.",
        "## Split plan",
        "\n".join(
            f"- test as-of {s.test_as_of.date()}: training as-of dates "
            f"{s.train_as_of_dates[0].date()} .. {s.train_as_of_dates[-1].date()} "
            f"({len(s.train_as_of_dates)}), label timespan {s.label_timespan_months} months"
            for s in retraining.fitted.splits
        ) + f"\n\n![split plan]({catalog.SPLIT_PLAN.name})",
        f"## {metric} per test window (labelled workplaces in the list only)",
        *quality_tables(retraining.backtest.metrics, metric),
        f"## {new}: the same among new targets only",
        "Workplaces with no forced-labour finding documented before the test as-of date (the "
        "follow-up of documented cases left out): what the model finds that was not known. "
        "Reported only; selection uses the metric above.",
        *quality_tables(retraining.backtest.metrics, new),
        "## Model selection",
        retraining.selection.explanation,
        "## Planning model and promotion gate",
        f"Retrained `{planning_model.model_group}` on training as-of dates "
        f"{[str(d.date()) for d in planning_model.train_as_of_dates]} with labels known before "
        f"{planning_date}: {planning_model.training_labels}. "
        f"{planning_model.trained.note}.",
        retraining.gate.report(),
        "## Input drift against the champion's training data",
        drift_section(retraining.drift),
    ]


def _listing_sections(listing: ListingReport, gate: GateOutcome) -> list[str]:
    target = listing.lists.target
    by_office = target.groupby("office", sort=False)["selection"].value_counts().unstack(
        fill_value=0)
    return [
        "## Drift at the planning date against the listing champion's training population",
        listing_drift_section(listing.drift, listing.retrain_reason),
        "## Lists",
        markdown_table(by_office.reset_index(), digits=0),
        yield_note(listing.calibrated, listing.lists.yields),
        markdown_table(listing.lists.yields.reset_index()),
        "## What the lists really find (off-policy estimates)",
        listing.findings.estimates_section,
        "## Fairness audit of the lists as delivered",
        fairness_statement(gate.checks.get("fairness"), listing.findings.audit),
        listing.findings.fairness_section,
        "Files: " + ", ".join(f"`{path.name}`" for path in listing.files.paths()),
    ]


def quality_tables(metrics: pd.DataFrame, metric: str) -> list[str]:
    """A metric per model group and test window, and the labelled workplaces behind each."""
    comparison = comparison_table(metrics, metric)
    labelled = metrics[metrics["metric"] == metric].pivot_table(
        index="model_group", columns="split", values="n_labelled_in_top_k").reindex(
        comparison.index)
    return [markdown_table(comparison.reset_index()),
            "Labelled workplaces behind each figure (inspected in the label window, in the top "
            "k):", markdown_table(labelled.reset_index(), digits=0)]


def yield_note(calibrated: bool, yields: pd.DataFrame) -> str:
    """What the expected findings are: calibrated probabilities with the visiting team's rate
    and the calibration error of past windows, or with visit-to-visit chance only, or not."""
    if calibrated and "team_factor" in yields:
        return ("Expected forced-labour findings (each visiting team's map from calibrated "
                "probability to finding, learned on past backtest windows' planned visits, times "
                "its observed/predicted ratio in one past window; `team_factor` = expected / "
                "sum of probabilities; the interval is a seeded Monte Carlo over that ratio's "
                "spread across windows and visit-to-visit chance) against a random list of the "
                "same size. Incluye el "
                "error de calibración medido en ventanas pasadas y la tasa de detección del "
                "equipo que visita:")
    if calibrated:
        return ("Expected forced-labour findings (sum of calibrated probabilities, exact "
                "Poisson-binomial interval; no past window with findings to measure calibration "
                "error or team rates, so visit-to-visit chance only) against a random list of "
                "the same size:")
    return ("Expected forced-labour findings: UNCALIBRATED ESTIMATE (estimación sin calibrar). "
            "Calibration was skipped for the listing model (too few positives in its calibration "
            "slice), so its scores are not probabilities; the figures below sum raw scores and "
            "only rank offices, they do not predict how many findings to expect:")


def summary_markdown(retraining: Retraining, validation: dict[str, Any],
                     offices: pd.DataFrame) -> str:
    """The Prefect summary artifact: rows, model, gate, the listing model's newest validation
    figure (on the metric it was validated with), list sizes."""
    accounting = retraining.accounting
    validated = (f"{int(accounting['rows_in'].sum())} rows read, "
                 f"{int(accounting['rows_quarantined'].sum())} quarantined")
    figure = "not measured"
    newest = validation["windows"][-1] if validation["windows"] else None
    if newest is not None and not pd.isna(newest["value"]):
        figure = (f"{newest['value']:.3f} [{newest['ci_low']:.3f}, {newest['ci_high']:.3f}] "
                  f"on the newest test window ({newest['as_of']})")
    return "\n\n".join([
        f"# Vigía: planning date {retraining.planning_date.date()}",
        f"- Data: {validated}", f"- Model chosen: `{retraining.selection.model_group}`",
        f"- {validation['metric']}: {figure}", f"- Gate: {retraining.gate.decision.reason}",
        "## Lists per office", markdown_table(offices, digits=2),
    ])

"""Score a finished run's lists against the demo world's hidden truth (never part of `vigia run`).

For every backtest test window it ranks each model group's test scores and measures precision at
capacity against who really was in forced labour during the label window, next to the oracle
(top k by the hidden latent risk) and next to the same list's precision on inspected outcomes.
The planning list itself (`scores.csv`) is measured at the planning date.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from evaluation.offpolicy_truth import estimates_against_truth, fairness_against_truth
from evaluation.truth import load_truth
from evaluation.truth_eval import ORACLE, truth_table
from reporting.markdown import markdown_table
from settings import catalog, inputs
from settings.schema import FairnessConfig

# Every file `vigia evaluate` writes, all in the run's backtest folder. Declared here, not in
# settings/catalog.py: no module below evaluation/ may name the hidden truth.
STAGE = "vigia evaluate (demo only)"
EVALUATION_CSV = catalog.RunFile("truth_evaluation.csv", "csv", STAGE,
                                 "lists scored against the demo world's hidden truth",
                                 catalog.BACKTEST)
EVALUATION_MD = catalog.RunFile("truth_evaluation.md", "markdown", STAGE,
                                "the truth evaluation as a table", catalog.BACKTEST)
OFFPOLICY_AGAINST_TRUTH = catalog.RunFile(
    "offpolicy_against_truth.csv", "csv", STAGE,
    "the run's off-policy finding rates per department beside the true rates", catalog.BACKTEST)
FAIRNESS_AGAINST_TRUTH = catalog.RunFile(
    "fairness_against_truth.csv", "csv", STAGE,
    "the delivered lists' fairness audit measured against the truth", catalog.BACKTEST)
EVALUATION_FILES = (EVALUATION_CSV, EVALUATION_MD, OFFPOLICY_AGAINST_TRUTH,
                    FAIRNESS_AGAINST_TRUTH)


def evaluate_run(
    truth_dir: Path, run_dir: Path, capacity: int, horizon_months: int
) -> pd.DataFrame:
    """One row per (window, model group or oracle): truth precision@capacity and inspected one."""
    truth = load_truth(truth_dir)
    scores = pd.read_parquet(catalog.BACKTEST_SCORES.path(run_dir))
    metrics = pd.read_csv(catalog.BACKTEST_METRICS.path(run_dir))
    inspected = metrics[metrics["metric"] == "precision_at_capacity"].set_index(
        ["split", "model_group"]
    )
    tables = []
    for split, frame in scores.groupby("split"):
        by_group = {
            group: part.set_index("workplace_id")["score"]
            for group, part in frame.groupby("model_group")
        }
        table = truth_table(truth, split, horizon_months, by_group, capacity)
        table["split"] = split
        table["inspected_precision_at_capacity"] = [
            inspected["value"].get((split, g), float("nan")) for g in table["model_group"]
        ]
        table["inspected_labelled_in_top_k"] = [
            inspected["n_labelled_in_top_k"].get((split, g), float("nan"))
            for g in table["model_group"]
        ]
        tables.append(table)
    planning = pd.read_csv(catalog.SCORES.path(run_dir), dtype={"workplace_id": str})
    as_of = pd.Timestamp(catalog.PLANNING_DATE.path(run_dir).read_text().strip())
    live = truth_table(truth, as_of, 0, {"planning_list": planning.set_index("workplace_id")[
        "score"]}, capacity)
    live["split"] = f"planning {as_of.date()}"
    tables.append(live)
    return pd.concat(tables, ignore_index=True)


def summary_markdown(table: pd.DataFrame) -> str:
    """Windows x model groups of truth precision at capacity, best groups first, oracle on top."""
    pivot = table.pivot_table(index="model_group", columns="split", values="truth_precision_at_k")
    pivot["mean"] = pivot.mean(axis=1)
    order = [ORACLE] + [g for g in pivot.sort_values("mean", ascending=False).index if g != ORACLE]
    pivot = pivot.reindex(order).rename_axis("model group").reset_index()
    return (
        "# Precision at capacity against the hidden truth\n\n"
        "Share of each list's top k really in forced labour during the label window "
        "(oracle: top k by hidden latent risk).\n\n" + markdown_table(pivot) + "\n"
    )


def write_evaluation(truth_dir: Path, run_dir: Path, capacity: int, horizon_months: int,
                     fairness: FairnessConfig | None = None) -> Path:
    """Write `truth_evaluation.csv` and `.md` into the run's backtest folder; return the .md.

    With the run's `estimates.json`, its finding rates per department are set against the truth
    (`offpolicy_against_truth.csv`); with `fairness` (config `fairness:`), the audit of the lists
    as delivered (the run's list file, the selection the run's own audit rebuilds at its
    evaluation date) against the truth (`fairness_against_truth.csv`).
    """
    table = evaluate_run(truth_dir, run_dir, capacity, horizon_months)
    table.to_csv(EVALUATION_CSV.path(run_dir), index=False)
    text = summary_markdown(table)
    truth = load_truth(truth_dir)
    if catalog.ESTIMATES.path(run_dir).is_file():
        estimates = json.loads(catalog.ESTIMATES.path(run_dir).read_text(encoding="utf-8"))
        against = estimates_against_truth(truth, estimates)
        against.to_csv(OFFPOLICY_AGAINST_TRUTH.path(run_dir), index=False)
        text += (f"\n## Off-policy finding rates per department against the truth\n\n"
                 f"{against['covered'].mean():.0%} of the {len(against)} intervals hold the "
                 f"true rate (`{OFFPOLICY_AGAINST_TRUTH.name}`).\n")
    if fairness is not None:
        as_of = pd.Timestamp(catalog.PLANNING_DATE.path(run_dir).read_text().strip())
        delivered = pd.read_csv(catalog.LIST_CSV.path(run_dir, as_of=str(as_of.date())),
                                dtype={"establishments": str})
        registry = pd.read_csv(truth_dir.parent / inputs.WORKPLACES.file_name, dtype=str,
                               usecols=["workplace_id", "ruc", "ciiu", "ubigeo", "size_band"])
        audit = fairness_against_truth(truth, registry.drop_duplicates("workplace_id"),
                                       delivered, as_of, fairness)
        audit.to_csv(FAIRNESS_AGAINST_TRUTH.path(run_dir), index=False)
        text += (f"\n## Fairness of the delivered lists against the truth\n\n"
                 f"{int((audit['flagged'] != '').sum())} of {len(audit)} groups flagged "
                 f"(`{FAIRNESS_AGAINST_TRUTH.name}`).\n")
    path = EVALUATION_MD.path(run_dir)
    path.write_text(text, encoding="utf-8")
    return path

"""The planning date's files for planners: every workplace's score (`scores.csv`), the lists
with their Spanish reasons (written by reporting/planner_report.py) and the per-office table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cleaning.ingest import mapping_from_config, read_employer_identity
from features.catalog import FEATURE_CATALOG
from features.labels import known_cases
from features.training_set import PlanningData
from models.explaining.explain import Explanation, explain
from models.explaining.reasons import reasons_frame
from models.metrics import rank
from models.targeting.expected_findings import TeamEvidence
from models.targeting.lists import (
    ListRequest,
    WorkplaceRegistry,
    build_target_lists,
    with_case,
    with_context,
    yield_by_office,
)
from models.training.planning import ScoredWorkplaces
from reporting.planner_report import ListFiles, PlannerLists, write_planning_outputs
from reporting.plots import importance_bar_figure
from settings import catalog, files, inputs
from settings.schema import VigiaConfig


@dataclass(frozen=True)
class ListingModel:
    """The registered champion as the lists need it."""

    model: Any
    calibrated: bool  # its scores are probabilities (else the yield is an uncalibrated estimate)
    validation: dict[str, Any]  # how its group was validated (reporting.backtest)


def scores_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Every workplace's score and rank, with the same deterministic tie rule as the metrics."""
    ranking = rank(pd.Series(float("nan"), index=scores.index), scores["score"].to_numpy(),
                   scores["workplace_id"].to_numpy())
    return pd.DataFrame({
        "workplace_id": ranking.ids,
        "score": ranking.scores,
        "rank": range(1, len(ranking.ids) + 1),
    })


def write_scores(scores: pd.DataFrame, planning_date: pd.Timestamp, out_dir: Path) -> Path:
    """`scores.csv` (every workplace's score and rank) and the planning date beside it."""
    path = catalog.SCORES.path(out_dir)
    with files.replaced(path) as partial:
        scores_frame(scores).to_csv(partial, index=False)
    files.write_text(catalog.PLANNING_DATE.path(out_dir), f"{planning_date.date()}\n")
    return path


def office_table(target: pd.DataFrame, yields: pd.DataFrame) -> pd.DataFrame:
    """List size per office and selection, with expected yield: no workplace, no personal data."""
    sizes = target.groupby("office", sort=False)["selection"].value_counts().unstack(
        fill_value=0)
    parts = [c for c in ("new_visits", "new_expected_findings", "new_low", "new_high",
                         "follow_up_visits", "follow_up_share", "follow_up_expected_findings",
                         "team_factor") if c in yields]
    table = sizes.join(yields[["expected_findings", "low", "high", *parts, "estimate"]],
                       how="outer")
    return table.rename_axis("office").reset_index()


def write_lists(champion: ListingModel, scored: ScoredWorkplaces, data: PlanningData,
                config: VigiaConfig, request: ListRequest, *, out_dir: Path,
                data_dir: Path | None = None) -> tuple[PlannerLists, ListFiles]:
    """Lists, reasons and the global importance plot, written as the planners' files.

    With `data_dir`, the employer's name and address are read from the raw registry here, at the
    last step, and go into the confidential xlsx/html list files only (CONTRACT.md).
    """
    target, yields, explanation = planning_lists(champion, scored, data, config, request)
    figures = {}
    if explanation is not None:
        labels_es = {name: spec.label_es for name, spec in FEATURE_CATALOG.items()}
        figures[inputs.IMPORTANCE_FIGURE.name] = importance_bar_figure(
            explanation, labels_es, config.explain.plot_top_features
        )
    identity = (None if data_dir is None
                else read_employer_identity(data_dir, mapping_from_config(config.data)))
    lists = PlannerLists(target, yields, champion.validation,
                         scored.scores.set_index("workplace_id")["score"], figures)
    files = write_planning_outputs(out_dir, data.planning_date, lists, data.districts,
                                   office=request.office, identity=identity,
                                   team_code=config.lists.specialized_team.code)
    return lists, files


def planning_lists(
    champion: ListingModel, scored: ScoredWorkplaces, data: PlanningData, config: VigiaConfig,
    request: ListRequest,
) -> tuple[pd.DataFrame, pd.DataFrame, Explanation | None]:
    """Target lists per office with Spanish reasons from the champion's SHAP values.

    Only the listed workplaces are explained (SHAP is costly); their explanation is returned for
    the global importance plot. Without calibration the expected yield is labelled as an
    uncalibrated estimate.
    """
    lists_cfg, features, scores = config.lists, scored.features, scored.scores
    explained: dict[str, Explanation] = {}

    def reasons_for(ids: pd.Index) -> pd.DataFrame:
        explanation = explain(champion.model, features.loc[ids], background=features,
                              background_rows=config.explain.background_rows,
                              seed=config.model.seed)
        explained["listed"] = explanation
        return reasons_frame(explanation, FEATURE_CATALOG, config.reasons)

    tables, labels = data.tables, config.labels
    cases = known_cases(tables["inspections"], data.planning_date, labels.kind,
                        labels.min_indicators)
    target = build_target_lists(
        scores.assign(calibrated_probability=scores["score"]),
        WorkplaceRegistry.from_tables(tables, data.districts), lists_cfg, data.planning_date,
        request, seed=config.model.seed, reasons_for=reasons_for, cases=cases,
    )
    target = with_case(target, cases)
    evidence = TeamEvidence.from_records(champion.validation.get("calibration_windows", []),
                                         lists_cfg, config.model.seed,
                                         champion.validation.get("visit_maps", []))
    yields = yield_by_office(target, lists_cfg.yield_confidence, champion.calibrated, evidence)
    target = with_context(target, tables["workplaces"], tables["inspections"], data.planning_date)
    return target, yields, explained.get("listed")

"""What a run changed or assumed to fit the data it was given, in sentences for the run report.

Each function returns notes (plain English sentences); the flow logs them as warnings and the
run report lists them under "Adapted to the data", so a reader of a run on a foreign export
learns what was shrunk, dropped or assumed without reading the log.
"""

from __future__ import annotations

import pandas as pd

from features.catalog import REGISTRY_PERIOD_FEATURES, REGISTRY_SNAPSHOT_FEATURES
from features.splits import FittedPlan
from models.training.degenerate import describe_dropped
from models.training.planning import PlanningModel
from settings.errors import InputError
from settings.schema import SplitsConfig


def empty_table_notes(tables: dict[str, pd.DataFrame]) -> list[str]:
    """An empty registry stops the run; no inspections or no complaints is a valid input."""
    if tables["workplaces"].empty:
        raise InputError("workplaces: no clean rows; a run needs the registry of workplaces")
    notes = []
    if tables["complaints"].empty:
        notes.append("No complaints in the input: complaint features are zero or missing and "
                     "are dropped where they carry nothing.")
    if tables["inspections"].empty:
        notes.append("No inspections in the input: there are no labels to learn from.")
    return notes


def planning_history_note(train_as_of_dates: list[pd.Timestamp], splits: SplitsConfig) -> str:
    """Said when the planning model had to reach back past its configured training dates."""
    configured = splits.max_training_as_of_dates
    if len(train_as_of_dates) <= configured:
        return ""
    return (f"The planning model's {configured} newest training as-of dates held labels of one "
            f"class only, so it learned from all {len(train_as_of_dates)} dates from "
            f"{train_as_of_dates[0].date()} to {train_as_of_dates[-1].date()}.")


def dropped_columns_note(dropped: dict[str, str]) -> str:
    """The planning model's dropped feature columns (the backtest's are in training.csv)."""
    if not dropped:
        return ""
    return ("Feature columns dropped before fitting the planning model (they carry nothing in "
            f"its training set): {describe_dropped(dropped)}.")


def registry_snapshot_note(tables: dict[str, pd.DataFrame]) -> str:
    """Which registry fields inspections can change are today's values, and which (given
    `registry_periods`) are read as of each date."""
    periods = tables.get("registry_periods")
    if periods is None or periods.empty:
        return ("Registry fields that inspections can change are today's values at every past "
                "as-of date (the input has no registry history), so the backtest may credit "
                "them with what an inspection caused: "
                + ", ".join(sorted(REGISTRY_SNAPSHOT_FEATURES)) + ".")
    as_of_each_date = sorted(REGISTRY_PERIOD_FEATURES.values())
    still_today = sorted(REGISTRY_SNAPSHOT_FEATURES - set(as_of_each_date))
    return (f"Registry fields {', '.join(as_of_each_date)} are as of each date, from "
            f"registry_periods ({len(periods)} periods of {periods['workplace_id'].nunique()} "
            "workplaces; a workplace without a period before a date keeps today's value). "
            "Still today's values at every past as-of date: " + ", ".join(still_today) + ".")


def retraining_notes(data_notes: list[str], fitted: FittedPlan, planning_model: PlanningModel,
                     tables: dict[str, pd.DataFrame], splits: SplitsConfig) -> list[str]:
    """Every note of a retraining in report order: the data's, the split plan's, the planning
    model's and the registry's (empty ones left out)."""
    notes = [*data_notes, fitted.note,
             planning_history_note(planning_model.train_as_of_dates, splits),
             dropped_columns_note(planning_model.dropped_columns), registry_snapshot_note(tables)]
    return [note for note in notes if note]


def render_notes(notes: list[str]) -> str:
    """Markdown bullets for the run report and MLflow."""
    return "\n".join(f"- {note}" for note in notes if note) or "- Nothing: the data fit the plan."

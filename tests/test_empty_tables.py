"""No complaints or no inspections is valid input; no labels to learn from is one clear error."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from support import PRIOR, TRAINING
from worlds import make_clean_tables

from cleaning.contract import load_districts
from features.training_set import FeatureMemo, build_scoring_set, build_training_set
from models.training.calibration import fit_calibrated
from models.training.degenerate import drop_degenerate_columns
from reporting.adaptations import empty_table_notes, planning_history_note, retraining_notes
from settings.errors import InputError

AS_OF = [pd.Timestamp("2023-01-01"), pd.Timestamp("2023-04-01")]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return make_clean_tables(n_workplaces=400, seed=3)


def test_without_complaints_the_features_are_zero_or_missing_and_dropped(tables) -> None:
    empty = {**tables, "complaints": tables["complaints"].iloc[0:0]}
    assert empty_table_notes(empty) == [
        "No complaints in the input: complaint features are zero or missing and are dropped "
        "where they carry nothing."]
    X, y, _ = build_training_set(FeatureMemo(empty, load_districts()), AS_OF, 6,
                                 known_before=pd.Timestamp("2024-01-01"), **TRAINING)
    assert y.notna().all() and len(y) > 0
    _, dropped = drop_degenerate_columns(X)
    assert dropped["days_since_last_complaint"] == "all missing"
    assert dropped["complaints_all"] == "one value"


def test_without_inspections_features_are_numbers_and_training_stops_clearly(
        calibration: dict, tables) -> None:
    empty = {**tables, "inspections": tables["inspections"].iloc[0:0]}
    assert "No inspections in the input" in empty_table_notes(empty)[0]
    X, _ = build_scoring_set(empty, load_districts(), AS_OF[0], PRIOR)
    assert (X["infractions_all"] == 0).all() and X["area_fl_rate_district"].notna().all()
    X, y, meta = build_training_set(FeatureMemo(empty, load_districts()), AS_OF, 6,
                                    known_before=pd.Timestamp("2024-01-01"), **TRAINING)
    with pytest.raises(InputError, match=r"nothing to learn from: .* 0 positive\(s\) and 0 "):
        fit_calibrated(None, X, y, meta["as_of"], **calibration)


def test_labels_of_one_class_stop_with_the_counts(calibration: dict) -> None:
    X = pd.DataFrame({"x": np.arange(6.0)})
    as_of = pd.to_datetime(["2024-01-01"] * 3 + ["2024-04-01"] * 3)
    with pytest.raises(InputError, match=r"2024-01-01 \.\. 2024-04-01 hold 0 positive\(s\) "
                                         r"and 6 negative\(s\)"):
        fit_calibrated(None, X, np.zeros(6), as_of, **calibration)


def test_an_empty_registry_stops(tables) -> None:
    with pytest.raises(InputError, match="workplaces: no clean rows"):
        empty_table_notes({**tables, "workplaces": tables["workplaces"].iloc[0:0]})


def test_a_planning_model_that_reached_back_says_so(shipped_config) -> None:
    splits = shipped_config.splits.model_copy(update={"max_training_as_of_dates": 4})
    dates = list(pd.date_range("2021-01-01", periods=8, freq="QS"))
    assert planning_history_note(dates[-4:], splits) == ""
    assert planning_history_note(dates, splits) == (
        "The planning model's 4 newest training as-of dates held labels of one class only, so "
        "it learned from all 8 dates from 2021-01-01 to 2022-10-01.")


def test_a_retraining_lists_its_notes_in_report_order_without_empty_ones(tables,
                                                                          shipped_config) -> None:
    fitted = SimpleNamespace(note="The split plan was shrunk.")
    planning_model = SimpleNamespace(train_as_of_dates=AS_OF, dropped_columns={})
    notes = retraining_notes(["No complaints."], fitted, planning_model, tables,
                             shipped_config.splits)
    assert notes[:2] == ["No complaints.", "The split plan was shrunk."]
    assert len(notes) == 3 and notes[2].startswith("Registry fields that inspections can change")

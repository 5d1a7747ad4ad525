"""Scenario vigia_lists: Vigía-style lists inside the demo world, logged in the list-log format."""

from __future__ import annotations

import numpy as np
import pandas as pd
from support import DEFECT_SHARE, SHIPPED

from demo_world.generate import generate_world
from demo_world.listed_operations import largest_remainder
from demo_world.writing import write_world
from models.offpolicy.list_log import LOG_COLUMNS, link_outcomes, read_list_log
from models.targeting.lists import EXPLORATION, MODEL


def test_lists_are_logged_and_ordered_as_planned_visits(tmp_path) -> None:
    world = generate_world(3000, 2, "2018-07-01", "2026-06-30",
                           defect_share=DEFECT_SHARE, scenario="vigia_lists")
    knobs = world.scenario["knobs"]
    write_world(world, tmp_path)
    log = read_list_log(tmp_path / "list_log.parquet")
    assert list(log.columns) == LOG_COLUMNS
    assert log["planning_date"].nunique() == knobs["list_periods"]
    assert set(log["selection"]) == {MODEL, EXPLORATION}
    drawn = log[log["selection"] == EXPLORATION]["selection_probability"]
    assert drawn.between(0, 1, inclusive="right").all() and (drawn < 1).any()
    assert (log.loc[log["selection"] == MODEL, "selection_probability"] == 1.0).all()
    inspections = world.inspections.assign(
        ordered_on=lambda f: pd.to_datetime(f["ordered_on"], errors="coerce"),
        closed_on=lambda f: pd.to_datetime(f["closed_on"], errors="coerce"),
        forced_labour_found=lambda f: f["forced_labour_found"].astype(str).str.lower() == "true")
    linked = link_outcomes(log, inspections, pd.Timestamp("2026-07-01"), "forced_labour_found",
                           SHIPPED.labels.min_indicators)
    # every listed workplace got an order in its list's period (a few rows carry defects)
    assert linked["inspected"].mean() > 0.97
    planned = inspections[inspections["origin"] == "planned"]
    assert planned["ordered_on"].ge(log["planning_date"].min()).sum() >= len(log) * 0.97


def test_baseline_writes_no_list_log(tmp_path) -> None:
    world = generate_world(500, 2, "2018-07-01", "2026-06-30", defect_share=DEFECT_SHARE)
    assert world.list_log is None
    write_world(world, tmp_path)
    assert not (tmp_path / "list_log.parquet").exists()


def test_largest_remainder_keeps_the_total() -> None:
    slots = largest_remainder(pd.Series([5, 3, 2], index=list("abc")), 7)
    assert slots.sum() == 7 and slots.tolist() == [4, 2, 1]
    assert np.all(largest_remainder(pd.Series([1, 1]), 0) == 0)

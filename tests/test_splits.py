"""Split plan: the worked example, no overlap of training label windows with test windows."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from features.splits import plot_split_plan, production_train_as_of_dates, split_plan
from pipelines.config import load_config

FIRST, LAST = pd.Timestamp("2018-07-01"), pd.Timestamp("2026-06-30")


def test_worked_example_of_the_module_docstring() -> None:
    config = load_config()
    example = {**config["splits"], "test_splits": 4, "training_as_of_dates": 8}
    plan = split_plan(example, FIRST, LAST, config["labels"]["label_timespan_months"])
    assert [s.test_as_of for s in plan] == pd.to_datetime(
        ["2024-10-01", "2025-01-01", "2025-04-01", "2025-07-01"]
    ).tolist()
    first = plan[0].train_as_of_dates
    assert first[0] == pd.Timestamp("2022-01-01") and first[-1] == pd.Timestamp("2023-10-01")
    assert len(first) == 8
    assert all(s.label_timespan_months == 6 for s in plan)


@pytest.mark.parametrize(
    "span,freq,tests,history,burn_in,lag",
    list(itertools.product([1, 3, 6, 12], [1, 2, 3, 6], [1, 4], [1, 5, 12], [0, 24], [0, 6])),
)
def test_no_training_label_window_overlaps_its_test_window(
    span, freq, tests, history, burn_in, lag
):
    config = {"update_frequency_months": freq, "test_splits": tests,
              "training_as_of_dates": history, "burn_in_months": burn_in,
              "outcome_lag_months": lag}
    plan = split_plan(config, FIRST, LAST, span)
    data_end = LAST + pd.Timedelta(days=1)
    assert plan[-1].test_as_of + pd.DateOffset(months=span + lag) <= data_end
    for split in plan:
        assert 1 <= len(split.train_as_of_dates) <= history
        assert split.train_as_of_dates == sorted(split.train_as_of_dates)
        for t in split.train_as_of_dates:
            assert t + pd.DateOffset(months=span + lag) <= split.test_as_of
            assert t >= FIRST + pd.DateOffset(months=burn_in)


def test_production_plan_uses_newest_windows_ending_by_the_planning_date() -> None:
    dates = production_train_as_of_dates({"training_as_of_dates": 3}, pd.Timestamp("2026-07-01"),
                                         FIRST, 6)
    assert dates == pd.to_datetime(["2025-07-01", "2025-10-01", "2026-01-01"]).tolist()


def test_too_short_history_is_an_error() -> None:
    with pytest.raises(ValueError):
        split_plan({"burn_in_months": 60}, FIRST, pd.Timestamp("2020-12-31"), 6)


def test_plot_writes_a_png(tmp_path) -> None:
    plan = split_plan({}, FIRST, LAST, 6)
    path = plot_split_plan(plan, tmp_path / "plan.png")
    assert path.read_bytes()[:4] == b"\x89PNG"

"""Split plan: the worked example, no overlap of training label windows with test windows."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from features.splits import (
    every_train_as_of_date,
    fit_split_plan,
    production_train_as_of_dates,
    split_plan,
)
from reporting.plots import plot_split_plan
from settings.errors import InputError
from settings.loader import load_config, with_overrides

FIRST, LAST = pd.Timestamp("2018-07-01"), pd.Timestamp("2026-06-30")
SHIPPED = load_config()


def splits(**values):
    """The shipped `splits:` section with `values` overriding it (validated like a user file)."""
    return with_overrides(SHIPPED, {"splits": values}).splits


def test_worked_example_of_the_module_docstring() -> None:
    example = splits(test_splits=4, max_training_as_of_dates=8)
    plan = split_plan(example, FIRST, LAST, SHIPPED.labels.label_timespan_months)
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
    config = splits(update_frequency_months=freq, test_splits=tests,
                    max_training_as_of_dates=history, burn_in_months=burn_in,
                    outcome_lag_months=lag)
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
    dates = production_train_as_of_dates(
        splits(max_training_as_of_dates=3, outcome_lag_months=0), pd.Timestamp("2026-07-01"),
        FIRST, 6)
    assert dates == pd.to_datetime(["2025-07-01", "2025-10-01", "2026-01-01"]).tolist()


def test_too_short_history_is_an_error() -> None:
    with pytest.raises(ValueError):
        split_plan(splits(burn_in_months=60), FIRST, pd.Timestamp("2020-12-31"), 6)


def test_plot_writes_a_png(tmp_path) -> None:
    plan = split_plan(SHIPPED.splits, FIRST, LAST, 6)
    path = plot_split_plan(plan, tmp_path / "plan.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_plan_that_fits_is_left_as_configured() -> None:
    fitted = fit_split_plan(SHIPPED.splits, FIRST, LAST, 6)
    assert fitted.changes == [] and fitted.note == ""
    assert fitted.splits == split_plan(SHIPPED.splits, FIRST, LAST, 6)


def test_a_short_history_shrinks_tests_then_burn_in() -> None:
    config = SHIPPED.splits
    first = pd.Timestamp("2023-01-01")
    fitted = fit_split_plan(config, first, LAST, 6)
    assert fitted.settings.test_splits == 2
    assert fitted.settings.max_training_as_of_dates == config.max_training_as_of_dates  # a cap
    assert 3 <= fitted.settings.burn_in_months < 24
    assert fitted.note.startswith("Split plan shrunk to fit the history: test_splits 6 -> 2, "
                                  "burn_in_months 24 -> ")
    assert all(len(s.train_as_of_dates) >= 2 for s in fitted.splits)
    for split in fitted.splits:
        assert split.train_as_of_dates[0] >= first + pd.DateOffset(
            months=fitted.settings.burn_in_months)
    # Test windows shrink first: a longer history keeps the configured burn-in.
    longer = fit_split_plan(config, pd.Timestamp("2021-07-01"), LAST, 6)
    assert longer.settings.test_splits == 4 and longer.settings.burn_in_months == 24
    assert all(len(s.train_as_of_dates) >= 2 for s in longer.splits)
    production = fitted.production_splits_config(config)
    assert production.max_training_as_of_dates == config.max_training_as_of_dates
    assert production.burn_in_months == fitted.settings.burn_in_months


def test_training_dates_are_a_cap_not_a_requirement() -> None:
    """The shipped 20 training dates (five years) do not fit the demo world's eight years of
    history in every split; the plan keeps its six test windows with fewer dates each."""
    config = SHIPPED.splits
    fitted = fit_split_plan(config, FIRST, LAST, 6)
    assert fitted.changes == [] and len(fitted.splits) == config.test_splits == 6
    counts = [len(s.train_as_of_dates) for s in fitted.splits]
    assert 2 <= min(counts) and max(counts) < config.max_training_as_of_dates


def test_below_the_floor_the_message_names_history_needed_and_given() -> None:
    with pytest.raises(InputError, match=r"history too short: records from 2024-07-01 to "
                       r"2026-06-30 \(24 months\); .* needs about 33 months"):
        fit_split_plan(SHIPPED.splits, pd.Timestamp("2024-07-01"), LAST, 6)
    floor = splits(floor={"burn_in_months": 12})
    with pytest.raises(InputError, match="needs about 42 months"):
        fit_split_plan(floor, pd.Timestamp("2023-07-01"), LAST, 6)


def test_every_training_date_the_burn_in_allows_for_a_planning_model() -> None:
    config = splits(max_training_as_of_dates=4, outcome_lag_months=6, burn_in_months=24)
    dates = every_train_as_of_date(config, pd.Timestamp("2026-04-01"), FIRST, 6)
    assert dates[0] == pd.Timestamp("2020-07-01") and dates[-1] == pd.Timestamp("2025-04-01")
    assert len(dates) == 20
    assert dates[-4:] == production_train_as_of_dates(config, pd.Timestamp("2026-04-01"),
                                                      FIRST, 6)

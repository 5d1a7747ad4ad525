"""The split plan: which as-of dates train and which test, so no label window crosses a test date.

Worked example (config/default.yaml, data from 2018-07-01 to 2026-06-30)::

    labels:
      label_timespan_months: 6     # a label at as-of date t looks at inspections in [t, t + 6m)
    splits:
      update_frequency_months: 3   # as-of dates every 3 months (a new list each quarter)
      test_splits: 4               # four held-out test as-of dates at the end of the history
      max_training_as_of_dates: 8  # training history: up to 8 as-of dates stacked per split
                                   # (the shipped default uses 6 and 20; the example is shorter)
      burn_in_months: 24           # no as-of date before 2020-07-01: features need a past
      outcome_lag_months: 6        # a label window ends 6 months before what is known, so
                                   # its inspections had time to close

The last test as-of date must leave a full label window plus the outcome lag before the data
ends, so it is 2025-07-01 (window [2025-07-01, 2026-01-01), outcomes closing until 2026-06-30);
the earlier ones step back by the update frequency: 2024-10-01, 2025-01-01, 2025-04-01,
2025-07-01. For the test as-of date 2024-10-01 the newest training as-of date t must satisfy
t + 6 months + 6 months <= 2024-10-01, so it is 2023-10-01, and the training history steps back
every 3 months: 2022-01-01 ... 2023-10-01 (8 dates). No training label window overlaps the test
window, and the model for 2024-10-01 is also trained only on labels whose outcomes closed before
2024-10-01 (`known_before`, see `features.training_set`).

The production plan for a planning date T is the same rule with T as the test as-of date:
`production_train_as_of_dates`.

`max_training_as_of_dates` is a cap: a split trains on at most that many dates, fewer when the
burn-in cuts them off (the shipped 20 dates are five years; the demo world's splits get 12-16).
A plan fits the history when every configured test split gets at least
`splits.floor.min_training_as_of_dates` training dates, i.e. a history of about burn-in +
(floor training dates - 1) x frequency + 2 x (label timespan + outcome lag) + (test splits - 1) x
frequency. A shorter history is met by `fit_split_plan`, which shrinks the plan one step at a
time in this order: fewer test splits, then a shorter burn-in (by the update frequency), each
down to its floor (`splits.floor`). Label timespan and outcome lag are never shortened: they keep
the labels honest. Below the floor the run stops with the history needed and the history given.
The planning model needs no test windows: it keeps the configured number of training dates,
as many as the (shrunk) burn-in allows (`FittedPlan.production_splits_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from settings.errors import InputError
from settings.schema import SplitsConfig

# What `fit_split_plan` shrinks, in order (max_training_as_of_dates is a cap, so it is not
# shrunk: floor.min_training_as_of_dates is the fewest training dates a test split may have).
SHRINK_ORDER = ("test_splits", "burn_in_months")


@dataclass(frozen=True)
class Split:
    """One test as-of date and the training as-of dates whose labels end by it."""

    train_as_of_dates: list[pd.Timestamp]
    test_as_of: pd.Timestamp
    label_timespan_months: int


def _months(n: int) -> pd.DateOffset:
    return pd.DateOffset(months=n)


def _month_floor(date: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(date).to_period("M").to_timestamp()


@dataclass(frozen=True)
class FittedPlan:
    """The split plan that fits the history, the settings behind it and what was shrunk."""

    splits: list[Split]
    settings: SplitsConfig
    changes: list[str] = field(default_factory=list)  # "test_splits 4 -> 2", ..., why

    @property
    def note(self) -> str:
        """One sentence for the log and the run report; empty when nothing was shrunk."""
        if not self.changes:
            return ""
        return "Split plan shrunk to fit the history: " + ", ".join(self.changes[:-1]) + (
            f" {self.changes[-1]}.")

    def production_splits_config(self, splits: SplitsConfig) -> SplitsConfig:
        """`splits` for the planning model: the shrunk burn-in, the configured number of
        training dates (it needs no test windows, so it may use every date the burn-in allows)."""
        return splits.model_copy(update={"burn_in_months": self.settings.burn_in_months})


def check_splits(splits: SplitsConfig, label_timespan_months: int) -> None:
    """Counts and spans at least 1 (burn-in and outcome lag at least 0)."""
    values = {"label_timespan_months": label_timespan_months,
              **splits.model_dump(exclude={"floor"})}
    for key, value in values.items():
        if value < (0 if key in ("burn_in_months", "outcome_lag_months") else 1):
            raise InputError(f"splits: {key} must be positive, got {value}")


def production_train_as_of_dates(
    splits: SplitsConfig,
    planning_date: pd.Timestamp,
    first_date: pd.Timestamp,
    label_timespan_months: int,
) -> list[pd.Timestamp]:
    """Training as-of dates for planning date T: the newest label windows that end by T.

    The newest is T - label timespan - outcome lag (the window's outcomes had the lag to close
    before T); earlier ones step back by the update frequency, at most
    `max_training_as_of_dates` of them, none before `first_date` + burn-in.
    """
    check_splits(splits, label_timespan_months)
    newest = pd.Timestamp(planning_date) - _months(
        label_horizon_months(splits, label_timespan_months))
    earliest = pd.Timestamp(first_date) + _months(splits.burn_in_months)
    dates = [newest - _months(k * splits.update_frequency_months)
             for k in range(splits.max_training_as_of_dates)]
    return sorted(d for d in dates if d >= earliest)


def every_train_as_of_date(
    splits: SplitsConfig,
    planning_date: pd.Timestamp,
    first_date: pd.Timestamp,
    label_timespan_months: int,
) -> list[pd.Timestamp]:
    """`production_train_as_of_dates` without the count limit: every date the burn-in allows."""
    span = _months_between(pd.Timestamp(first_date), pd.Timestamp(planning_date))
    unlimited = splits.model_copy(
        update={"max_training_as_of_dates": span // splits.update_frequency_months + 1})
    return production_train_as_of_dates(unlimited, planning_date, first_date,
                                        label_timespan_months)


def split_plan(
    splits: SplitsConfig,
    first_date: pd.Timestamp,
    last_date: pd.Timestamp,
    label_timespan_months: int,
) -> list[Split]:
    """Test as-of dates at the end of the history, each with its training as-of dates.

    `last_date` is the data's last day (inclusive): the last test as-of date is the latest
    month start whose label window ends `outcome_lag_months` before the day after it, so that
    the inspections of every test window had time to close. Splits without any training as-of
    date after burn-in are dropped; no split at all is an error (too little history).
    """
    check_splits(splits, label_timespan_months)
    span = label_timespan_months
    data_end = pd.Timestamp(last_date).normalize() + pd.Timedelta(days=1)
    last_test = _month_floor(data_end - _months(label_horizon_months(splits, span)))
    tests = sorted(
        last_test - _months(k * splits.update_frequency_months)
        for k in range(splits.test_splits)
    )
    plan = []
    for test_as_of in tests:
        train = production_train_as_of_dates(splits, test_as_of, first_date, span)
        if train:
            plan.append(Split(train_as_of_dates=train, test_as_of=test_as_of,
                              label_timespan_months=span))
    if not plan:
        raise InputError(
            f"no split fits between {first_date.date()} and {last_date.date()} with "
            f"{splits.model_dump(exclude={'floor'})}: history too short"
        )
    return plan


def label_horizon_months(splits: SplitsConfig, label_timespan_months: int) -> int:
    """Months from an as-of date until its labels are known: the label window, then the outcome
    lag its inspections get to close."""
    return label_timespan_months + splits.outcome_lag_months


def months_needed(splits: SplitsConfig, label_timespan_months: int) -> int:
    """History (months) a plan needs: burn-in, training dates, test dates, two label windows.

    A test split is counted with the fewest training dates it may have (the floor)."""
    s = splits
    return (s.burn_in_months + 2 * label_horizon_months(s, label_timespan_months)
            + (_fewest_training_dates(s) + s.test_splits - 2) * s.update_frequency_months)


def _months_between(first: pd.Timestamp, last: pd.Timestamp) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _fewest_training_dates(splits: SplitsConfig) -> int:
    """The fewest training as-of dates a test split may have (floor, at most the cap)."""
    return min(splits.floor.min_training_as_of_dates, splits.max_training_as_of_dates)


def _fits(splits: SplitsConfig, label_timespan_months: int, first_date: pd.Timestamp,
          last_date: pd.Timestamp) -> bool:
    """Every configured test split is there with at least the fewest training dates allowed."""
    try:
        plan = split_plan(splits, first_date, last_date, label_timespan_months)
    except InputError:
        return False
    fewest = _fewest_training_dates(splits)
    return len(plan) == splits.test_splits and all(
        len(split.train_as_of_dates) >= fewest for split in plan
    )


def _shrunk_once(splits: SplitsConfig) -> SplitsConfig | None:
    """`splits` with the first setting above its floor (SHRINK_ORDER) shrunk; None at the floor."""
    for key in SHRINK_ORDER:
        value = getattr(splits, key)
        lowest = min(getattr(splits.floor, key), value)
        if value > lowest:
            step = splits.update_frequency_months if key == "burn_in_months" else 1
            return splits.model_copy(update={key: max(lowest, value - step)})
    return None


def fit_split_plan(
    splits: SplitsConfig,
    first_date: pd.Timestamp,
    last_date: pd.Timestamp,
    label_timespan_months: int,
) -> FittedPlan:
    """The configured plan when the history holds it, else the plan shrunk until it fits.

    Raises `InputError` naming the history needed (at the floor) and the history given.
    """
    check_splits(splits, label_timespan_months)
    span, settings = label_timespan_months, splits
    first, last = pd.Timestamp(first_date), pd.Timestamp(last_date)
    while not _fits(settings, span, first, last):
        shrunk = _shrunk_once(settings)
        if shrunk is None:
            raise InputError(
                f"history too short: records from {first.date()} to {last.date()} "
                f"({_months_between(first, last)} months); even the smallest split plan "
                f"({', '.join(f'{k}={getattr(settings, k)}' for k in SHRINK_ORDER)}, at least "
                f"{_fewest_training_dates(settings)} training as-of dates, label timespan "
                f"{span} + outcome lag {settings.outcome_lag_months} months) needs about "
                f"{months_needed(settings, span)} months"
            )
        settings = shrunk
    plan = split_plan(settings, first, last, span)
    changes = [f"{key} {getattr(splits, key)} -> {getattr(settings, key)}"
               for key in SHRINK_ORDER if getattr(settings, key) != getattr(splits, key)]
    if changes:
        changes.append(
            f"because the history ({first.date()} to {last.date()}, {_months_between(first, last)}"
            f" months) is shorter than the configured plan needs (about "
            f"{months_needed(splits, span)} months)"
        )
    return FittedPlan(plan, settings, changes)



"""The split plan: which as-of dates train and which test, so no label window crosses a test date.

Worked example (config/default.yaml, data from 2018-07-01 to 2026-06-30)::

    labels:
      label_timespan_months: 6     # a label at as-of date t looks at inspections in [t, t + 6m)
    splits:
      update_frequency_months: 3   # as-of dates every 3 months (a new list each quarter)
      test_splits: 4               # four held-out test as-of dates at the end of the history
      training_as_of_dates: 8      # training history: up to 8 as-of dates stacked per split
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

`training_as_of_dates` is a cap: a split trains on at most that many dates, fewer when the
burn-in cuts them off (the shipped 20 dates are five years; the demo world's splits get 12-16).
A plan fits the history when every configured test split gets at least
`splits.floor.training_as_of_dates` training dates, i.e. a history of about burn-in +
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
from pathlib import Path

import pandas as pd

from features.errors import InputError

DEFAULT_LABEL_TIMESPAN_MONTHS = 6
DEFAULT_UPDATE_FREQUENCY_MONTHS = 3
DEFAULT_TEST_SPLITS = 4
DEFAULT_TRAINING_AS_OF_DATES = 8
DEFAULT_BURN_IN_MONTHS = 24
DEFAULT_OUTCOME_LAG_MONTHS = 0
DEFAULT_FLOOR = {"test_splits": 2, "training_as_of_dates": 2, "burn_in_months": 3}
# What `fit_split_plan` shrinks, in order (training_as_of_dates is a cap, so it is not shrunk:
# its floor is the fewest training dates a test split may have).
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
    settings: dict[str, int]
    changes: list[str] = field(default_factory=list)  # "test_splits 4 -> 2", ..., why

    @property
    def note(self) -> str:
        """One sentence for the log and the run report; empty when nothing was shrunk."""
        if not self.changes:
            return ""
        return "Split plan shrunk to fit the history: " + ", ".join(self.changes[:-1]) + (
            f" {self.changes[-1]}.")

    def production_splits_config(self, splits_config: dict) -> dict:
        """`splits_config` for the planning model: the shrunk burn-in, the configured number of
        training dates (it needs no test windows, so it may use every date the burn-in allows)."""
        return {**splits_config, "burn_in_months": self.settings["burn_in_months"]}


def split_settings(splits_config: dict, label_timespan_months: int | None) -> dict[str, int]:
    """Config values with defaults; the label timespan comes from `labels:` when passed."""
    span = label_timespan_months or splits_config.get(
        "label_timespan_months", DEFAULT_LABEL_TIMESPAN_MONTHS
    )
    settings = {
        "label_timespan_months": int(span),
        "update_frequency_months": int(
            splits_config.get("update_frequency_months", DEFAULT_UPDATE_FREQUENCY_MONTHS)
        ),
        "test_splits": int(splits_config.get("test_splits", DEFAULT_TEST_SPLITS)),
        "training_as_of_dates": int(
            splits_config.get("training_as_of_dates", DEFAULT_TRAINING_AS_OF_DATES)
        ),
        "burn_in_months": int(splits_config.get("burn_in_months", DEFAULT_BURN_IN_MONTHS)),
        "outcome_lag_months": int(
            splits_config.get("outcome_lag_months", DEFAULT_OUTCOME_LAG_MONTHS)
        ),
    }
    for key, value in settings.items():
        if value < (0 if key in ("burn_in_months", "outcome_lag_months") else 1):
            raise InputError(f"splits: {key} must be positive, got {value}")
    return settings


def production_train_as_of_dates(
    splits_config: dict,
    planning_date: pd.Timestamp,
    first_date: pd.Timestamp,
    label_timespan_months: int | None = None,
) -> list[pd.Timestamp]:
    """Training as-of dates for planning date T: the newest label windows that end by T.

    The newest is T - label timespan - outcome lag (the window's outcomes had the lag to close
    before T); earlier ones step back by the update frequency, at most `training_as_of_dates`
    of them, none before `first_date` + burn-in.
    """
    s = split_settings(splits_config, label_timespan_months)
    newest = pd.Timestamp(planning_date) - _months(
        s["label_timespan_months"] + s["outcome_lag_months"]
    )
    earliest = pd.Timestamp(first_date) + _months(s["burn_in_months"])
    dates = [newest - _months(k * s["update_frequency_months"])
             for k in range(s["training_as_of_dates"])]
    return sorted(d for d in dates if d >= earliest)


def every_train_as_of_date(
    splits_config: dict,
    planning_date: pd.Timestamp,
    first_date: pd.Timestamp,
    label_timespan_months: int | None = None,
) -> list[pd.Timestamp]:
    """`production_train_as_of_dates` without the count limit: every date the burn-in allows."""
    s = split_settings(splits_config, label_timespan_months)
    span = _months_between(pd.Timestamp(first_date), pd.Timestamp(planning_date))
    unlimited = {**splits_config,
                 "training_as_of_dates": span // s["update_frequency_months"] + 1}
    return production_train_as_of_dates(unlimited, planning_date, first_date,
                                        label_timespan_months)


def split_plan(
    splits_config: dict,
    first_date: pd.Timestamp,
    last_date: pd.Timestamp,
    label_timespan_months: int | None = None,
) -> list[Split]:
    """Test as-of dates at the end of the history, each with its training as-of dates.

    `last_date` is the data's last day (inclusive): the last test as-of date is the latest
    month start whose label window ends `outcome_lag_months` before the day after it, so that
    the inspections of every test window had time to close. Splits without any training as-of
    date after burn-in are dropped; no split at all is an error (too little history).
    """
    s = split_settings(splits_config, label_timespan_months)
    span = s["label_timespan_months"]
    data_end = pd.Timestamp(last_date).normalize() + pd.Timedelta(days=1)
    last_test = _month_floor(data_end - _months(span + s["outcome_lag_months"]))
    tests = sorted(
        last_test - _months(k * s["update_frequency_months"]) for k in range(s["test_splits"])
    )
    plan = []
    for test_as_of in tests:
        train = production_train_as_of_dates(splits_config, test_as_of, first_date, span)
        if train:
            plan.append(Split(train_as_of_dates=train, test_as_of=test_as_of,
                              label_timespan_months=span))
    if not plan:
        raise InputError(
            f"no split fits between {first_date.date()} and {last_date.date()} with {s}: "
            "history too short"
        )
    return plan


def months_needed(settings: dict[str, int]) -> int:
    """History (months) a plan needs: burn-in, training dates, test dates, two label windows."""
    s = settings
    return (s["burn_in_months"] + 2 * (s["label_timespan_months"] + s["outcome_lag_months"])
            + (s["training_as_of_dates"] + s["test_splits"] - 2) * s["update_frequency_months"])


def _months_between(first: pd.Timestamp, last: pd.Timestamp) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _fewest_training_dates(settings: dict[str, int], floor: dict[str, int]) -> int:
    """The fewest training as-of dates a test split may have (floor, at most the cap)."""
    lowest = int(floor.get("training_as_of_dates", DEFAULT_FLOOR["training_as_of_dates"]))
    return min(lowest, settings["training_as_of_dates"])


def _fits(settings: dict[str, int], floor: dict[str, int], first_date: pd.Timestamp,
          last_date: pd.Timestamp) -> bool:
    """Every configured test split is there with at least the fewest training dates allowed."""
    try:
        plan = split_plan(settings, first_date, last_date, settings["label_timespan_months"])
    except InputError:
        return False
    fewest = _fewest_training_dates(settings, floor)
    return len(plan) == settings["test_splits"] and all(
        len(split.train_as_of_dates) >= fewest for split in plan
    )


def _shrink_once(settings: dict[str, int], floor: dict[str, int]) -> str | None:
    """Shrink the first setting above its floor (SHRINK_ORDER); its name, None at the floor."""
    for key in SHRINK_ORDER:
        lowest = min(int(floor.get(key, DEFAULT_FLOOR[key])), settings[key])
        if settings[key] > lowest:
            step = settings["update_frequency_months"] if key == "burn_in_months" else 1
            settings[key] = max(lowest, settings[key] - step)
            return key
    return None


def fit_split_plan(
    splits_config: dict,
    first_date: pd.Timestamp,
    last_date: pd.Timestamp,
    label_timespan_months: int | None = None,
) -> FittedPlan:
    """The configured plan when the history holds it, else the plan shrunk until it fits.

    Raises `InputError` naming the history needed (at the floor) and the history given.
    """
    configured = split_settings(splits_config, label_timespan_months)
    settings = dict(configured)
    floor = splits_config.get("floor") or {}
    first, last = pd.Timestamp(first_date), pd.Timestamp(last_date)

    def needed(values: dict[str, int]) -> int:
        return months_needed({**values,
                              "training_as_of_dates": _fewest_training_dates(values, floor)})

    while not _fits(settings, floor, first, last):
        if _shrink_once(settings, floor) is None:
            raise InputError(
                f"history too short: records from {first.date()} to {last.date()} "
                f"({_months_between(first, last)} months); even the smallest split plan "
                f"({', '.join(f'{k}={settings[k]}' for k in SHRINK_ORDER)}, at least "
                f"{_fewest_training_dates(settings, floor)} training as-of dates, label timespan "
                f"{settings['label_timespan_months']} + outcome lag "
                f"{settings['outcome_lag_months']} months) needs about {needed(settings)} months"
            )
    plan = split_plan(settings, first, last, settings["label_timespan_months"])
    changes = [f"{key} {configured[key]} -> {settings[key]}"
               for key in SHRINK_ORDER if settings[key] != configured[key]]
    if changes:
        changes.append(
            f"because the history ({first.date()} to {last.date()}, {_months_between(first, last)}"
            f" months) is shorter than the configured plan needs (about "
            f"{needed(configured)} months)"
        )
    return FittedPlan(plan, settings, changes)


def plot_split_plan(splits: list[Split], path: str | Path) -> Path:
    """Draw each split's training label windows and its test window (PNG via matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 1 + 0.6 * len(splits)))
    for row, split in enumerate(splits):
        for k, t in enumerate(split.train_as_of_dates):
            end = t + _months(split.label_timespan_months)
            ax.plot([t, end], [row - 0.15 + 0.3 * k / max(1, len(split.train_as_of_dates)),
                               row - 0.15 + 0.3 * k / max(1, len(split.train_as_of_dates))],
                     color="tab:blue", linewidth=2, label="training label window" if
                     row == 0 and k == 0 else None)
        test_end = split.test_as_of + _months(split.label_timespan_months)
        ax.plot([split.test_as_of, test_end], [row + 0.25, row + 0.25], color="tab:red",
                linewidth=5, label="test label window" if row == 0 else None)
        ax.axvline(split.test_as_of, color="tab:red", linewidth=0.5, linestyle=":")
    ax.set_yticks(range(len(splits)), [f"test {s.test_as_of:%Y-%m-%d}" for s in splits])
    ax.set_xlabel("as-of date and label window")
    ax.set_title("Split plan: training label windows end by the test as-of date")
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out

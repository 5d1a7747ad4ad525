"""The simulation's month grid: burn-in months first, then the observed window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BURN_IN_MONTHS = 36  # simulated before the window so spells have realistic start dates


@dataclass(frozen=True)
class Calendar:
    """Month grid: burn-in months first, then the observed window [start, end]."""

    start: pd.Timestamp
    end: pd.Timestamp
    month_starts: np.ndarray  # datetime64[D], burn-in + window
    burn_in: int

    @property
    def n_months(self) -> int:
        return len(self.month_starts)

    def days_in_month(self, t: np.ndarray | int) -> np.ndarray:
        nxt = self.month_starts[t].astype("datetime64[M]") + 1
        return (nxt.astype("datetime64[D]") - self.month_starts[t]).astype(int)

    def month_of(self, dates: np.ndarray) -> np.ndarray:
        """Index in the grid of the month containing each date."""
        first = self.month_starts[0].astype("datetime64[M]")
        return (dates.astype("datetime64[M]") - first).astype(int)

    def random_days(self, rng: np.random.Generator, t: int, n: int) -> np.ndarray:
        """`n` days drawn uniformly within month t."""
        return self.month_starts[t] + rng.integers(0, self.days_in_month(t), n).astype(
            "timedelta64[D]")

    def window_years(self) -> np.ndarray:
        """The calendar years the observed window touches."""
        window = self.month_starts[self.burn_in:]
        return np.unique(window.astype("datetime64[Y]").astype(int) + 1970)


def month_grid(start: str, end: str) -> Calendar:
    """The grid from BURN_IN_MONTHS before the month of `start` to the month of `end`."""
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    first = np.datetime64(start_ts.to_period("M").start_time.date(), "M") - BURN_IN_MONTHS
    last = np.datetime64(end_ts.to_period("M").start_time.date(), "M")
    months = np.arange(first, last + 1).astype("datetime64[D]")
    return Calendar(start_ts, end_ts, months, BURN_IN_MONTHS)

"""Vigía-style lists inside the demo world: the exploration loop, closed against the truth.

In scenario `vigia_lists`, for the last `list_periods` quarters a list drawn the way Vigía draws
it (models/targeting.office_list) orders `list_share` times as many visits as all origins
ordered in the quarter before the first list (planned orders outside the list shrink by that
share):
per office, the highest-scored workplaces ("modelo") and a 10% exploration draw with exact,
logged inclusion probabilities ("exploracion"). The score is a noisy view of each workplace's
hidden risk (a model of moderate quality, `list_score_noise` on the log scale). Every listed
workplace gets a planned order during the list's quarter. The lists are written in the list-log
format (models/offpolicy/list_log.py) as `list_log.parquet` beside the public tables, so a run
reads them
as it reads its own log, and evaluation can compare what the off-policy estimates say with the
truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.offpolicy.list_log import list_log_entries
from models.targeting.lists import office_list, office_of

LIST_PERIOD_MONTHS = 3
EXPLORATION_SHARE = 0.10
UNIFORM_WEIGHT = 0.5
MODEL_VERSION = "demo-world"


def largest_remainder(sizes: pd.Series, total: int) -> pd.Series:
    """`total` slots shared in proportion to `sizes`, whole numbers summing to `total`."""
    exact = sizes / sizes.sum() * total
    slots = np.floor(exact).astype(int)
    order = (exact - slots).sort_values(ascending=False, kind="stable").index
    slots[order[:total - int(slots.sum())]] += 1
    return slots


class ListedOperations:
    """The lists of the last quarters of a world and the planned visits they order."""

    def __init__(self, workplace_ids: np.ndarray, ubigeo: np.ndarray, n_months: int,
                 periods: int, share: float, score_noise: float) -> None:
        self.ids = np.asarray(workplace_ids).astype(str)
        self.office = office_of(pd.Series(np.asarray(ubigeo).astype(str))).to_numpy()
        self.first_month = n_months - LIST_PERIOD_MONTHS * periods
        self.share, self.noise = share, score_noise
        self.last_month = n_months - 1
        self.visit_wp = np.zeros(0, int)
        self.visit_month = np.zeros(0, int)
        self.logs: list[pd.DataFrame] = []
        self.capacity: int | None = None

    def planned_factor(self, t: int) -> float:
        """Planned orders outside the lists shrink by the share the lists take."""
        return 1.0 - self.share if t >= self.first_month else 1.0

    def draw(self, rng: np.random.Generator, t: int, month_start: np.datetime64,
             risk: np.ndarray, active: np.ndarray, orders_last_quarter: int) -> None:
        """At a quarter's first month: the lists of every office and their visits' months."""
        if t < self.first_month or (t - self.first_month) % LIST_PERIOD_MONTHS:
            return
        if self.capacity is None:  # fixed at the first list: list visits must not feed it
            self.capacity = round(self.share * orders_last_quarter)
        capacity = self.capacity
        score = risk * np.exp(self.noise * rng.standard_normal(len(risk)))
        units = pd.DataFrame({"index": np.flatnonzero(active)})
        units["workplace_id"] = self.ids[units["index"]]
        units["score"] = score[units["index"]]
        units["office"] = self.office[units["index"]]
        units = units.sort_values(["score", "workplace_id"], ascending=[False, True])
        offices = units.groupby("office", sort=True)
        slots_by_office = largest_remainder(offices.size(), capacity)
        lists = []
        for office, group in offices:
            slots = int(slots_by_office[office])
            if slots:  # below 5 slots an office draws no exploration unit
                lists.append(office_list(group, str(office), str(office), slots,
                                         EXPLORATION_SHARE, UNIFORM_WEIGHT, rng))
        if not lists:
            return
        target = pd.concat(lists, ignore_index=True)
        target["rank"] = target.groupby("office", sort=False).cumcount() + 1
        target["establishments"] = target["workplace_id"]
        self.logs.append(list_log_entries(target, pd.Timestamp(month_start),
                                          LIST_PERIOD_MONTHS, MODEL_VERSION))
        months = t + rng.integers(0, LIST_PERIOD_MONTHS, size=len(target))
        self.visit_wp = np.concatenate([self.visit_wp, target["index"].to_numpy(dtype=int)])
        self.visit_month = np.concatenate([self.visit_month,
                                           np.minimum(months, self.last_month)])

    def due(self, t: int) -> np.ndarray:
        """Workplace positions of the list visits ordered in month t."""
        return self.visit_wp[self.visit_month == t]

    def log(self) -> pd.DataFrame | None:
        """Every list drawn, in the list-log format (None when no list was drawn)."""
        return pd.concat(self.logs, ignore_index=True) if self.logs else None

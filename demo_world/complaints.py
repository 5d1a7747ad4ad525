"""Complaints: filed month by month, some becoming inspection orders, then written as rows.

Complaints are driven by ordinary violations and are rarer where forced labour isolates
workers; abusive conditions raise the matching topics. A complaint becomes an order after a
skewed lag, more often and sooner when it reports forced- or child-labour topics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cleaning.contract import CHANNELS, TOPICS
from demo_world import names, spec
from demo_world.hidden_states import Month
from demo_world.numeric import zscore
from demo_world.scenarios import Knobs
from demo_world.text import bool_text, iso, join_codes
from demo_world.timeline import Calendar

# Expected complaints per active workplace-year before state multipliers (normalised weights).
COMPLAINTS_PER_WORKPLACE_YEAR = 0.10
COMPLAINT_TO_ORDER = 0.62

FL_TOPICS = ("withheld_documents", "threats_violence", "confinement", "debt",
             "recruitment_deception")
TOPIC_BASE = dict(zip(TOPICS, (0.45, 0.01, 0.25, 0.02, 0.003, 0.01, 0.18, 0.005, 0.01, 0.25),
                      strict=True))
TOPIC_INVOLUNTARY = {"unpaid_wages": 0.6, "withheld_documents": 0.15, "debt": 0.15,
                     "recruitment_deception": 0.15}
TOPIC_COERCION = {"threats_violence": 0.2, "confinement": 0.08}
TOPIC_FORCED = {"unpaid_wages": 0.7, "excessive_hours": 0.5, "withheld_documents": 0.35,
                "debt": 0.3, "confinement": 0.25, "threats_violence": 0.35,
                "recruitment_deception": 0.3}
TOPIC_CHILD = {"child_labour": 0.35}


class OrderQueue:
    """Complaint-driven orders waiting for the month they are due in."""

    def __init__(self) -> None:
        self.orders = {"wp": np.zeros(0, int), "day": np.zeros(0, "datetime64[D]"),
                       "complaint": np.zeros(0, int), "fl_topic": np.zeros(0, bool),
                       "cl_topic": np.zeros(0, bool)}

    def add(self, orders: dict[str, np.ndarray]) -> None:
        for key, values in orders.items():
            self.orders[key] = np.concatenate([self.orders[key], values])

    def take_due(self, cal: Calendar, t: int) -> dict[str, np.ndarray]:
        """Remove and return the orders due in month t."""
        due = cal.month_of(self.orders["day"]) == t
        taken = {k: v[due] for k, v in self.orders.items()}
        self.orders = {k: v[~due] for k, v in self.orders.items()}
        return taken


class ComplaintSource:
    """Complaints filed month by month (kept in `records`) and the orders they lead to."""

    def __init__(self, wp: pd.DataFrame, hz: dict[str, np.ndarray], cal: Calendar,
                 knobs: Knobs) -> None:
        real = wp["real_workers"].to_numpy().astype(float)
        violation_z = zscore(hz["violation"])
        urban = np.clip(np.log10(wp["density"].to_numpy() + 1) / 3, 0.3, 1.3)
        weight = real ** 0.6 * np.exp(0.5 * violation_z) * (0.5 + 1 - wp["informality"]) * urban
        self.rate = COMPLAINTS_PER_WORKPLACE_YEAR / 12 / weight.mean() * weight
        self.isolation = np.exp(-0.6 * np.maximum(wp["remoteness"].to_numpy(), 0))
        self.activity_start = wp["activity_start"].to_numpy().astype("datetime64[D]")
        self.cal, self.silence = cal, knobs.coercion_silence
        self.records: list[dict[str, np.ndarray]] = []
        self.filed = 0
        self.queue = OrderQueue()

    def orders_due(self, rng: np.random.Generator, month: Month) -> dict[str, np.ndarray]:
        """File this month's complaints, queue the orders they lead to; return the orders due."""
        record = self._file(rng, month)
        self.records.append(record)
        self.queue.add(self._orders(rng, record))
        return self.queue.take_due(self.cal, month.t)

    def _file(self, rng: np.random.Generator, month: Month) -> dict[str, np.ndarray]:
        """This month's complaints: driven by violations, muted where forced labour isolates."""
        inv, coe, child, forced = month.inv, month.coe, month.child, month.forced
        state_factor = np.where(forced, 1.2 * self.isolation, np.where(inv | coe, 1.5, 1.0))
        if self.silence:
            state_factor = state_factor * np.where(coe, 1.0 - self.silence, 1.0)
        covid = spec.COVID_COMPLAINT_FACTOR if month.covid else 1.0
        counts = rng.poisson(self.rate * state_factor * covid * month.active)
        c_wp = np.repeat(np.arange(len(counts)), counts)
        nc = len(c_wp)
        day = np.maximum(self.cal.random_days(rng, month.t, nc), self.activity_start[c_wp])
        topics = _topics(rng, inv[c_wp], coe[c_wp], child[c_wp])
        ids = self.filed + np.arange(nc)
        self.filed += nc
        return {"wp": c_wp, "day": day, "topics": topics, "id": ids, "fl": forced[c_wp],
                "inv": inv[c_wp], "coe": coe[c_wp], "child": child[c_wp],
                "t": np.full(nc, month.t)}

    def _orders(self, rng: np.random.Generator,
                record: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The complaints that become orders, dated after their lag (within the grid)."""
        topics = record["topics"]
        fl_topic = topics[:, [TOPICS.index(x) for x in FL_TOPICS]].any(axis=1)
        cl_topic = topics[:, TOPICS.index("child_labour")]
        to_order = rng.random(len(topics)) < np.where(fl_topic | cl_topic, 0.85,
                                                      COMPLAINT_TO_ORDER)
        lag = 3 + rng.gamma(1.5, np.where(fl_topic, 7.0, 15.0))
        order_day = record["day"] + np.round(lag).astype(int).astype("timedelta64[D]")
        keep = to_order & (self.cal.month_of(order_day) <= self.cal.n_months - 1)
        return {"wp": record["wp"][keep], "day": order_day[keep],
                "complaint": record["id"][keep], "fl_topic": fl_topic[keep],
                "cl_topic": cl_topic[keep]}


def _topics(
    rng: np.random.Generator, inv: np.ndarray, coe: np.ndarray, cl: np.ndarray
) -> np.ndarray:
    """Complaint topic matrix: abusive conditions raise the matching topics."""
    n = len(inv)
    p = np.tile(np.array([TOPIC_BASE[t] for t in TOPICS]), (n, 1))
    for table, mask in ((TOPIC_INVOLUNTARY, inv), (TOPIC_COERCION, coe),
                        (TOPIC_FORCED, inv & coe), (TOPIC_CHILD, cl)):
        for topic, value in table.items():
            j = TOPICS.index(topic)
            p[mask, j] = np.maximum(p[mask, j], value)
    chosen = rng.random((n, len(TOPICS))) < p
    empty = ~chosen.any(axis=1) & (rng.random(n) > 0.03)
    fallback = rng.choice([TOPICS.index(t) for t in ("unpaid_wages", "no_contract",
                                                     "excessive_hours")], size=n)
    chosen[np.flatnonzero(empty), fallback[empty]] = True
    return chosen


def complaint_tables(rng: np.random.Generator, wp: pd.DataFrame,
                     complaints: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Public complaint rows (with fake complainants) and their truth, sorted by complaint id."""
    c = complaints
    n = len(c["wp"])
    w = c["wp"]
    fl = c["fl"]
    channel_p = np.where(fl[:, None], [0.15, 0.15, 0.30, 0.40], [0.35, 0.20, 0.37, 0.08])
    channel = (channel_p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    anonymous = rng.random(n) < np.where(fl | c["coe"], 0.4, 0.2)
    foreign = rng.random(n) < wp["migrant_share"].to_numpy()[w]
    person = names.person_names(rng, foreign)
    docs = names.identity_documents(rng, foreign)
    no_doc = rng.random(n) < 0.03
    year = c["day"].astype("datetime64[Y]").astype(int) + 1970
    order = np.lexsort((c["id"], c["day"]))
    seq = pd.Series(year[order]).groupby(year[order]).cumcount().to_numpy() + 1
    ids = np.empty(n, dtype=object)
    ids[order] = [f"DEN-{y}-{s:06d}" for y, s in zip(year[order], seq, strict=True)]
    public = pd.DataFrame({
        "complaint_id": ids,
        "workplace_id": wp["workplace_id"].to_numpy()[w],
        "received_on": iso(c["day"]),
        "channel": np.asarray(CHANNELS, dtype=object)[channel],
        "topics": join_codes(c["topics"], TOPICS),
        "anonymous": bool_text(anonymous),
        "complainant_name": np.where(anonymous, None, person),
        "complainant_doc": np.where(anonymous | no_doc, None, docs),
    })
    truth = pd.DataFrame({
        "complaint_id": ids, "workplace_id": public["workplace_id"],
        "received_on": public["received_on"], "fl_active": fl, "involuntary": c["inv"],
        "coercion": c["coe"], "child_labour_active": c["child"], "foreign_complainant": foreign,
    })
    rows = np.argsort(ids, kind="stable")
    return public.iloc[rows].reset_index(drop=True), truth.iloc[rows].reset_index(drop=True)

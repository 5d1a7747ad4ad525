"""Inspection orders month by month: their origins, the team sent and what the visit finds.

Orders come from complaints (after their lag), planned campaigns that change every year (or a
Vigía-style list in scenario vigia_lists), ex officio and authority requests (police and
prosecutors: far more likely where forced labour is real). Detection is imperfect: only visits
whose subjects include forced labour can find it, the specialised team far more often than the
regular one, less in remote districts; false positives exist. A finding may rescue the victims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo_world import spec
from demo_world.campaigns import CampaignCover
from demo_world.hidden_states import Month
from demo_world.listed_operations import ListedOperations
from demo_world.scenarios import Knobs
from demo_world.timeline import Calendar

# Expected orders per active workplace-year before state multipliers (normalised weights).
PLANNED_PER_WORKPLACE_YEAR = 0.009
EX_OFFICIO_PER_WORKPLACE_YEAR = 0.0065
AUTHORITY_PER_WORKPLACE_YEAR = 0.002

SPECIALIZED_DETECTION = 0.65
RESCUE_PROBABILITY = 0.8
CHILD_RESCUE_PROBABILITY = 0.7

CAMPAIGN_SPECIALIZED_SHARE = np.array([c.specialized_share for c in spec.CAMPAIGNS])
CAMPAIGN_FORCED_LABOUR = np.array(["forced_labour" in c.subjects for c in spec.CAMPAIGNS])
CAMPAIGN_CHILD_LABOUR = np.array(["child_labour" in c.subjects for c in spec.CAMPAIGNS])


@dataclass(frozen=True)
class Orders:
    """One month's orders before the visits: which workplace, when and why."""

    wp: np.ndarray
    day: np.ndarray
    origin: np.ndarray  # index in ORIGINS: complaint, planned, ex officio, authority request
    complaint: np.ndarray  # id of the complaint behind the order, -1 for other origins
    campaign: np.ndarray  # campaign of a planned order, -1 otherwise
    fl_topic: np.ndarray  # the complaint reports forced-labour topics
    cl_topic: np.ndarray  # ... child labour


class Inspectorate:
    """Orders and visits month by month (kept in `records`, one entry per visit)."""

    def __init__(self, wp: pd.DataFrame, cal: Calendar, campaigns: pd.DataFrame,
                 knobs: Knobs) -> None:
        real = wp["real_workers"].to_numpy().astype(float)
        w_planned = real ** 0.3 * np.where(wp["declared_workers"].to_numpy() > 0, 2.0, 1.0)
        w_exoff = real ** 0.4
        self.planned = PLANNED_PER_WORKPLACE_YEAR / 12 / w_planned.mean() * w_planned
        self.ex_officio = EX_OFFICIO_PER_WORKPLACE_YEAR / 12 / w_exoff.mean() * w_exoff
        self.remote = wp["remoteness"].to_numpy()
        self.lima = wp["department_code"].to_numpy() == "15"
        self.activity_start = wp["activity_start"].to_numpy().astype("datetime64[D]")
        self.cal, self.knobs = cal, knobs
        self.cover = CampaignCover(wp, campaigns)
        self.campaign_factors = (np.array([c.factor for c in spec.CAMPAIGNS])
                                 * knobs.campaign_factor_scale)
        self.lister = ListedOperations(wp["workplace_id"].to_numpy(), wp["ubigeo"].to_numpy(),
                                       cal.n_months, knobs.list_periods, knobs.list_share,
                                       knobs.list_score_noise) if knobs.list_periods else None
        self.records: list[dict[str, np.ndarray]] = []

    def visit(self, rng: np.random.Generator, month: Month,
              due: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """This month's visits (complaint orders now due first) and which rescue child workers."""
        orders = self._orders(rng, month, due)
        v_wp = orders.wp
        nv = len(v_wp)
        specialized = self._specialized(rng, orders)
        u = rng.random((4, nv))
        fl_subject, cl_subject = _subjects(u, specialized, orders)
        fl_found, cl_found = self._findings(u, specialized, fl_subject, cl_subject,
                                            month, v_wp)
        rescued = fl_found & month.forced[v_wp] & (rng.random(nv) < RESCUE_PROBABILITY)
        child_rescued = cl_found & month.child[v_wp] & (rng.random(nv) < CHILD_RESCUE_PROBABILITY)
        record = {
            "wp": v_wp, "day": orders.day, "origin": orders.origin,
            "complaint": orders.complaint, "campaign": orders.campaign,
            "specialized": specialized, "fl_subject": fl_subject, "cl_subject": cl_subject,
            "fl": month.forced[v_wp], "inv": month.inv[v_wp], "coe": month.coe[v_wp],
            "child": month.child[v_wp], "fl_found": fl_found, "cl_found": cl_found,
            "rescued": rescued,
        }
        self.records.append(record)
        return record, child_rescued

    def list_log(self) -> pd.DataFrame | None:
        """The lists drawn in scenario vigia_lists, in the list-log format (None otherwise)."""
        return self.lister.log() if self.lister is not None else None

    def _orders(self, rng: np.random.Generator, month: Month,
                due: dict[str, np.ndarray]) -> Orders:
        """The complaint orders due this month, then the other origins' orders."""
        campaign = self.cover.of_year(month.year)
        other_wp, other_origin = self._other_orders(rng, month, campaign)
        other_day = np.maximum(self.cal.random_days(rng, month.t, len(other_wp)),
                               self.activity_start[other_wp])
        wp = np.concatenate([due["wp"], other_wp])
        origin = np.concatenate([np.zeros(len(due["wp"]), int), other_origin])
        return Orders(
            wp=wp, day=np.concatenate([due["day"], other_day]), origin=origin,
            complaint=np.concatenate([due["complaint"], np.full(len(other_wp), -1)]),
            campaign=np.where(origin == 1, campaign[wp], -1),
            fl_topic=np.concatenate([due["fl_topic"], np.zeros(len(other_wp), bool)]),
            cl_topic=np.concatenate([due["cl_topic"], np.zeros(len(other_wp), bool)]),
        )

    def _other_orders(self, rng: np.random.Generator, month: Month,
                      campaign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Planned (list visits first), ex officio and authority orders: workplaces and origins."""
        forced, active = month.forced, month.active
        covid = spec.COVID_INSPECTION_FACTOR if month.covid else 1.0
        camp_factor = np.where(campaign >= 0, self.campaign_factors[campaign],
                               self.knobs.planned_outside_campaigns)
        planned_rate = self.planned * camp_factor * covid * active
        if self.lister is not None:
            self.lister.draw(rng, month.t, self.cal.month_starts[month.t], month.list_risk(),
                             active, sum(len(v["wp"]) for v in self.records[-3:]))
            planned_rate = planned_rate * self.lister.planned_factor(month.t)
        n_plan = rng.poisson(planned_rate)
        n_exoff = rng.poisson(self.ex_officio * np.where(forced, 4.0, 1.0) * covid * active)
        authority_lam = (AUTHORITY_PER_WORKPLACE_YEAR / 12
                         * (1 + 80 * forced + 8 * month.child + 3 * (month.inv | month.coe))
                         * active)
        n_auth = rng.poisson(authority_lam)
        n = len(active)
        other_wp = np.concatenate([np.repeat(np.arange(n), k) for k in (n_plan, n_exoff, n_auth)])
        other_origin = np.repeat([1, 2, 3], [n_plan.sum(), n_exoff.sum(), n_auth.sum()])
        if self.lister is not None:  # list visits are planned orders
            listed = self.lister.due(month.t)
            other_wp = np.concatenate([listed, other_wp])
            other_origin = np.concatenate([np.ones(len(listed), int), other_origin])
        return other_wp, other_origin

    def _specialized(self, rng: np.random.Generator, orders: Orders) -> np.ndarray:
        """Whether the specialised team goes: forced-labour complaints, campaigns, authorities."""
        origin = orders.origin
        camp_spec = np.where(orders.campaign >= 0, CAMPAIGN_SPECIALIZED_SHARE[orders.campaign],
                             0.005)
        p_spec = np.select([origin == 0, origin == 1, origin == 2],
                           [0.01 + 0.5 * orders.fl_topic + 0.35 * orders.cl_topic, camp_spec,
                            0.03], 0.35)
        lima = self.lima[orders.wp]
        return rng.random(len(origin)) < np.clip(p_spec * np.where(lima, 1.3, 0.8), 0, 0.95)

    def _findings(self, u: np.ndarray, specialized: np.ndarray, fl_subject: np.ndarray,
                  cl_subject: np.ndarray, month: Month,
                  v_wp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forced and child labour concluded: imperfect detection and some false positives."""
        knobs = self.knobs
        v_fl, v_inv, v_coe, v_cl = (month.forced[v_wp], month.inv[v_wp], month.coe[v_wp],
                                    month.child[v_wp])
        remote_penalty = np.exp(-0.15 * np.maximum(self.remote[v_wp], 0))
        p_detect = (np.where(specialized, SPECIALIZED_DETECTION, knobs.regular_detection)
                    * remote_penalty)
        false_scale = np.where(specialized, 1.0, knobs.regular_false_positive_scale)
        p_false = np.where(v_inv | v_coe, np.where(specialized, 0.04, 0.02), 0.0015) * false_scale
        fl_found = fl_subject & np.where(v_fl, u[2] < p_detect, u[2] < p_false)
        cl_found = cl_subject & np.where(v_cl, u[3] < np.where(specialized, 0.7, 0.45),
                                         u[3] < 0.002)
        return fl_found, cl_found


def _subjects(u: np.ndarray, specialized: np.ndarray,
              orders: Orders) -> tuple[np.ndarray, np.ndarray]:
    """Whether a visit covers forced and child labour: the specialised team nearly always does."""
    origin, campaign = orders.origin, orders.campaign
    camp_fl = np.where(campaign >= 0, CAMPAIGN_FORCED_LABOUR[campaign], False)
    camp_cl = np.where(campaign >= 0, CAMPAIGN_CHILD_LABOUR[campaign], False)
    fl_subject = np.where(specialized, u[0] < 0.95, u[0] < np.select(
        [origin == 0, origin == 1, origin == 3], [0.02 + 0.43 * orders.fl_topic,
                                                  0.02 + 0.48 * camp_fl, 0.8], 0.02))
    cl_subject = np.where(specialized, u[1] < 0.6,
                          u[1] < 0.03 + 0.87 * orders.cl_topic + 0.57 * camp_cl)
    return fl_subject, cl_subject

"""The hidden states month by month: involuntariness, coercion and child labour per workplace.

Each is a Markov chain whose onset chance comes from the static log-hazards (hazards.py) times
this month's multipliers: season and trend, a scenario's late surge, contagion within a
subcontracting chain and deterrence after a rescue. A rescue ends a spell the next month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo_world import spec
from demo_world.hazards import onset, stationary
from demo_world.scenarios import Knobs
from demo_world.timeline import Calendar

COERCION_WITHOUT_INVOLUNTARY = 0.15
DETERRENCE_MONTHS = 24
DETERRENCE_FACTOR = 0.3
SURGE_RAMP_MONTHS = 6
STATES = ("involuntary", "coercion", "child")


@dataclass(frozen=True)
class Month:
    """One simulated month: who is active, the hidden states and this month's onset chances."""

    t: int
    year: int
    covid: bool
    active: np.ndarray
    inv: np.ndarray
    coe: np.ndarray
    child: np.ndarray
    forced: np.ndarray  # involuntary AND coercion
    a_inv: np.ndarray  # onset chances of involuntariness and coercion
    a_coe: np.ndarray
    inv_exit: np.ndarray  # their exit chances
    coe_exit: np.ndarray

    def risk(self) -> np.ndarray:
        """The oracle's risk: the stationary chance of forced labour under this month's hazards."""
        return np.where(self.active, stationary(self.a_inv, self.inv_exit)
                        * stationary(self.a_coe, self.coe_exit), 0.0)

    def list_risk(self) -> np.ndarray:
        """The same risk as the lists' scores see it, rounded as their published worlds were.

        Multiplied left to right (not as risk() groups it): the exploration probabilities of
        scenario vigia_lists depend on the last bits of the scores.
        """
        return stationary(self.a_inv, self.inv_exit) * self.a_coe / (self.a_coe + self.coe_exit)


class HiddenProcess:
    """The hidden states of every workplace, drawn month after month, and pending rescues."""

    def __init__(self, wp: pd.DataFrame, hz: dict[str, np.ndarray], cal: Calendar,
                 knobs: Knobs) -> None:
        n, T = len(wp), cal.n_months
        self.hz, self.knobs = hz, knobs
        self.groups = wp["group"].to_numpy()
        self.seasons = spec.season_matrix(self.groups)
        self.start_t = np.maximum(
            cal.month_of(wp["activity_start"].to_numpy().astype("datetime64[D]")), 0)
        until = wp["active_until"].to_numpy().astype("datetime64[D]")
        self.end_t = np.where(np.isnat(until), T, cal.month_of(until))
        self.states = {k: np.zeros((n, T), dtype=bool) for k in STATES}
        self.month_years = cal.month_starts.astype("datetime64[Y]").astype(int) + 1970
        self.month_of_year = cal.month_starts.astype("datetime64[M]").astype(int) % 12
        self.covid = np.isin(np.datetime_as_string(cal.month_starts, unit="M"), spec.COVID_MONTHS)
        self.deter_until = np.full(n, -1)
        self.rescue = np.zeros(n, dtype=bool)
        self.child_rescue = np.zeros(n, dtype=bool)
        self.surge_rows, self.surge_by_month = _surge(wp, cal, knobs)
        self.chain = pd.factorize(wp["principal_ruc"].fillna(wp["ruc"]))[0]

    def step(self, rng: np.random.Generator, t: int) -> Month:
        """Draw month t's states (from month t-1's, or the stationary mix in the first month)."""
        hz = self.hz
        active = (t >= self.start_t) & (t < self.end_t)
        mult = self._onset_multiplier(t)
        deter = np.where(self.deter_until >= t, DETERRENCE_FACTOR, 1.0)
        a_inv = onset(hz["involuntary"], mult * deter)
        a_coe = onset(hz["coercion"], mult * deter)
        a_cl = onset(hz["child_labour"], np.ones(len(active)))
        if t == 0:
            inv, coe, child = self._stationary_start(rng, a_inv, a_coe, a_cl)
        else:
            inv, coe, child = self._transition(rng, t, a_inv, a_coe, a_cl)
        inv &= active
        coe &= active
        child &= active
        for name, state in zip(STATES, (inv, coe, child), strict=True):
            self.states[name][:, t] = state
        self.rescue[:] = False
        self.child_rescue[:] = False
        return Month(t, int(self.month_years[t]), bool(self.covid[t]), active, inv, coe, child,
                     inv & coe, a_inv, a_coe, hz["involuntary_exit"], hz["coercion_exit"])

    def rescue_after(self, t: int, visits: dict[str, np.ndarray],
                     child_rescued: np.ndarray) -> None:
        """Rescues at month t's visits end their spells next month; forced labour's deter."""
        rescued_wp = visits["wp"][visits["rescued"]]
        self.rescue[rescued_wp] = True
        self.deter_until[rescued_wp] = t + DETERRENCE_MONTHS
        self.child_rescue[visits["wp"][child_rescued]] = True

    def _onset_multiplier(self, t: int) -> np.ndarray:
        """Season and trend of each sector group, then a scenario's surge and chain contagion."""
        knobs = self.knobs
        mult = self.seasons[:, self.month_of_year[t]] * spec.trend_factor(
            self.groups, self.month_years[t] + self.month_of_year[t] / 12)
        if knobs.surge_factor != 1.0:
            mult = np.where(self.surge_rows, mult * self.surge_by_month[t], mult)
        if knobs.chain_contagion != 1.0 and t > 0:
            mult = mult * _chain_exposure(self.chain, self.states["involuntary"][:, t - 1]
                                          & self.states["coercion"][:, t - 1],
                                          knobs.chain_contagion)
        return mult

    def _stationary_start(
        self, rng: np.random.Generator, a_inv: np.ndarray, a_coe: np.ndarray, a_cl: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """First month: each chain in its stationary mix (coercion only where involuntary)."""
        hz, n = self.hz, len(a_inv)
        inv = rng.random(n) < stationary(a_inv, hz["involuntary_exit"])
        coe = inv & (rng.random(n) < stationary(a_coe, hz["coercion_exit"]))
        child = rng.random(n) < stationary(a_cl, hz["child_labour_exit"])
        return inv, coe, child

    def _transition(
        self, rng: np.random.Generator, t: int, a_inv: np.ndarray, a_coe: np.ndarray,
        a_cl: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Later months: onsets and exits; coercion rarely lasts without involuntariness."""
        hz = self.hz
        prev_inv, prev_coe, prev_cl = (self.states[k][:, t - 1] for k in STATES)
        u = rng.random((3, len(a_inv)))
        inv = np.where(prev_inv, u[0] >= hz["involuntary_exit"], u[0] < a_inv) & ~self.rescue
        coe_onset = a_coe * np.where(inv, 1.0, COERCION_WITHOUT_INVOLUNTARY)
        coe_exit = hz["coercion_exit"] + np.where(inv, 0.0, 0.5)
        coe = np.where(prev_coe, u[1] >= coe_exit, u[1] < coe_onset) & ~self.rescue
        child = (np.where(prev_cl, u[2] >= hz["child_labour_exit"], u[2] < a_cl)
                 & ~self.child_rescue)
        return inv, coe, child


def _surge(wp: pd.DataFrame, cal: Calendar, knobs: Knobs) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the surging sector group and departments, and their onset multiplier by month."""
    rows = ((wp["group"] == knobs.surge_group)
            & wp["department_code"].isin(knobs.surge_departments)).to_numpy()
    months_in = np.arange(cal.n_months) - (cal.n_months - knobs.surge_months) + 1
    ramp = np.clip(months_in / SURGE_RAMP_MONTHS, 0.0, 1.0)
    return rows, 1.0 + (knobs.surge_factor - 1.0) * ramp


def _chain_exposure(chain: np.ndarray, forced: np.ndarray, contagion: float) -> np.ndarray:
    """Onset multiplier: `contagion` where another workplace of the same chain is in forced labour.

    A chain is a principal's RUC with its own establishments and its contractors and recruiters.
    """
    cases = np.bincount(chain, weights=forced.astype(float))
    return np.where(cases[chain] - forced > 0, contagion, 1.0)

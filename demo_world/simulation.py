"""The monthly simulation: hidden states, then complaints, then orders and visits, each month.

Vectorised over workplaces, never looping over rows. Burn-in months only move the hidden states;
from the window's first month on, complaints are filed, orders are issued and visited, and the
oracle's risk is kept every quarter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo_world.complaints import ComplaintSource
from demo_world.hidden_states import HiddenProcess
from demo_world.orders import Inspectorate
from demo_world.scenarios import Knobs
from demo_world.timeline import Calendar

RISK_EVERY_MONTHS = 3


@dataclass(frozen=True)
class Simulation:
    """What the months leave behind: the states, every complaint and visit, the oracle's risk."""

    states: dict[str, np.ndarray]  # involuntary, coercion, child: workplace x month
    complaints: dict[str, np.ndarray]  # one entry per complaint, in id order
    visits: dict[str, np.ndarray]  # one entry per visit
    risk: dict[str, np.ndarray]  # quarter's first day -> risk per workplace
    list_log: pd.DataFrame | None  # the lists of scenario vigia_lists


def simulate(rng: np.random.Generator, wp: pd.DataFrame, hz: dict[str, np.ndarray],
             cal: Calendar, campaigns: pd.DataFrame, knobs: Knobs) -> Simulation:
    """Month-by-month hidden states, complaints and inspection visits."""
    hidden = HiddenProcess(wp, hz, cal, knobs)
    complaints = ComplaintSource(wp, hz, cal, knobs)
    inspectorate = Inspectorate(wp, cal, campaigns, knobs)
    risk: dict[str, np.ndarray] = {}
    for t in range(cal.n_months):
        month = hidden.step(rng, t)
        if t < cal.burn_in:
            continue
        if (t - cal.burn_in) % RISK_EVERY_MONTHS == 0:
            risk[str(cal.month_starts[t])] = month.risk()
        due = complaints.orders_due(rng, month)
        visits, child_rescued = inspectorate.visit(rng, month, due)
        hidden.rescue_after(t, visits, child_rescued)
    return Simulation(hidden.states, _stack(complaints.records), _stack(inspectorate.records),
                      risk, inspectorate.list_log())


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Monthly records joined into one array per field."""
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

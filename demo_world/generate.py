"""Seeded generator of a SUNAFIL-like demo world in the canonical form, with a hidden truth.

The world is simulated month by month (vectorised over workplaces, never looping over rows),
one module per stage:
- registry.py: a registry of workplaces on Peru's real districts;
- hazards.py, hidden_states.py: two hidden Markov processes per workplace, involuntariness and
  coercion (forced labour = both at once), plus child labour;
- complaints.py: complaints that depend on the hidden state but are rarer where workers are
  isolated;
- campaigns.py, orders.py: inspection orders from complaints, campaigns, ex officio and
  authority requests; imperfect detection that depends on the team and the subjects; findings
  that may end a spell (simulation.py runs the months);
- inspections.py, complaints.py, truth.py: the public tables, strings as they would appear in
  CSV, and the truth tables, written (writing.py) to a separate folder only `evaluation/` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cleaning.contract import column_names, load_districts
from demo_world.campaigns import choose_campaigns
from demo_world.complaints import complaint_tables
from demo_world.defects import inject_defects
from demo_world.hazards import hazards
from demo_world.inspections import inspection_tables
from demo_world.registry import district_context, public_workplaces, registry
from demo_world.scenarios import BASELINE, Knobs, draw_knobs, scenario_record
from demo_world.simulation import simulate
from demo_world.timeline import month_grid
from demo_world.truth import latent_risk, workplace_truth


@dataclass
class DemoWorld:
    """The public tables (canonical columns, CSV-ready strings) and the hidden truth tables."""

    workplaces: pd.DataFrame
    inspections: pd.DataFrame
    complaints: pd.DataFrame
    truth: dict[str, pd.DataFrame]
    scenario: dict[str, object] = field(default_factory=dict)  # truth/scenario.json
    list_log: pd.DataFrame | None = None  # Vigía-style lists of scenario vigia_lists


def generate_world(
    n_workplaces: int, seed: int, start: str, end: str,
    defect_share: float, scenario: str = BASELINE,
) -> DemoWorld:
    """Simulate the whole demo world of a scenario (demo_world/scenarios.py).

    Same arguments give identical tables. The scenario's knobs are drawn from the seed; a
    scenario with a short history moves `start` to that many months before `end`.
    """
    knobs = draw_knobs(scenario, seed)
    rng = np.random.default_rng(seed)
    cal = month_grid(_observed_start(start, end, knobs), end)
    districts = district_context(load_districts())
    wp = registry(rng, n_workplaces, districts, cal, knobs)
    hz = hazards(rng, wp, knobs)
    campaigns = choose_campaigns(rng, cal.window_years(), knobs)
    sim = simulate(rng, wp, hz, cal, campaigns, knobs)
    inspections, inspection_truth = inspection_tables(rng, wp, hz, sim, cal)
    complaints, complaint_truth = complaint_tables(rng, wp, sim.complaints)
    tables = {"workplaces": public_workplaces(wp, seed), "inspections": inspections,
              "complaints": complaints}
    tables, defects = inject_defects(rng, tables, districts, defect_share)
    tables = {name: df[column_names(name)] for name, df in tables.items()}
    truth = {
        **workplace_truth(wp, hz, sim.states, cal),
        "inspections": inspection_truth,
        "complaints": complaint_truth,
        "latent_risk": latent_risk(wp, sim.risk),
        "campaigns": campaigns.drop(columns="campaign_idx"),
        "injected_defects": defects,
    }
    return DemoWorld(tables["workplaces"], tables["inspections"], tables["complaints"], truth,
                     scenario_record(scenario, seed, knobs), sim.list_log)


def _observed_start(start: str, end: str, knobs: Knobs) -> str:
    """The configured start, or `history_months` before `end` for a short-history scenario."""
    if not knobs.history_months:
        return start
    return str((pd.Timestamp(end) + pd.Timedelta(days=1)
                - pd.DateOffset(months=knobs.history_months)).date())

"""The hidden processes' static parameters: monthly onset log-hazards and exit rates per workplace.

Two Markov processes, involuntariness and coercion (forced labour = both at once), plus child
labour. The simulation (demo_world/simulation.py) turns these into monthly onset chances after
season, trend, surge, chain contagion and deterrence multiply them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo_world import spec
from demo_world.numeric import sigmoid, zscore
from demo_world.scenarios import Knobs

# Intercepts of the hidden log-hazards (per month) and mean durations (months).
COERCION_INTERCEPT = -3.6
CHILD_LABOUR_INTERCEPT = -8.0
COERCION_MEAN_MONTHS = 14.0
CHILD_LABOUR_MEAN_MONTHS = 12.0


def hazards(rng: np.random.Generator, wp: pd.DataFrame, knobs: Knobs) -> dict[str, np.ndarray]:
    """Static monthly log-hazards and exit rates of the hidden processes, per workplace."""
    n = len(wp)
    sec = wp["sector_idx"].to_numpy()
    inv_sector = np.array([s.involuntary for s in spec.SECTORS])[sec]
    coe_sector = np.array([s.coercion for s in spec.SECTORS])[sec]
    cl_sector = np.array([s.child_labour for s in spec.SECTORS])[sec]
    remote = wp["remoteness"].to_numpy()
    informality = wp["informality"].to_numpy()
    intermediary = wp["intermediary"].to_numpy().astype(float)
    shared = rng.standard_normal(n)
    hidden_inv = 0.7 * shared + 0.7 * rng.standard_normal(n)
    hidden_coe = 0.5 * shared + 0.8 * rng.standard_normal(n)
    poverty_z = zscore(wp["poverty"].to_numpy())
    eta_inv = (knobs.involuntary_intercept + inv_sector + 0.45 * remote + 1.3 * informality
               + 0.7 * intermediary + 1.5 * wp["migrant_share"].to_numpy() + 0.9 * hidden_inv)
    eta_coe = (COERCION_INTERCEPT + coe_sector + 0.35 * remote + 0.6 * intermediary
               + 0.8 * informality + 0.8 * hidden_coe)
    eta_cl = (CHILD_LABOUR_INTERCEPT + cl_sector + 0.5 * poverty_z + 0.8 * informality
              + 0.8 * rng.standard_normal(n))
    violation = (-1.9 + 1.0 * informality + 0.3 * (inv_sector > 1.0) + 0.4 * shared
                 + 0.8 * rng.standard_normal(n))
    return {
        "involuntary": eta_inv, "coercion": eta_coe, "child_labour": eta_cl,
        "violation": violation, "hidden_involuntary": hidden_inv, "hidden_coercion": hidden_coe,
        "involuntary_exit": 1.0 / (10.0 + 14.0 * sigmoid(remote)),
        "coercion_exit": np.full(n, 1.0 / COERCION_MEAN_MONTHS),
        "child_labour_exit": np.full(n, 1.0 / CHILD_LABOUR_MEAN_MONTHS),
    }


def onset(eta: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    """Chance of an onset within the month from a log-hazard and its multiplier."""
    return 1.0 - np.exp(-np.exp(eta) * multiplier)


def stationary(onset_chance: np.ndarray, exit_rate: np.ndarray) -> np.ndarray:
    """Long-run share of months in the state if these onset and exit chances held."""
    return onset_chance / (onset_chance + exit_rate)

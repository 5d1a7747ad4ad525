"""Hidden truth about the workplaces: latent attributes, spells of each state, the oracle's risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo_world.text import iso
from demo_world.timeline import Calendar


def workplace_truth(wp: pd.DataFrame, hz: dict[str, np.ndarray], states: dict[str, np.ndarray],
                    cal: Calendar) -> dict[str, pd.DataFrame]:
    """truth/workplaces.csv and the spells of forced labour, its two components, child labour."""
    return {
        "workplaces": _latent_attributes(wp, hz),
        "fl_spells": _spells(states["involuntary"] & states["coercion"], wp, cal),
        "involuntary_spells": _spells(states["involuntary"], wp, cal),
        "coercion_spells": _spells(states["coercion"], wp, cal),
        "child_labour_spells": _spells(states["child"], wp, cal),
    }


def latent_risk(wp: pd.DataFrame, risk: dict[str, np.ndarray]) -> pd.DataFrame:
    """truth/latent_risk.csv: one column of the oracle's risk per quarter's first day."""
    frame = pd.DataFrame({"workplace_id": wp["workplace_id"]})
    return pd.concat([frame, pd.DataFrame({k: np.round(v, 6) for k, v in risk.items()})], axis=1)


def _latent_attributes(wp: pd.DataFrame, hz: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each workplace's latent components, hazards and the dates it was active."""
    return pd.DataFrame({
        "workplace_id": wp["workplace_id"], "ruc": wp["ruc"], "ciiu": wp["ciiu"],
        "sector_group": wp["group"], "department_code": wp["department_code"],
        "ubigeo": wp["ubigeo"], "remoteness": wp["remoteness"].round(4),
        "real_workers": wp["real_workers"], "declared_workers": wp["declared_workers"],
        "informality": wp["informality"].round(4), "migrant_share": wp["migrant_share"].round(4),
        "intermediary": wp["intermediary"], "principal_ruc": wp["principal_ruc"],
        "involuntary_log_hazard": hz["involuntary"].round(4),
        "coercion_log_hazard": hz["coercion"].round(4),
        "child_labour_log_hazard": hz["child_labour"].round(4),
        "violation_logit": hz["violation"].round(4),
        "hidden_involuntary": hz["hidden_involuntary"].round(4),
        "hidden_coercion": hz["hidden_coercion"].round(4),
        "active_from": iso(wp["activity_start"].to_numpy().astype("datetime64[D]")),
        "active_until": iso(wp["active_until"].to_numpy().astype("datetime64[D]")),
    })


def _spells(states: np.ndarray, wp: pd.DataFrame, cal: Calendar) -> pd.DataFrame:
    """Runs of True months as [start, end) spells; end empty while ongoing at the window's end."""
    padded = np.pad(states.astype(np.int8), ((0, 0), (1, 1)))
    change = np.diff(padded, axis=1)
    rows_s, start = np.nonzero(change == 1)
    _, stop = np.nonzero(change == -1)
    months = np.append(cal.month_starts, cal.month_starts[-1].astype("datetime64[M]") + 1)
    end_dates = months[stop].astype("datetime64[D]")
    ongoing = stop == states.shape[1]
    return pd.DataFrame({
        "workplace_id": wp["workplace_id"].to_numpy()[rows_s],
        "start": iso(cal.month_starts[start]),
        "end": np.where(ongoing, None, iso(end_dates)),
        "left_censored": start == 0,
    })

"""Planned operations: the campaigns of each year and the workplaces they cover."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo_world import spec
from demo_world.scenarios import Knobs


def choose_campaigns(rng: np.random.Generator, years: np.ndarray, knobs: Knobs) -> pd.DataFrame:
    """Campaigns per year: a random few, or every campaign of a concentrated pool each year."""
    pool = [k for k, c in enumerate(spec.CAMPAIGNS) if c.name in knobs.campaign_pool]
    rows = []
    for year in years:
        picked = pool or rng.choice(len(spec.CAMPAIGNS), size=spec.CAMPAIGNS_PER_YEAR,
                                    replace=False)
        for k in sorted(picked):
            c = spec.CAMPAIGNS[k]
            rows.append({"year": int(year), "campaign_idx": int(k), "campaign": c.name,
                         "groups": ";".join(c.groups), "departments": ";".join(c.departments),
                         "factor": c.factor * knobs.campaign_factor_scale,
                         "specialized_share": c.specialized_share})
    return pd.DataFrame(rows)


class CampaignCover:
    """Which campaign covers each workplace in a year, worked out once per year."""

    def __init__(self, wp: pd.DataFrame, campaigns: pd.DataFrame) -> None:
        self.wp, self.campaigns = wp, campaigns
        self.by_year: dict[int, np.ndarray] = {}

    def of_year(self, year: int) -> np.ndarray:
        """Index of the campaign covering each workplace in a year (-1 if none)."""
        if year not in self.by_year:
            self.by_year[year] = self._campaign_of(year)
        return self.by_year[year]

    def _campaign_of(self, year: int) -> np.ndarray:
        """The covering campaign with the highest rate factor (a workplace may match several)."""
        out = np.full(len(self.wp), -1)
        best = np.ones(len(self.wp))
        for row in self.campaigns[self.campaigns["year"] == year].itertuples():
            c = spec.CAMPAIGNS[row.campaign_idx]
            hit = (self.wp["group"].isin(c.groups)
                   & self.wp["department_code"].isin(c.departments)).to_numpy()
            better = hit & (c.factor > best)
            out[better], best[better] = row.campaign_idx, c.factor
        return out

"""What visiting a list will find: team detection rates and model uncertainty in the interval.

The calibrated probability is learned on every past inspection, both teams mixed, and assumes
itself exact. Two things make the findings of a list differ from the sum of its probabilities:

1. Who visits. An office's list is visited by its regular inspectors, the specialised team's
   list by the team (`lists.specialized_team.code`), and the two conclude forced labour at
   different rates when it is there.
2. Calibration error. The backtest's test windows show, out of sample, how the findings of the
   inspected high-score rows compared with their predicted probabilities, and that ratio moves
   from window to window (few positives per window add their own noise).

`team_windows` measures, per backtest test window and per team, the predicted and observed
findings among the inspected rows in the top `top_share` of that window's scores (where lists
live); a row's team is the specialised team when it made one of the window's inspections, else
regular. `expected_findings_table` then runs a seeded Monte Carlo: in each draw, each team's
factor is the ratio of one past window drawn at random, itself drawn from its Gamma(observed +
1/2, 1/predicted) posterior (the spread across windows plus each window's sampling noise); the
factored probabilities min(1, f * p) give Bernoulli findings per listed visit. The figures are
the draws' mean and central `confidence` range, per office, per part (new, follow-up) and in
total (one factor per team and draw, shared by every office). A team without positives in any
window uses the ratio of both teams together, and so does every visit with config
`lists.yield_factor_by_team: false`; without any positive, the table is the plain
Poisson-binomial one of `lists.yield_by_office` and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.labels import label_window_end
from settings.schema import ListsConfig

REGULAR, SPECIALIZED, BOTH = "regular", "specialized", "both"
WINDOW_COLUMNS = ["split", "team", "rows", "predicted", "observed"]


@dataclass(frozen=True)
class TeamEvidence:
    """Past windows' predicted and observed findings per team (`team_windows`), how to draw."""

    windows: pd.DataFrame  # WINDOW_COLUMNS
    team_code: str  # the list (office column) the specialised team visits
    draws: int
    seed: int
    by_team: bool = True  # False: both teams' pooled ratio for every visit

    @classmethod
    def from_records(cls, records: list[dict[str, object]], lists: ListsConfig,
                     seed: int) -> TeamEvidence:
        """The evidence a registered model carries (`team_windows` as records; none: empty),
        drawn as config `lists:` says."""
        return cls(pd.DataFrame(records, columns=WINDOW_COLUMNS), lists.specialized_team.code,
                   lists.yield_draws, seed, lists.yield_factor_by_team)

    def usable(self) -> bool:
        """Whether any past window holds a positive to measure calibration on."""
        return bool(len(self.windows)) and float(self.windows["observed"].sum()) > 0


def window_teams(inspections: pd.DataFrame, as_of: pd.Timestamp, label_timespan_months: int,
                 origins: list[str] | None) -> pd.Series:
    """Per workplace inspected in the label window at `as_of`: who inspected it (SPECIALIZED
    when the specialised team made one of the window's inspections, else REGULAR); with
    `origins`, only workplaces whose every window inspection had one of them."""
    ordered = inspections["ordered_on"]
    window = inspections[(ordered >= as_of)
                         & (ordered < label_window_end(as_of, label_timespan_months))]
    special = (window["team"] == SPECIALIZED).groupby(window["workplace_id"]).any()
    teams = pd.Series(np.where(special, SPECIALIZED, REGULAR), index=special.index, name="team")
    if origins is None:
        return teams
    return teams[window["origin"].isin(origins).groupby(window["workplace_id"]).all()]


def team_windows(test_scores: pd.DataFrame, test_labels: pd.DataFrame,
                 inspections: pd.DataFrame, label_timespan_months: int,
                 top_share: float, origins: list[str] | None = None) -> pd.DataFrame:
    """Predicted (sum of scores) and observed findings of the inspected rows in each window's
    top `top_share` of scores, per team and for both together (`test_scores` of one model);
    with `origins` (config `lists.yield_origins`), only rows inspected for those reasons:
    visits like a list's, without a complaint behind them, whose findings are a list's."""
    rows = []
    for split, scored in test_scores.groupby("split"):
        cut = scored["score"].quantile(1.0 - top_share)
        top = scored[scored["score"] >= cut].set_index("workplace_id")["score"]
        labels = test_labels[test_labels["split"] == split].set_index("workplace_id")["label"]
        labelled = labels.reindex(top.index).dropna()
        teams = window_teams(inspections, pd.Timestamp(split), label_timespan_months, origins)
        team = teams.reindex(labelled.index)
        for name, members in ((REGULAR, team == REGULAR), (SPECIALIZED, team == SPECIALIZED),
                              (BOTH, team.notna())):
            rows.append({"split": split, "team": name, "rows": int(members.sum()),
                         "predicted": float(top.reindex(labelled.index)[members].sum()),
                         "observed": float(labelled[members].sum())})
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)


def factor_draws(windows: pd.DataFrame, team: str, draws: int,
                 rng: np.random.Generator) -> np.ndarray:
    """`draws` calibration factors of `team`: a past window at random, then its ratio from the
    Gamma(observed + 1/2, 1 / predicted) posterior (falls back to both teams without positives)."""
    own = windows[(windows["team"] == team) & (windows["predicted"] > 0)]
    if own["observed"].sum() <= 0:
        own = windows[(windows["team"] == BOTH) & (windows["predicted"] > 0)]
    chosen = own.iloc[rng.integers(0, len(own), size=draws)]
    return rng.gamma(chosen["observed"].to_numpy() + 0.5, 1.0 / chosen["predicted"].to_numpy())


def simulated_findings(target_list: pd.DataFrame, evidence: TeamEvidence) -> tuple[
        np.ndarray, np.ndarray]:
    """Per draw and listed visit: the factored probability and the simulated finding (0/1)."""
    rng = np.random.default_rng(evidence.seed)
    special = (target_list["office"] == evidence.team_code).to_numpy()
    teams = (REGULAR, SPECIALIZED) if evidence.by_team else (BOTH, BOTH)
    factors = np.column_stack([factor_draws(evidence.windows, team, evidence.draws, rng)
                               for team in teams])
    p = target_list["probability"].to_numpy(dtype=float)
    factored = np.minimum(1.0, factors[:, special.astype(int)] * p)
    return factored, rng.random(factored.shape) < factored


@dataclass(frozen=True)
class Draws:
    """The Monte Carlo of one list: factored probabilities, findings, central range wanted."""

    factored: np.ndarray  # draws x visits
    found: np.ndarray  # draws x visits, bool
    confidence: float

    def figures(self, members: np.ndarray) -> dict[str, float]:
        """Visits, mean expected findings and the central range of the findings of `members`."""
        counts = self.found[:, members].sum(axis=1)
        tail = (1.0 - self.confidence) / 2.0
        low, high = np.quantile(counts, [tail, 1.0 - tail], method="inverted_cdf")
        return {"visits": float(members.sum()),
                "expected_findings": float(self.factored[:, members].sum(axis=1).mean()),
                "low": float(low), "high": float(high)}


def expected_findings_table(target_list: pd.DataFrame, evidence: TeamEvidence,
                            confidence: float, case_parts: dict[str, str]) -> pd.DataFrame:
    """Per office and TOTAL: visits, expected findings and their range with team factors and
    model uncertainty (module docstring), per part of `case_parts` when the list has `case`,
    and `team_factor` (the visiting team's mean factor)."""
    factored, found = simulated_findings(target_list, evidence)
    draws = Draws(factored, found, confidence)
    offices = target_list["office"].to_numpy()
    rows = {}
    for office in [*pd.unique(offices), "TOTAL"]:
        members = offices == office if office != "TOTAL" else np.ones(len(offices), dtype=bool)
        row = draws.figures(members)
        p = target_list["probability"].to_numpy(dtype=float)[members]
        row["team_factor"] = row["expected_findings"] / p.sum() if p.sum() > 0 else 1.0
        for case, prefix in case_parts.items() if "case" in target_list else ():
            part = draws.figures(members & (target_list["case"] == case).to_numpy())
            row.update({f"{prefix}_{name}": value for name, value in part.items()})
        rows[office] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("office")

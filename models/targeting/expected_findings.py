"""What visiting a list will find: each team's finding rate and model uncertainty in the interval.

The calibrated probability is learned on every past inspection, both teams mixed and most of
them behind a complaint, and assumes itself exact. Two things make the findings of a list differ
from the sum of its probabilities:

1. Who visits. An office's list is visited by its regular inspectors, the specialised team's
   list by the team (`lists.specialized_team.code`), and the two conclude forced labour at
   different rates when it is there; a list's visit has no complaint behind it.
2. Calibration error. The backtest's test windows show, out of sample, how the findings of the
   inspected rows compared with what was predicted, and that ratio moves from window to window
   (few positives per window add their own noise).

`visit_rows` gathers, per backtest test window, the inspected rows in the top `top_share` of
that window's scores with their score, outcome and team (the specialised team when it made one
of the window's inspections, else regular), and with `origins` only rows inspected for those
reasons (config `lists.yield_origins`: visits like a list's). `fit_visit_maps` learns each
team's map from score to finding: a logistic regression on the score's logit with an L2 penalty
(config `lists.yield_map_c`; strong, because few past positives show the slope, so the map leans
towards the team's own finding rate). `team_windows` then measures each window's predicted (the
mapped probabilities) and observed findings per team. `expected_findings_table` runs a seeded
Monte Carlo: in each draw, each team's factor is the ratio of one past window drawn at random,
itself drawn from its Gamma(observed + 1/2, 1/predicted) posterior; the factored mapped
probabilities min(1, f * q) give Bernoulli findings per listed visit. The figures are the draws'
mean and central `confidence` range, per office, per part (new, follow-up) and in total (one
factor per team and draw, shared by every office). A team without both outcomes among its rows
uses the map and windows of both teams together, and so does every visit with config
`lists.yield_factor_by_team: false`; without any positive, the table is the plain
Poisson-binomial one of `lists.yield_by_office` and says so. A champion registered before maps
existed carries none: its probabilities are used as they are (the identity map).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from features.labels import label_window_end
from settings.schema import ListsConfig

REGULAR, SPECIALIZED, BOTH = "regular", "specialized", "both"
WINDOW_COLUMNS = ["split", "team", "rows", "predicted", "observed"]
MAP_COLUMNS = ["team", "intercept", "slope"]
ROW_COLUMNS = ["split", "workplace_id", "score", "label", "team"]
EDGE = 1e-4  # probabilities are clipped to [EDGE, 1 - EDGE] before their logit


@dataclass(frozen=True)
class TeamEvidence:
    """Past windows' predicted and observed findings per team (`team_windows`), each team's map
    from score to finding (`fit_visit_maps`), how to draw."""

    windows: pd.DataFrame  # WINDOW_COLUMNS
    team_code: str  # the list (office column) the specialised team visits
    draws: int
    seed: int
    by_team: bool = True  # False: both teams' pooled map and ratio for every visit
    maps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MAP_COLUMNS))

    @classmethod
    def from_records(cls, records: list[dict[str, object]], lists: ListsConfig, seed: int,
                     maps: list[dict[str, object]] | None = None) -> TeamEvidence:
        """The evidence a registered model carries (`team_windows` and `fit_visit_maps` as
        records; none: empty), drawn as config `lists:` says."""
        return cls(pd.DataFrame(records, columns=WINDOW_COLUMNS), lists.specialized_team.code,
                   lists.yield_draws, seed, lists.yield_factor_by_team,
                   pd.DataFrame(maps or [], columns=MAP_COLUMNS))

    def usable(self) -> bool:
        """Whether any past window holds a positive to measure calibration on."""
        return bool(len(self.windows)) and float(self.windows["observed"].sum()) > 0

    def team_of(self, team: str) -> str:
        """The team whose map and windows stand for `team`: itself when it was measured (its
        own positives), else both teams together."""
        own = self.windows[self.windows["team"] == team]
        mapped = self.maps.empty or team in set(self.maps["team"])
        return team if self.by_team and mapped and own["observed"].sum() > 0 else BOTH

    def mapped(self, probability: np.ndarray, team: str) -> np.ndarray:
        """`team`'s finding probability of visits with calibrated `probability` (its map; the
        identity for evidence without maps)."""
        return visit_probability(probability, self.maps, team)


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


def visit_rows(test_scores: pd.DataFrame, test_labels: pd.DataFrame, inspections: pd.DataFrame,
               label_timespan_months: int, top_share: float,
               origins: list[str] | None = None) -> pd.DataFrame:
    """The inspected rows in each window's top `top_share` of scores (`test_scores` of one
    model), with outcome and team; with `origins`, only rows inspected for those reasons."""
    frames = []
    for split, scored in test_scores.groupby("split"):
        cut = scored["score"].quantile(1.0 - top_share)
        top = scored[scored["score"] >= cut].set_index("workplace_id")["score"]
        labels = test_labels[test_labels["split"] == split].set_index("workplace_id")["label"]
        labelled = labels.reindex(top.index).dropna()
        teams = window_teams(inspections, pd.Timestamp(split), label_timespan_months, origins)
        team = teams.reindex(labelled.index).dropna()
        frames.append(pd.DataFrame({"split": split, "workplace_id": team.index,
                                    "score": top.reindex(team.index).to_numpy(dtype=float),
                                    "label": labelled.reindex(team.index).to_numpy(dtype=float),
                                    "team": team.to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS)


def team_members(rows: pd.DataFrame) -> dict[str, pd.Series]:
    """Which rows belong to each team and to both together."""
    return {REGULAR: rows["team"] == REGULAR, SPECIALIZED: rows["team"] == SPECIALIZED,
            BOTH: rows["team"].notna()}


def fit_visit_maps(rows: pd.DataFrame, c: float) -> pd.DataFrame:
    """Per team (and both together) with both outcomes among its rows: intercept and slope of
    the L2-penalised logistic regression (inverse strength `c`) of outcome on logit(score)."""
    maps = []
    for team, members in team_members(rows).items():
        own = rows[members]
        if own["label"].nunique() < 2:
            continue
        model = LogisticRegression(C=c).fit(score_logit(own["score"].to_numpy())[:, None],
                                            own["label"].to_numpy())
        maps.append({"team": team, "intercept": float(model.intercept_[0]),
                     "slope": float(model.coef_[0, 0])})
    return pd.DataFrame(maps, columns=MAP_COLUMNS)


def score_logit(probability: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(probability, dtype=float), EDGE, 1.0 - EDGE))


def visit_probability(probability: np.ndarray, maps: pd.DataFrame, team: str) -> np.ndarray:
    """The finding probability under `team`'s map (identity when `maps` has none for it)."""
    own = maps[maps["team"] == team]
    if own.empty:
        return np.asarray(probability, dtype=float)
    return expit(float(own["intercept"].iloc[0])
                 + float(own["slope"].iloc[0]) * score_logit(probability))


def team_windows(rows: pd.DataFrame, maps: pd.DataFrame) -> pd.DataFrame:
    """Per window and team (and both together): rows, predicted findings (the scores under the
    team's map) and observed findings. A team without a map is drawn as both teams together
    (`TeamEvidence.team_of`), so its own rows are recorded, never drawn."""
    windows = []
    for split, window in rows.groupby("split", sort=True):
        for team, members in team_members(window).items():
            own = window[members]
            mapped = visit_probability(own["score"].to_numpy(), maps, team)
            windows.append({"split": split, "team": team, "rows": len(own),
                            "predicted": float(mapped.sum()),
                            "observed": float(own["label"].sum())})
    return pd.DataFrame(windows, columns=WINDOW_COLUMNS)


def factor_draws(windows: pd.DataFrame, team: str, draws: int,
                 rng: np.random.Generator) -> np.ndarray:
    """`draws` calibration factors of `team`: a past window at random, then its ratio from the
    Gamma(observed + 1/2, 1 / predicted) posterior."""
    own = windows[(windows["team"] == team) & (windows["predicted"] > 0)]
    chosen = own.iloc[rng.integers(0, len(own), size=draws)]
    return rng.gamma(chosen["observed"].to_numpy() + 0.5, 1.0 / chosen["predicted"].to_numpy())


def simulated_findings(target_list: pd.DataFrame, evidence: TeamEvidence) -> tuple[
        np.ndarray, np.ndarray]:
    """Per draw and listed visit: the factored mapped probability and the simulated finding."""
    rng = np.random.default_rng(evidence.seed)
    special = (target_list["office"] == evidence.team_code).to_numpy()
    p = target_list["probability"].to_numpy(dtype=float)
    factored = np.empty((evidence.draws, len(p)))
    for team, members in ((REGULAR, ~special), (SPECIALIZED, special)):
        stands_for = evidence.team_of(team)
        factors = factor_draws(evidence.windows, stands_for, evidence.draws, rng)
        factored[:, members] = np.minimum(
            1.0, factors[:, None] * evidence.mapped(p[members], stands_for)[None, :])
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

"""Target lists per inspection office: capacity, exclusions, visits and exploration slots.

Worked example of the `lists:` config this implements (offices come from config/offices.yaml):

    lists:
      exploration_share: 0.10          # 10% of each office's capacity drawn at random
      exploration_uniform_weight: 0.5  # half uniform, half proportional to the score
      exclude_inspected_months: 6
      group_same_ruc_district: true
      specialized_team: {code: GEIT-TFI, capacity: 40}
      offices: {ILM: {capacity: 120}, "16": {capacity: 30}, ...}

Order of allocation, so that no workplace is listed twice:
1. Eligible units: scored workplaces not inspected in the last `exclude_inspected_months`
   months; with `group_same_ruc_district`, the establishments of one RUC in one district form
   one visit (its score is the highest of them; its probability that at least one has forced
   labour is 1 - prod(1 - p), assuming independence).
2. The specialised national team GEIT-TFI takes the highest-scored units nationwide.
3. Each office (ILM = Lima Metropolitana, province 1501; otherwise the INEI department code,
   Callao 07) fills `capacity - round(share * capacity)` slots with its highest-scored remaining
   units ("modelo", selection probability 1), then the exploration slots by a seeded draw among
   the rest of its units ("exploracion").

Exploration design (why the probabilities are exact): each remaining unit i of an office gets
weight w_i = (1 - u) / N + u * s_i / sum(s), with N units, u = exploration_uniform_weight and
s the score; the inclusion probability is pi_i = n * w_i for n slots (capped at 1, the excess
spread over the others in proportion to w). Units are put in a seeded random order and drawn
by systematic sampling with one uniform start: the sample has exactly n units and unit i is in
it with probability exactly pi_i. Every unit has at least the known chance
n * (1 - u) / N, so later evaluation can weight what was learnt on the draw by 1 / pi_i.

A planner's request (`ListRequest(office="16", capacity=40)`) builds that office's list alone,
with that capacity and without the national team (it plans nationwide, not per office).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.targeting.activity import activity_title
from models.targeting.expected_findings import TeamEvidence, expected_findings_table
from settings.schema import ListsConfig

LIMA_METROPOLITANA_PROVINCE = "1501"
LIMA_METROPOLITANA_OFFICE = "ILM"
MODEL = "modelo"
EXPLORATION = "exploracion"
# What a visit is for: a workplace where a finding is already documented, or a new target.
FOLLOW_UP = "seguimiento"
NEW = "nuevo"
CASE_PARTS = {NEW: "new", FOLLOW_UP: "follow_up"}  # column prefixes of the yield table
LIST_COLUMNS = [
    "office", "office_name", "rank", "workplace_id", "establishments", "n_establishments",
    "ruc", "ubigeo", "department", "province", "district", "ciiu", "score", "probability",
    "selection", "selection_probability", "eligible_mean_probability",
    "reason_1", "reason_2", "reason_3",
]


def office_of(ubigeo: pd.Series) -> pd.Series:
    """Office code per INEI district code: ILM for province 1501, else the department code."""
    codes = ubigeo.astype(str)
    return pd.Series(
        np.where(codes.str[:4] == LIMA_METROPOLITANA_PROVINCE, LIMA_METROPOLITANA_OFFICE,
                 codes.str[:2]),
        index=ubigeo.index,
    )


def recently_inspected(workplace_ids: pd.Series, last_inspected_on: pd.Series,
                       as_of: pd.Timestamp, months: int) -> pd.Series:
    """True where the last inspection ordered before `as_of` is within `months` months of it."""
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(months=months)
    last = pd.to_datetime(last_inspected_on.reindex(workplace_ids.to_numpy()))
    recent = (last >= cutoff) & (last < pd.Timestamp(as_of))
    return pd.Series(recent.fillna(False).to_numpy(dtype=bool), index=workplace_ids.index)


@dataclass(frozen=True)
class WorkplaceRegistry:
    """What the lists read about each workplace besides its score."""

    workplaces: pd.DataFrame  # workplace_id, ruc, ubigeo, ciiu
    districts: pd.DataFrame  # INEI district names by `inei` code
    last_inspected_on: pd.Series  # newest inspection order date, index workplace_id

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame],
                    districts: pd.DataFrame) -> WorkplaceRegistry:
        """The registry of the clean tables, last inspections from their orders."""
        last = tables["inspections"].groupby("workplace_id")["ordered_on"].max()
        return cls(tables["workplaces"], districts, last)


@dataclass(frozen=True)
class ListRequest:
    """Which lists to build: every office's, or one office's at its configured capacity unless
    a planner overrides it (`office="16", capacity=40`)."""

    office: str | None = None
    capacity: int | None = None

    def __post_init__(self) -> None:
        if self.capacity is not None and self.office is None:
            raise ValueError("a capacity override needs the office it applies to")


EVERY_OFFICE = ListRequest()


def eligible_units(scores: pd.DataFrame, registry: WorkplaceRegistry, as_of: pd.Timestamp,
                   exclude_months: int, group_visits: bool) -> pd.DataFrame:
    """One row per unit that may be listed (a workplace, or a visit to one RUC in one district).

    Sorted by score (highest first, ties by workplace_id so the order is reproducible).
    """
    frame = scores[["workplace_id", "score", "calibrated_probability"]].merge(
        registry.workplaces[["workplace_id", "ruc", "ubigeo", "ciiu"]], on="workplace_id",
        how="inner"
    )
    frame = frame[~recently_inspected(frame["workplace_id"], registry.last_inspected_on, as_of,
                                      exclude_months)]
    frame = frame.sort_values(["score", "workplace_id"], ascending=[False, True])
    frame["unit"] = frame["ruc"] + "|" + frame["ubigeo"] if group_visits else frame["workplace_id"]
    grouped = frame.groupby("unit", sort=False)
    units = grouped.first()
    units["establishments"] = grouped["workplace_id"].agg(";".join)
    units["n_establishments"] = grouped.size()
    # P(at least one establishment has it); the product runs in the rows' order, as np.prod.
    units["probability"] = 1.0 - (1.0 - frame["calibrated_probability"].astype(float)).groupby(
        frame["unit"], sort=False).prod()
    names = registry.districts.set_index("inei")[["departamento", "provincia", "distrito"]]
    units = units.join(names, on="ubigeo").rename(columns={
        "departamento": "department", "provincia": "province", "distrito": "district",
    })
    units["office"] = office_of(units["ubigeo"])
    units = units.reset_index(drop=True)
    return units.sort_values(["score", "workplace_id"], ascending=[False, True],
                             ignore_index=True)


def inclusion_probabilities(scores: np.ndarray, n: int, uniform_weight: float) -> np.ndarray:
    """First-order inclusion probabilities of an n-unit draw from a uniform/score mixture.

    pi = n * w with w = (1 - u) / N + u * s / sum(s); units whose pi would exceed 1 are taken
    with certainty and the remaining n is spread over the others in proportion to w.
    """
    size = len(scores)
    if n >= size:
        return np.ones(size)
    total = float(np.sum(scores))
    proportional = scores / total if total > 0 else np.full(size, 1.0 / size)
    weights = (1.0 - uniform_weight) / size + uniform_weight * proportional
    certain = np.zeros(size, dtype=bool)
    while True:
        free = ~certain
        pi = np.ones(size)
        pi[free] = (n - certain.sum()) * weights[free] / weights[free].sum()
        newly_certain = free & (pi >= 1.0)
        if not newly_certain.any():
            return pi
        certain |= newly_certain


def systematic_sample(pi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions drawn by systematic sampling in random order: P(i drawn) = pi_i exactly.

    `pi` must sum to an integer n; the draw has exactly n positions.
    """
    n = int(round(pi.sum()))
    order = rng.permutation(len(pi))
    start = rng.uniform()  # drawn even when n is 0, so later offices' draws do not move
    if n == 0:
        return np.array([], dtype=int)
    cumulative = np.cumsum(pi[order])
    cumulative *= n / cumulative[-1]  # remove floating drift so the last bound is exactly n
    points_below = np.clip(np.floor(cumulative - start) + 1, 0, n)
    hits = np.diff(np.concatenate([[0.0], points_below])) > 0
    return np.sort(order[hits])


def _take(units: pd.DataFrame, office: str, office_name: str, selection: str,
          selection_probability: np.ndarray | float) -> pd.DataFrame:
    taken = units.copy()
    taken["office"], taken["office_name"] = office, office_name
    taken["selection"], taken["selection_probability"] = selection, selection_probability
    return taken


def office_list(units: pd.DataFrame, office: str, office_name: str, capacity: int,
                exploration_share: float, uniform_weight: float,
                rng: np.random.Generator) -> pd.DataFrame:
    """An office's list from its remaining units (sorted by score): model, then exploration."""
    exploration_slots = min(math.floor(exploration_share * capacity + 0.5), capacity)
    model_slots = capacity - exploration_slots
    model_part = _take(units.head(model_slots), office, office_name, MODEL, 1.0)
    rest = units.iloc[model_slots:]
    pi = inclusion_probabilities(rest["score"].to_numpy(dtype=float), exploration_slots,
                                 uniform_weight)
    drawn = systematic_sample(pi, rng) if exploration_slots < len(rest) else np.arange(len(rest))
    exploration_part = _take(rest.iloc[drawn], office, office_name, EXPLORATION, pi[drawn])
    return pd.concat([model_part, exploration_part], ignore_index=True)


def is_follow_up(establishments: pd.Series, cases: pd.Index) -> np.ndarray:
    """Whether each visit (establishments joined by ";") includes a documented case."""
    known = set(cases)
    return np.array([any(i in known for i in str(ids).split(";")) for ids in establishments],
                    dtype=bool)


def capped(units: pd.DataFrame, capacity: int, cap: float | None,
           cases: pd.Index | None) -> pd.DataFrame:
    """A list's units (sorted by score) with at most floor(cap * capacity) follow-up visits:
    the lower-scored follow-ups leave, so their places go to the next new targets (and the
    exploration draw, whose chances stay exact, is made among what remains)."""
    if cap is None or cases is None:
        return units
    follow_up = is_follow_up(units["establishments"], cases)
    excess = follow_up & (np.cumsum(follow_up) > math.floor(cap * capacity + 1e-9))
    return units[~excess]


def build_target_lists(
    scores: pd.DataFrame, registry: WorkplaceRegistry, config: ListsConfig,
    as_of: pd.Timestamp, request: ListRequest = EVERY_OFFICE, *, seed: int,
    reasons_for: Callable[[pd.Index], pd.DataFrame] | None = None,
    cases: pd.Index | None = None,
) -> pd.DataFrame:
    """The lists of the specialised team and every office (or one office on request).

    `scores` has workplace_id, score, calibrated_probability; `config` is the `lists:` section
    (offices and specialised team merged in). `reasons_for(workplace_ids)` returns
    reason_1..reason_3 for the listed units' leading establishments (SHAP is run on those rows
    only); without it the reasons stay empty. With the documented `cases`
    (`features.labels.known_cases`), config `follow_up_cap` limits each list's follow-up share.
    """
    offices = config.offices
    office, capacity = request.office, request.capacity
    if office is not None and office not in offices:
        raise ValueError(f"unknown office {office!r}; known: {sorted(offices)}")
    units = eligible_units(scores, registry, as_of, config.exclude_inspected_months,
                           config.group_same_ruc_district)
    units["eligible_mean_probability"] = units.groupby("office")["probability"].transform("mean")
    rng = np.random.default_rng(seed)
    lists = []
    if office is None:
        team = config.specialized_team
        national = capped(units, team.capacity, config.follow_up_cap, cases).head(
            team.capacity).copy()
        national["eligible_mean_probability"] = units["probability"].mean()
        lists.append(_take(national, team.code, team.name_es, MODEL, 1.0))
        units = units.drop(index=national.index)
    for code, settings in offices.items():
        if office is not None and code != office:
            continue
        office_capacity = capacity if capacity is not None else settings.capacity
        lists.append(office_list(
            capped(units[units["office"] == code], office_capacity, config.follow_up_cap, cases),
            code, settings.name_es, office_capacity,
            config.exploration_share, config.exploration_uniform_weight, rng,
        ))
    result = pd.concat(lists, ignore_index=True)
    result["rank"] = result.groupby("office", sort=False).cumcount() + 1
    reason_columns = ["reason_1", "reason_2", "reason_3"]
    if reasons_for is None or result.empty:
        result[reason_columns] = ""
    else:
        reasons = reasons_for(pd.Index(result["workplace_id"]))
        result[reason_columns] = reasons.reindex(result["workplace_id"])[reason_columns].fillna(
            ""
        ).to_numpy()
    return with_exploration_reason(result[LIST_COLUMNS])


def one_in(probability: float) -> str:
    """A selection chance as planners read it: "1 en 37" (certain = "1 en 1")."""
    return f"1 en {max(1, round(1.0 / probability)):,}".replace(",", ".")


def exploration_sentence(probability: float) -> str:
    """Why an exploration visit is on the list, and why it must be made as drawn."""
    return (f"visita de exploración sorteada con probabilidad {one_in(probability)}: debe "
            "realizarse y no reemplazarse por otra, porque mide sin sesgo dónde acierta y dónde "
            "falla la priorización")


def with_exploration_reason(target: pd.DataFrame) -> pd.DataFrame:
    """Exploration rows say first why they are there; their model reasons follow."""
    target = target.copy()
    drawn = target["selection"] == EXPLORATION
    reason_columns = ["reason_1", "reason_2", "reason_3"]
    shifted = [
        [exploration_sentence(p), *[r for r in reasons if r][:len(reason_columns) - 1]]
        for p, reasons in zip(target.loc[drawn, "selection_probability"],
                              target.loc[drawn, reason_columns].to_numpy().tolist(), strict=True)
    ]
    padded = [row + [""] * (len(reason_columns) - len(row)) for row in shifted]
    if padded:
        target.loc[drawn, reason_columns] = padded
    return target


def poisson_binomial_pmf(probabilities: np.ndarray) -> np.ndarray:
    """Exact distribution of the number of successes of independent Bernoulli(p_i) trials."""
    pmf = np.zeros(len(probabilities) + 1)
    pmf[0] = 1.0
    for k, p in enumerate(np.asarray(probabilities, dtype=float), start=1):
        pmf[1:k + 1] = pmf[1:k + 1] * (1.0 - p) + pmf[:k] * p
        pmf[0] *= 1.0 - p
    return pmf


def expected_yield(probabilities: np.ndarray, random_mean_probability: float,
                   confidence: float) -> dict[str, float]:
    """Expected forced-labour findings of a list, its exact interval, and a random list's yield.

    The number of findings is Poisson-binomial in the calibrated probabilities (visits assumed
    independent); the interval is its central `confidence` range from the exact distribution.
    A random list of the same size among the same eligible units yields its mean probability
    times the size.
    """
    p = np.asarray(probabilities, dtype=float)
    cdf = np.cumsum(poisson_binomial_pmf(p))
    tail = (1.0 - confidence) / 2.0
    return {
        "visits": float(len(p)),
        "expected_findings": float(p.sum()),
        "low": float(np.searchsorted(cdf, tail - 1e-12)),
        "high": float(np.searchsorted(cdf, 1.0 - tail - 1e-12)),
        "confidence": float(confidence),
        "random_list_expected_findings": float(random_mean_probability * len(p)),
    }


CALIBRATED_ESTIMATE = ("probabilidad calibrada, solo azar de visita (sin ventanas pasadas con "
                       "hallazgos para medir el error de calibración ni la tasa de cada equipo)")
TEAM_ESTIMATE = ("probabilidad calibrada llevada a la tasa de hallazgo del equipo que visita; "
                 "el intervalo incluye el error de calibración medido en ventanas pasadas")
UNCALIBRATED_ESTIMATE = "estimación sin calibrar"


def with_case(target: pd.DataFrame, cases: pd.Index) -> pd.DataFrame:
    """Each visit marked `case`: FOLLOW_UP when one of its establishments is a documented case
    (`features.labels.known_cases`), else NEW, so discoveries are never mixed with re-visits."""
    follow_up = is_follow_up(target["establishments"], cases)
    position = target.columns.get_loc("selection") + 1
    marked = target.copy()
    marked.insert(position, "case", np.where(follow_up, FOLLOW_UP, NEW))
    return marked


def listed_workplaces(target: pd.DataFrame, workplace_ids: pd.Index) -> pd.Series:
    """True per workplace of `workplace_ids` visited by the lists `target`: every establishment
    of a listed visit (`establishments`), since the visit covers them all."""
    listed = {i for ids in target["establishments"] for i in str(ids).split(";")}
    return pd.Series(workplace_ids.isin(list(listed)), index=workplace_ids)


def yield_by_office(target_list: pd.DataFrame, confidence: float, calibrated: bool = True,
                    evidence: TeamEvidence | None = None) -> pd.DataFrame:
    """expected_yield per office and for all lists together (office "TOTAL").

    `estimate` says how the figures were obtained: with past-window `evidence` (a calibrated
    model), the visiting team's map from probability to finding and the calibration error
    measured out of sample (models/targeting/expected_findings.py; `team_factor` = expected
    findings / sum of probabilities); without it, the calibrated
    probabilities summed with Bernoulli chance only, saying so; or raw scores of a model whose
    calibration was skipped ("estimación sin calibrar": they order offices, they are not counts).
    A list marked by `with_case` also gets, per part (new targets, follow-up), its visits and
    expected findings with their interval (`new_visits`, `new_expected_findings`, `new_low`,
    `new_high`, and the same with `follow_up_`).
    """
    rows = {
        office: expected_yield(group["probability"].to_numpy(),
                               float(group["eligible_mean_probability"].mean()), confidence)
        for office, group in target_list.groupby("office", sort=False)
    }
    total = expected_yield(target_list["probability"].to_numpy(), 0.0, confidence)
    total["random_list_expected_findings"] = float(
        sum(r["random_list_expected_findings"] for r in rows.values())
    )
    rows["TOTAL"] = total
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("office")
    if "case" in target_list:
        table = table.join(_yield_by_case(target_list, confidence))
        table["follow_up_share"] = table["follow_up_visits"] / table["visits"].where(
            table["visits"] > 0)
    table["estimate"] = estimate_text(calibrated, evidence)
    if calibrated and evidence is not None and evidence.usable():
        measured = expected_findings_table(target_list, evidence, confidence, CASE_PARTS)
        table["random_list_expected_findings"] *= measured["team_factor"]
        table.update(measured.drop(columns="team_factor"))
        table["team_factor"] = measured["team_factor"]
    return table


def estimate_text(calibrated: bool, evidence: TeamEvidence | None) -> str:
    """How a yield table's figures were obtained, as the planners' reports say it."""
    if not calibrated:
        return UNCALIBRATED_ESTIMATE
    if evidence is not None and evidence.usable():
        return TEAM_ESTIMATE
    return CALIBRATED_ESTIMATE


def _yield_by_case(target_list: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Visits and expected findings of the new and follow-up parts, per office and TOTAL."""
    offices = [*target_list["office"].unique(), "TOTAL"]
    columns = {}
    for case, prefix in CASE_PARTS.items():
        part = target_list[target_list["case"] == case]
        for office in offices:
            rows = part if office == "TOTAL" else part[part["office"] == office]
            figures = expected_yield(rows["probability"].to_numpy(), 0.0, confidence)
            columns.setdefault(office, {}).update(
                {f"{prefix}_{name}": figures[name]
                 for name in ("visits", "expected_findings", "low", "high")})
    return pd.DataFrame.from_dict(columns, orient="index")


CONTEXT_COLUMNS = ["activity", "last_inspection_on", "last_inspection_result",
                   "other_establishments_same_ruc", "principal_ruc", "chance"]


def last_inspection(inspections: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Date and known result of each workplace's last inspection ordered before `as_of`.

    The result is only what was known before `as_of` (closed earlier); otherwise "en curso".
    """
    known = inspections[inspections["ordered_on"] < as_of].sort_values(
        ["ordered_on", "inspection_id"])
    last = known.groupby("workplace_id").tail(1).set_index("workplace_id")
    closed = (last["closed_on"] < as_of).fillna(False).to_numpy(dtype=bool)
    result = np.select(
        [~closed, last["forced_labour_found"].to_numpy(dtype=bool),
         last["infraction_found"].to_numpy(dtype=bool)],
        ["en curso", "trabajo forzoso", "con infracción"], "sin infracción",
    )
    return pd.DataFrame({"last_inspection_on": last["ordered_on"].dt.strftime("%Y-%m-%d"),
                         "last_inspection_result": result}, index=last.index)


def with_context(target: pd.DataFrame, workplaces: pd.DataFrame, inspections: pd.DataFrame,
                 as_of: pd.Timestamp) -> pd.DataFrame:
    """The list with what a planner needs before a visit (CONTEXT_COLUMNS), no personal data."""
    registry = workplaces.set_index("workplace_id")
    per_ruc = workplaces.groupby("ruc").size()
    leading = target["workplace_id"]
    context = pd.DataFrame({
        "activity": [activity_title(c) or "" for c in target["ciiu"]],
        "other_establishments_same_ruc": (
            target["ruc"].map(per_ruc).fillna(0).astype(int) - target["n_establishments"]
        ).to_numpy(),
        "principal_ruc": registry["contractor_of"].reindex(leading).fillna("").to_numpy(),
        "chance": [one_in(p) for p in target["selection_probability"]],
    }, index=target.index)
    last = last_inspection(inspections, as_of).reindex(leading)
    context["last_inspection_on"] = last["last_inspection_on"].fillna("").to_numpy()
    context["last_inspection_result"] = last["last_inspection_result"].fillna(
        "nunca inspeccionado").to_numpy()
    return pd.concat([target, context[CONTEXT_COLUMNS]], axis=1)

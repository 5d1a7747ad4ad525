"""Seeded generator of a SUNAFIL-like demo world in the canonical form, with a hidden truth.

The world is simulated month by month (vectorised over workplaces, never looping over rows):
a registry of workplaces on Peru's real districts; two hidden Markov processes per workplace,
involuntariness and coercion (forced labour = both at once), plus child labour; complaints that
depend on the hidden state but are rarer where workers are isolated; inspection orders from
complaints, campaigns, ex officio and authority requests; imperfect detection that depends on the
team and the subjects; findings that may end a spell. Public tables are strings as they would
appear in CSV; the truth tables are written to a separate folder that only `evaluation/` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cleaning.contract import (
    CHANNELS,
    FL_INDICATORS,
    ORIGINS,
    RUC_WEIGHTS,
    SUBJECTS,
    TOPICS,
    column_names,
    load_districts,
)
from demo_world import names, spec
from demo_world.defects import inject_defects
from demo_world.listed_operations import ListedOperations
from demo_world.scenarios import BASELINE, Knobs, draw_knobs, scenario_record
from demo_world.truth_readme import render_truth_readme
from settings import catalog

BURN_IN_MONTHS = 36  # simulated before the window so spells have realistic start dates

# Expected events per active workplace-year before state multipliers (normalised weights).
COMPLAINTS_PER_WORKPLACE_YEAR = 0.10
PLANNED_PER_WORKPLACE_YEAR = 0.009
EX_OFFICIO_PER_WORKPLACE_YEAR = 0.0065
AUTHORITY_PER_WORKPLACE_YEAR = 0.002
COMPLAINT_TO_ORDER = 0.62

# Intercepts of the hidden log-hazards (per month) and mean durations (months).
COERCION_INTERCEPT = -3.6
CHILD_LABOUR_INTERCEPT = -8.0
COERCION_WITHOUT_INVOLUNTARY = 0.15
COERCION_MEAN_MONTHS = 14.0
CHILD_LABOUR_MEAN_MONTHS = 12.0
RESCUE_PROBABILITY = 0.8
DETERRENCE_MONTHS = 24
DETERRENCE_FACTOR = 0.3

SPECIALIZED_DETECTION = 0.65
SURGE_RAMP_MONTHS = 6

FL_TOPICS = ("withheld_documents", "threats_violence", "confinement", "debt",
             "recruitment_deception")
TOPIC_BASE = dict(zip(TOPICS, (0.45, 0.01, 0.25, 0.02, 0.003, 0.01, 0.18, 0.005, 0.01, 0.25),
                      strict=True))
TOPIC_INVOLUNTARY = {"unpaid_wages": 0.6, "withheld_documents": 0.15, "debt": 0.15,
                     "recruitment_deception": 0.15}
TOPIC_COERCION = {"threats_violence": 0.2, "confinement": 0.08}
TOPIC_FORCED = {"unpaid_wages": 0.7, "excessive_hours": 0.5, "withheld_documents": 0.35,
                "debt": 0.3, "confinement": 0.25, "threats_violence": 0.35,
                "recruitment_deception": 0.3}
TOPIC_CHILD = {"child_labour": 0.35}
TOPIC_TO_SUBJECT = {"unpaid_wages": "wages", "excessive_hours": "hours",
                    "unsafe_conditions": "osh", "no_contract": "registration"}
SUBJECT_BASE = dict(zip(SUBJECTS, (0.45, 0.3, 0.3, 0.3, 0.2, 0.0, 0.0, 0.03, 0.03), strict=True))

INDICATOR_WEIGHTS = {
    "remote": dict(isolation=5, restriction_of_movement=4, debt_bondage=5, withholding_of_wages=4,
                   abusive_conditions=4, deception=4, abuse_of_vulnerability=3,
                   intimidation_threats=3, physical_sexual_violence=1, retention_of_documents=2,
                   excessive_overtime=2),
    "urban": dict(retention_of_documents=5, excessive_overtime=4, withholding_of_wages=4,
                  abuse_of_vulnerability=4, intimidation_threats=3, restriction_of_movement=2,
                  deception=3, debt_bondage=2, abusive_conditions=3, isolation=1,
                  physical_sexual_violence=1),
}
REMOTE_GROUPS = ("mining", "logging", "nuts", "agro", "fishing", "bricks")
EXTRACTIVE_GROUPS = ("mining", "logging", "nuts", "agro", "fishing")

# Fine ranges in UIT (leve, grave, muy grave) by size band, after the RLGIT scale.
FINE_RANGES = {
    "micro": ((0.045, 0.45), (0.11, 1.13), (0.23, 2.25)),
    "pequena": ((0.09, 4.5), (0.45, 13.5), (0.77, 22.5)),
    "mediana": ((0.26, 26.1), (1.57, 52.5), (2.63, 52.5)),
    "grande": ((0.26, 26.1), (1.57, 52.5), (2.63, 52.5)),
}
FORCED_LABOUR_FINE_CAP = 200.0


@dataclass
class DemoWorld:
    """The public tables (canonical columns, CSV-ready strings) and the hidden truth tables."""

    workplaces: pd.DataFrame
    inspections: pd.DataFrame
    complaints: pd.DataFrame
    truth: dict[str, pd.DataFrame]
    scenario: dict[str, object] = field(default_factory=dict)  # truth/scenario.json
    list_log: pd.DataFrame | None = None  # Vigía-style lists of scenario vigia_lists


@dataclass(frozen=True)
class Calendar:
    """Month grid: burn-in months first, then the observed window [start, end]."""

    start: pd.Timestamp
    end: pd.Timestamp
    month_starts: np.ndarray  # datetime64[D], burn-in + window
    burn_in: int

    @property
    def n_months(self) -> int:
        return len(self.month_starts)

    def days_in_month(self, t: np.ndarray | int) -> np.ndarray:
        nxt = self.month_starts[t] .astype("datetime64[M]") + 1
        return (nxt.astype("datetime64[D]") - self.month_starts[t]).astype(int)

    def month_of(self, dates: np.ndarray) -> np.ndarray:
        """Index in the grid of the month containing each date."""
        first = self.month_starts[0].astype("datetime64[M]")
        return (dates.astype("datetime64[M]") - first).astype(int)


def _calendar(start: str, end: str) -> Calendar:
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    first = np.datetime64(start_ts.to_period("M").start_time.date(), "M") - BURN_IN_MONTHS
    last = np.datetime64(end_ts.to_period("M").start_time.date(), "M")
    months = np.arange(first, last + 1).astype("datetime64[D]")
    return Calendar(start_ts, end_ts, months, BURN_IN_MONTHS)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - np.nanmean(x)) / np.nanstd(x)


def _district_context(districts: pd.DataFrame) -> pd.DataFrame:
    """Numeric district context with gaps filled from the province, then the department.

    New districts lack area and density in the INEI table; they still exist, so they get their
    province's median values (and half its median population: they are small and recent).
    """
    d = districts[["inei", "reniec", "department_code", "province_code"]].copy()
    for source, target in (("superficie", "area"), ("pob_densidad_2020", "density"),
                           ("altitude", "altitude"), ("pct_pobreza_total", "poverty")):
        values = pd.to_numeric(districts[source], errors="coerce").astype(float)
        values = values.fillna(values.groupby(d["province_code"]).transform("median"))
        values = values.fillna(values.groupby(d["department_code"]).transform("median"))
        d[target] = values.fillna(values.median()).to_numpy()
    gap = pd.to_numeric(districts["superficie"], errors="coerce").isna().to_numpy()
    d["population"] = d["area"] * d["density"] * np.where(gap, 0.5, 1.0)
    d["remoteness"] = (0.5 * _zscore(-np.log(d["density"].clip(lower=0.1).to_numpy()))
                       + 0.2 * _zscore(d["altitude"].to_numpy())
                       + 0.3 * _zscore(d["poverty"].to_numpy()))
    enrichment = d["department_code"].map(spec.DEPARTMENT_ENRICHMENT).fillna(1.0).to_numpy()
    d["weight"] = d["population"].to_numpy() ** 0.9 * enrichment
    return d.reset_index(drop=True)


def _sample_index(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights) / weights.sum()
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(weights) - 1)


def _rucs(rng: np.random.Generator, prefixes: np.ndarray) -> np.ndarray:
    """Unique valid RUCs: digits 3-10 are a DNI for prefix 10, a random body for the others."""
    n = len(prefixes)

    def bodies(size: int, prefix: np.ndarray) -> np.ndarray:
        dni = rng.integers(1_000_000, 79_999_999, size)
        company = rng.choice([1, 4, 5, 6], size=size) * 10_000_000 + rng.integers(0, 10**7, size)
        return prefix.astype(np.int64) * 100_000_000 + np.where(prefix == 10, dni, company)

    full = bodies(n, prefixes)
    while True:
        _, first_index = np.unique(full, return_index=True)
        duplicated = np.ones(n, dtype=bool)
        duplicated[first_index] = False
        if not duplicated.any():
            break
        full[duplicated] = bodies(int(duplicated.sum()), prefixes[duplicated])
    digits = (full[:, None] // 10 ** np.arange(9, -1, -1)) % 10
    r = 11 - (digits @ RUC_WEIGHTS) % 11
    check = np.where(r == 10, 0, np.where(r == 11, 1, r))
    return np.char.add(full.astype(str), check.astype(str)).astype(object)


def _registry(
    rng: np.random.Generator, n: int, districts: pd.DataFrame, cal: Calendar, knobs: Knobs
) -> pd.DataFrame:
    """The hidden registry: one row per workplace with public and latent attributes."""
    sectors = spec.SECTORS
    # Firms and their establishments.
    n_firms = n
    prefix = rng.choice([10, 15, 17, 20], size=n_firms, p=[0.52, 0.02, 0.01, 0.45])
    person = (prefix == 10) | (prefix == 15)
    entity_est = rng.choice([1, 2, 3, 5, 12], size=n_firms, p=[0.72, 0.14, 0.07, 0.05, 0.02])
    n_est = np.where(person, np.where(rng.random(n_firms) < 0.05, 2, 1), entity_est)
    keep = np.searchsorted(np.cumsum(n_est), n) + 1
    prefix, person, n_est = prefix[:keep], person[:keep], n_est[:keep]
    n_firms = keep
    hq_district = _sample_index(rng, districts["weight"].to_numpy(), n_firms)
    departments = sorted(spec.DEPARTMENT_INFORMALITY)
    dept_pos = {d: i for i, d in enumerate(departments)}
    hq_dept = np.array([dept_pos[d] for d in districts["department_code"].to_numpy()])[hq_district]
    base = np.array([s.weight for s in sectors])
    mult = np.array([[s.regions.get(d, s.default_region) for s in sectors] for d in departments])
    probs = base * mult
    domestic = np.array([s.group == "domestic" for s in sectors])
    cdf_person = np.cumsum(probs, axis=1) / probs.sum(axis=1, keepdims=True)
    probs_entity = np.where(domestic, 0.0, probs)
    cdf_entity = np.cumsum(probs_entity, axis=1) / probs_entity.sum(axis=1, keepdims=True)
    cdf = np.where(person[:, None], cdf_person[hq_dept], cdf_entity[hq_dept])
    firm_sector = np.minimum((cdf < rng.random(n_firms)[:, None]).sum(axis=1), len(sectors) - 1)
    ruc = _rucs(rng, prefix)
    groups_all = np.array([s.group for s in sectors])
    firm_group = groups_all[firm_sector]
    venezuelan_owner = (prefix == 15) | ((prefix == 10) & (rng.random(n_firms) < 0.02))
    firm_name = np.where(
        person,
        names.person_names(rng, venezuelan_owner, registry_style=True),
        names.business_names(rng, firm_group),
    )
    firm_age_years = np.where(rng.random(n_firms) < 0.8,
                              rng.exponential(9.0, n_firms) + 0.1,
                              -rng.random(n_firms) * (cal.end - cal.start).days / 365.25 * 0.95)
    firm_start = (np.datetime64(cal.start.date(), "D")
                  - (firm_age_years * 365.25).astype(int).astype("timedelta64[D]"))

    # Expand to establishments (workplaces).
    firm = np.repeat(np.arange(n_firms), n_est)[:n]
    est = (np.arange(len(firm)) - np.repeat(np.cumsum(n_est) - n_est, n_est)[:n])
    sector_idx = firm_sector[firm]
    group = groups_all[sector_idx]
    district = hq_district[firm].copy()
    annex = est > 0
    same_dept = annex & (np.isin(group, EXTRACTIVE_GROUPS) | (rng.random(n) < 0.5))
    anywhere = annex & ~same_dept
    district[anywhere] = _sample_index(rng, districts["weight"].to_numpy(), int(anywhere.sum()))
    dept_codes = districts["department_code"].to_numpy()
    for code in np.unique(dept_codes[district[same_dept]]):
        rows = np.flatnonzero(same_dept & (dept_codes[district] == code))
        pool = np.flatnonzero(dept_codes == code)
        district[rows] = pool[_sample_index(rng, districts["weight"].to_numpy()[pool], len(rows))]
    annex_delay = (rng.random(n) * np.maximum(
        (np.datetime64(cal.end.date(), "D") - firm_start[firm]).astype(int) * 0.5, 0)).astype(int)
    activity_start = firm_start[firm] + np.where(annex, annex_delay, 0).astype("timedelta64[D]")

    wp = pd.DataFrame({
        "workplace_id": np.char.add(np.char.add(ruc[firm].astype(str), "-"),
                                    np.char.zfill(est.astype(str), 4)),
        "ruc": ruc[firm].astype(str),
        "name": firm_name[firm],
        "person": person[firm],
        "ciiu": np.array([s.ciiu for s in sectors])[sector_idx],
        "group": group,
        "sector_idx": sector_idx,
        "ubigeo": districts["inei"].to_numpy()[district].astype(str),
        "department_code": dept_codes[district].astype(str),
        "remoteness": districts["remoteness"].to_numpy()[district],
        "density": districts["density"].to_numpy()[district],
        "poverty": districts["poverty"].to_numpy()[district],
        "activity_start": activity_start,
    })
    # Workforce, informality and size.
    med = np.array([s.median_workers for s in sectors])[sector_idx]
    sig = np.array([s.workers_sigma for s in sectors])[sector_idx]
    scale = np.where(wp["person"], 0.5, 1.3)
    real = np.maximum(1, np.round(med * scale * np.exp(sig * rng.standard_normal(n)))).astype(int)
    dept_informality = wp["department_code"].map(spec.DEPARTMENT_INFORMALITY).to_numpy()
    risky = np.array([s.involuntary > 1.0 for s in sectors])[sector_idx]
    p_zero = np.clip(0.6 * dept_informality - 0.2 + 0.25 * wp["person"] + 0.1 * risky, 0.02, 0.85)
    fully_informal = rng.random(n) < p_zero
    mean_formal = np.clip(1.0 - 0.6 * dept_informality, 0.2, 0.9)
    formal_share = rng.beta(4 * mean_formal, 4 * (1 - mean_formal))
    declared = np.where(fully_informal, 0, rng.binomial(real, formal_share))
    reported = real * np.exp(0.4 * rng.standard_normal(n)) * np.where(declared == 0, 0.5, 1.0)
    size_band = np.select([reported <= 10, reported <= 100, reported <= 250],
                          ["micro", "pequena", "mediana"], "grande")
    regime = np.select(
        [np.isin(group, list(spec.LABOUR_REGIME_BY_GROUP)) & (rng.random(n) < 0.85),
         (size_band == "micro") & (rng.random(n) < 0.5),
         (size_band == "pequena") & (rng.random(n) < 0.5),
         rng.random(n) < 0.03],
        [pd.Series(group).map(spec.LABOUR_REGIME_BY_GROUP).fillna("general").to_numpy(),
         "micro", "pequena", "other"],
        "general",
    )
    migrant_mean = np.clip(0.03 + 0.12 * wp["department_code"].map(spec.DEPARTMENT_MIGRANTS)
                           .fillna(0.1).to_numpy() * pd.Series(group).map(spec.GROUP_MIGRANTS)
                           .fillna(0.5).to_numpy(), 0.01, 0.6)
    wp["migrant_share"] = rng.beta(4 * migrant_mean, 4 * (1 - migrant_mean))
    wp["real_workers"] = real
    wp["declared_workers"] = declared
    wp["informality"] = 1.0 - declared / real
    wp["size_band"] = size_band
    wp["labour_regime"] = regime
    _assign_principals(rng, wp, knobs.intermediary_share_scale)
    active_days = (np.datetime64(cal.end.date(), "D") - activity_start).astype(int)
    closes = rng.random(n) < 0.08
    close_after = (rng.random(n) * np.maximum(active_days, 0)).astype(int)
    wp["active_until"] = np.where(closes & (close_after > 180),
                                  activity_start + close_after.astype("timedelta64[D]"),
                                  np.datetime64("NaT"))
    return wp


def _assign_principals(rng: np.random.Generator, wp: pd.DataFrame, share_scale: float) -> None:
    """Subcontractors and recruiters: truth knows the principal; the registry shows it rarely."""
    n = len(wp)
    share = np.array([s.intermediary_share for s in spec.SECTORS])[wp["sector_idx"]]
    share = np.minimum(share * share_scale, 0.9)
    group = wp["group"].to_numpy()
    principal_candidate = (~wp["person"].to_numpy()) & np.isin(
        wp["size_band"].to_numpy(), ["pequena", "mediana", "grande"])
    intermediary = (rng.random(n) < share) & ~principal_candidate
    principal = np.full(n, None, dtype=object)
    rucs = wp["ruc"].to_numpy()
    dept = wp["department_code"].to_numpy()
    for g in spec.CHAIN_GROUPS:
        pool = np.flatnonzero(principal_candidate & (group == g))
        rows = np.flatnonzero(intermediary & (group == g))
        if len(pool) == 0 or len(rows) == 0:
            intermediary[rows] = False
            continue
        pick = pool[rng.integers(0, len(pool), len(rows))]
        for code in np.unique(dept[rows]):
            local = pool[dept[pool] == code]
            here = dept[rows] == code
            if len(local) and rng.random() < 0.9:
                pick[here] = local[rng.integers(0, len(local), int(here.sum()))]
        principal[rows] = rucs[pick]
    intermediary &= principal != rucs
    principal[~intermediary] = None
    wp["intermediary"] = intermediary
    wp["principal_ruc"] = principal
    reported = intermediary & (rng.random(n) < 0.45)
    wp["contractor_of"] = np.where(reported, principal, None)


def _hazards(rng: np.random.Generator, wp: pd.DataFrame, knobs: Knobs) -> dict[str, np.ndarray]:
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
    poverty_z = _zscore(wp["poverty"].to_numpy())
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
        "involuntary_exit": 1.0 / (10.0 + 14.0 * _sigmoid(remote)),
        "coercion_exit": np.full(n, 1.0 / COERCION_MEAN_MONTHS),
        "child_labour_exit": np.full(n, 1.0 / CHILD_LABOUR_MEAN_MONTHS),
    }


def _onset(eta: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-np.exp(eta) * multiplier)


def _choose_campaigns(rng: np.random.Generator, years: np.ndarray, knobs: Knobs) -> pd.DataFrame:
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


def _campaign_of(wp: pd.DataFrame, campaigns: pd.DataFrame, year: int) -> np.ndarray:
    """Index of the campaign covering each workplace in a year (-1 if none)."""
    out = np.full(len(wp), -1)
    best = np.ones(len(wp))
    for row in campaigns[campaigns["year"] == year].itertuples():
        c = spec.CAMPAIGNS[row.campaign_idx]
        hit = (wp["group"].isin(c.groups) & wp["department_code"].isin(c.departments)).to_numpy()
        better = hit & (c.factor > best)
        out[better], best[better] = row.campaign_idx, c.factor
    return out


def _random_days(rng: np.random.Generator, cal: Calendar, t: int, n: int) -> np.ndarray:
    return cal.month_starts[t] + rng.integers(0, cal.days_in_month(t), n).astype("timedelta64[D]")


def _topics(
    rng: np.random.Generator, inv: np.ndarray, coe: np.ndarray, cl: np.ndarray
) -> np.ndarray:
    """Complaint topic matrix: abusive conditions raise the matching topics."""
    n = len(inv)
    p = np.tile(np.array([TOPIC_BASE[t] for t in TOPICS]), (n, 1))
    for table, mask in ((TOPIC_INVOLUNTARY, inv), (TOPIC_COERCION, coe),
                        (TOPIC_FORCED, inv & coe), (TOPIC_CHILD, cl)):
        for topic, value in table.items():
            j = TOPICS.index(topic)
            p[mask, j] = np.maximum(p[mask, j], value)
    chosen = rng.random((n, len(TOPICS))) < p
    empty = ~chosen.any(axis=1) & (rng.random(n) > 0.03)
    fallback = rng.choice([TOPICS.index(t) for t in ("unpaid_wages", "no_contract",
                                                     "excessive_hours")], size=n)
    chosen[np.flatnonzero(empty), fallback[empty]] = True
    return chosen


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


def _simulate(rng: np.random.Generator, wp: pd.DataFrame, hz: dict[str, np.ndarray],
              cal: Calendar, campaigns: pd.DataFrame, knobs: Knobs) -> dict[str, object]:
    """Month-by-month hidden states, complaints and inspection visits."""
    n, T = len(wp), cal.n_months
    groups = wp["group"].to_numpy()
    seasons = spec.season_matrix(groups)
    start_t = np.maximum(cal.month_of(wp["activity_start"].to_numpy().astype("datetime64[D]")), 0)
    until = wp["active_until"].to_numpy().astype("datetime64[D]")
    end_t = np.where(np.isnat(until), T, cal.month_of(until))
    states = {k: np.zeros((n, T), dtype=bool) for k in ("involuntary", "coercion", "child")}
    remote = wp["remoteness"].to_numpy()
    real = wp["real_workers"].to_numpy().astype(float)
    declared = wp["declared_workers"].to_numpy()
    violation_z = _zscore(hz["violation"])
    urban = np.clip(np.log10(wp["density"].to_numpy() + 1) / 3, 0.3, 1.3)
    w_complaint = real ** 0.6 * np.exp(0.5 * violation_z) * (0.5 + 1 - wp["informality"]) * urban
    w_planned = real ** 0.3 * np.where(declared > 0, 2.0, 1.0)
    w_exoff = real ** 0.4
    k_complaint = COMPLAINTS_PER_WORKPLACE_YEAR / 12 / w_complaint.mean()
    k_planned = PLANNED_PER_WORKPLACE_YEAR / 12 / w_planned.mean()
    k_exoff = EX_OFFICIO_PER_WORKPLACE_YEAR / 12 / w_exoff.mean()
    isolation = np.exp(-0.6 * np.maximum(remote, 0))
    month_years = cal.month_starts.astype("datetime64[Y]").astype(int) + 1970
    month_of_year = cal.month_starts.astype("datetime64[M]").astype(int) % 12
    covid = np.isin(np.datetime_as_string(cal.month_starts, unit="M"), spec.COVID_MONTHS)
    deter_until = np.full(n, -1)
    rescue = np.zeros(n, dtype=bool)
    child_rescue = np.zeros(n, dtype=bool)
    risk_columns: dict[str, np.ndarray] = {}
    complaints, visits = [], []
    pending = {"wp": np.zeros(0, int), "day": np.zeros(0, "datetime64[D]"),
               "complaint": np.zeros(0, int), "fl_topic": np.zeros(0, bool),
               "cl_topic": np.zeros(0, bool)}
    complaint_count = 0
    last_t = T - 1
    campaign_cache: dict[int, np.ndarray] = {}
    campaign_factors = np.array([c.factor for c in spec.CAMPAIGNS]) * knobs.campaign_factor_scale
    surge_rows, surge_by_month = _surge(wp, cal, knobs)
    chain = pd.factorize(wp["principal_ruc"].fillna(wp["ruc"]))[0]
    lister = ListedOperations(wp["workplace_id"].to_numpy(), wp["ubigeo"].to_numpy(), T,
                              knobs.list_periods, knobs.list_share,
                              knobs.list_score_noise) if knobs.list_periods else None

    for t in range(T):
        active = (t >= start_t) & (t < end_t)
        mult = seasons[:, month_of_year[t]] * spec.trend_factor(
            groups, month_years[t] + month_of_year[t] / 12)
        if knobs.surge_factor != 1.0:
            mult = np.where(surge_rows, mult * surge_by_month[t], mult)
        if knobs.chain_contagion != 1.0 and t > 0:
            mult = mult * _chain_exposure(chain, states["involuntary"][:, t - 1]
                                          & states["coercion"][:, t - 1], knobs.chain_contagion)
        deter = np.where(deter_until >= t, DETERRENCE_FACTOR, 1.0)
        a_inv = _onset(hz["involuntary"], mult * deter)
        a_coe = _onset(hz["coercion"], mult * deter)
        a_cl = _onset(hz["child_labour"], np.ones(n))
        if t == 0:
            p_inv = a_inv / (a_inv + hz["involuntary_exit"])
            inv = rng.random(n) < p_inv
            coe = inv & (rng.random(n) < a_coe / (a_coe + hz["coercion_exit"]))
            child = rng.random(n) < a_cl / (a_cl + hz["child_labour_exit"])
        else:
            prev_inv, prev_coe, prev_cl = (states["involuntary"][:, t - 1],
                                           states["coercion"][:, t - 1], states["child"][:, t - 1])
            u = rng.random((3, n))
            inv = np.where(prev_inv, u[0] >= hz["involuntary_exit"], u[0] < a_inv) & ~rescue
            coe_onset = a_coe * np.where(inv, 1.0, COERCION_WITHOUT_INVOLUNTARY)
            coe_exit = hz["coercion_exit"] + np.where(inv, 0.0, 0.5)
            coe = np.where(prev_coe, u[1] >= coe_exit, u[1] < coe_onset) & ~rescue
            child = np.where(prev_cl, u[2] >= hz["child_labour_exit"], u[2] < a_cl) & ~child_rescue
        inv &= active
        coe &= active
        child &= active
        states["involuntary"][:, t] = inv
        states["coercion"][:, t] = coe
        states["child"][:, t] = child
        rescue[:] = False
        child_rescue[:] = False
        if t < cal.burn_in:
            continue
        m = t - cal.burn_in
        forced = inv & coe
        if m % 3 == 0:
            p_inv_now = a_inv / (a_inv + hz["involuntary_exit"])
            p_coe_now = a_coe / (a_coe + hz["coercion_exit"])
            label = str(cal.month_starts[t])
            risk_columns[label] = np.where(active, p_inv_now * p_coe_now, 0.0)
        year = int(month_years[t])
        if year not in campaign_cache:
            campaign_cache[year] = _campaign_of(wp, campaigns, year)
        campaign = campaign_cache[year]
        factor_c = spec.COVID_COMPLAINT_FACTOR if covid[t] else 1.0
        factor_i = spec.COVID_INSPECTION_FACTOR if covid[t] else 1.0

        # Complaints: driven by violations, muted where forced labour isolates workers.
        state_factor = np.where(forced, 1.2 * isolation, np.where(inv | coe, 1.5, 1.0))
        if knobs.coercion_silence:
            state_factor = state_factor * np.where(coe, 1.0 - knobs.coercion_silence, 1.0)
        lam = k_complaint * w_complaint * state_factor * factor_c * active
        counts = rng.poisson(lam)
        c_wp = np.repeat(np.arange(n), counts)
        nc = len(c_wp)
        c_day = np.maximum(_random_days(rng, cal, t, nc),
                           wp["activity_start"].to_numpy().astype("datetime64[D]")[c_wp])
        c_topics = _topics(rng, inv[c_wp], coe[c_wp], child[c_wp])
        c_ids = complaint_count + np.arange(nc)
        complaint_count += nc
        fl_topic = c_topics[:, [TOPICS.index(x) for x in FL_TOPICS]].any(axis=1)
        cl_topic = c_topics[:, TOPICS.index("child_labour")]
        complaints.append({"wp": c_wp, "day": c_day, "topics": c_topics, "id": c_ids,
                           "fl": forced[c_wp], "inv": inv[c_wp], "coe": coe[c_wp],
                           "child": child[c_wp], "t": np.full(nc, t)})
        to_order = rng.random(nc) < np.where(fl_topic | cl_topic, 0.85, COMPLAINT_TO_ORDER)
        lag = 3 + rng.gamma(1.5, np.where(fl_topic, 7.0, 15.0))
        order_day = c_day + np.round(lag).astype(int).astype("timedelta64[D]")
        keep = to_order & (cal.month_of(order_day) <= last_t)
        for key, values in (("wp", c_wp), ("day", order_day), ("complaint", c_ids),
                            ("fl_topic", fl_topic), ("cl_topic", cl_topic)):
            pending[key] = np.concatenate([pending[key], values[keep]])
        due = cal.month_of(pending["day"]) == t
        due_wp = pending["wp"][due]
        due_day = pending["day"][due]
        due_complaint = pending["complaint"][due]
        due_fl, due_cl = pending["fl_topic"][due], pending["cl_topic"][due]
        pending = {k: v[~due] for k, v in pending.items()}

        # Other origins.
        camp_factor = np.where(campaign >= 0, campaign_factors[campaign],
                               knobs.planned_outside_campaigns)
        planned_rate = k_planned * w_planned * camp_factor * factor_i * active
        if lister is not None:
            lister.draw(rng, t, cal.month_starts[t],
                        a_inv / (a_inv + hz["involuntary_exit"])
                        * a_coe / (a_coe + hz["coercion_exit"]), active,
                        sum(len(v["wp"]) for v in visits[-3:]))
            planned_rate = planned_rate * lister.planned_factor(t)
        n_plan = rng.poisson(planned_rate)
        n_exoff = rng.poisson(k_exoff * w_exoff * np.where(forced, 4.0, 1.0) * factor_i * active)
        authority_lam = (AUTHORITY_PER_WORKPLACE_YEAR / 12
                         * (1 + 80 * forced + 8 * child + 3 * (inv | coe)) * active)
        n_auth = rng.poisson(authority_lam)
        other_wp = np.concatenate([np.repeat(np.arange(n), k) for k in (n_plan, n_exoff, n_auth)])
        other_origin = np.repeat([1, 2, 3], [n_plan.sum(), n_exoff.sum(), n_auth.sum()])
        if lister is not None:  # list visits are planned orders
            other_wp = np.concatenate([lister.due(t), other_wp])
            other_origin = np.concatenate([np.ones(len(lister.due(t)), int), other_origin])
        other_day = np.maximum(_random_days(rng, cal, t, len(other_wp)),
                               wp["activity_start"].to_numpy().astype("datetime64[D]")[other_wp])
        v_wp = np.concatenate([due_wp, other_wp])
        nv = len(v_wp)
        origin = np.concatenate([np.zeros(len(due_wp), int), other_origin])
        has_fl = np.concatenate([due_fl, np.zeros(len(other_wp), bool)])
        has_cl = np.concatenate([due_cl, np.zeros(len(other_wp), bool)])
        v_campaign = np.where(origin == 1, campaign[v_wp], -1)
        camp_spec = np.where(v_campaign >= 0, np.array(
            [c.specialized_share for c in spec.CAMPAIGNS])[v_campaign], 0.005)
        camp_fl = np.where(v_campaign >= 0, np.array(
            ["forced_labour" in c.subjects for c in spec.CAMPAIGNS])[v_campaign], False)
        camp_cl = np.where(v_campaign >= 0, np.array(
            ["child_labour" in c.subjects for c in spec.CAMPAIGNS])[v_campaign], False)
        p_spec = np.select([origin == 0, origin == 1, origin == 2],
                           [0.01 + 0.5 * has_fl + 0.35 * has_cl, camp_spec, 0.03], 0.35)
        lima = wp["department_code"].to_numpy()[v_wp] == "15"
        specialized = rng.random(nv) < np.clip(p_spec * np.where(lima, 1.3, 0.8), 0, 0.95)
        u = rng.random((4, nv))
        fl_subject = np.where(specialized, u[0] < 0.95, u[0] < np.select(
            [origin == 0, origin == 1, origin == 3], [0.02 + 0.43 * has_fl, 0.02 + 0.48 * camp_fl,
                                                      0.8], 0.02))
        cl_subject = np.where(specialized, u[1] < 0.6,
                              u[1] < 0.03 + 0.87 * has_cl + 0.57 * camp_cl)
        v_fl, v_inv, v_coe, v_cl = forced[v_wp], inv[v_wp], coe[v_wp], child[v_wp]
        remote_penalty = np.exp(-0.15 * np.maximum(remote[v_wp], 0))
        p_detect = (np.where(specialized, SPECIALIZED_DETECTION, knobs.regular_detection)
                    * remote_penalty)
        false_scale = np.where(specialized, 1.0, knobs.regular_false_positive_scale)
        p_false = np.where(v_inv | v_coe, np.where(specialized, 0.04, 0.02), 0.0015) * false_scale
        fl_found = fl_subject & np.where(v_fl, u[2] < p_detect, u[2] < p_false)
        cl_found = cl_subject & np.where(v_cl, u[3] < np.where(specialized, 0.7, 0.45),
                                         u[3] < 0.002)
        rescued = fl_found & v_fl & (rng.random(nv) < RESCUE_PROBABILITY)
        rescue[v_wp[rescued]] = True
        deter_until[v_wp[rescued]] = t + DETERRENCE_MONTHS
        child_rescue[v_wp[cl_found & v_cl & (rng.random(nv) < 0.7)]] = True
        visits.append({
            "wp": v_wp, "day": np.concatenate([due_day, other_day]), "origin": origin,
            "complaint": np.concatenate([due_complaint, np.full(len(other_wp), -1)]),
            "campaign": v_campaign, "specialized": specialized, "fl_subject": fl_subject,
            "cl_subject": cl_subject, "fl": v_fl, "inv": v_inv, "coe": v_coe, "child": v_cl,
            "fl_found": fl_found, "cl_found": cl_found, "rescued": rescued,
        })

    def stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    return {"states": states, "complaints": stack(complaints), "visits": stack(visits),
            "risk": risk_columns, "list_log": lister.log() if lister is not None else None}


def _join_codes(matrix: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """Boolean code matrix -> ';'-joined strings, via the few distinct rows (no per-row loop)."""
    keys = matrix.astype(np.int64) @ (1 << np.arange(matrix.shape[1], dtype=np.int64))
    unique, inverse = np.unique(keys, return_inverse=True)
    text = [";".join(c for j, c in enumerate(codes) if key >> j & 1) for key in unique]
    return np.asarray(text, dtype=object)[inverse]


def _iso(dates: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(dates.astype("datetime64[D]"), unit="D").astype(object)
    text[np.isnat(dates)] = None
    return text


def _bool_text(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false").astype(object)


def _pick_indicators(
    rng: np.random.Generator, remote_style: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Top-k indicators per row by Gumbel-perturbed setting-specific weights."""
    n = len(k)
    weights = np.where(
        remote_style[:, None],
        np.array([INDICATOR_WEIGHTS["remote"][c] for c in FL_INDICATORS], float),
        np.array([INDICATOR_WEIGHTS["urban"][c] for c in FL_INDICATORS], float),
    )
    scores = np.log(weights) + rng.gumbel(size=(n, len(FL_INDICATORS)))
    rank = np.argsort(np.argsort(-scores, axis=1), axis=1)
    return rank < k[:, None]


def _inspections(rng: np.random.Generator, wp: pd.DataFrame, hz: dict[str, np.ndarray],
                 sim: dict, cal: Calendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Public inspection rows and their truth, from the simulated visits (vectorised)."""
    v = sim["visits"]
    c = sim["complaints"]
    n = len(v["wp"])
    w = v["wp"]
    spec_team = v["specialized"]
    # Subjects.
    subjects = rng.random((n, len(SUBJECTS))) < np.array([SUBJECT_BASE[s] for s in SUBJECTS])
    subjects[:, SUBJECTS.index("forced_labour")] = v["fl_subject"]
    subjects[:, SUBJECTS.index("child_labour")] = v["cl_subject"]
    from_complaint = v["complaint"] >= 0
    topic_rows = c["topics"][np.where(from_complaint, v["complaint"], 0)]
    for topic, subject in TOPIC_TO_SUBJECT.items():
        subjects[:, SUBJECTS.index(subject)] |= from_complaint & topic_rows[:, TOPICS.index(topic)]
    for k, campaign in enumerate(spec.CAMPAIGNS):
        hit = v["campaign"] == k
        for s in campaign.subjects:
            if s not in ("forced_labour", "child_labour"):
                subjects[hit, SUBJECTS.index(s)] = True
    none = ~subjects.any(axis=1)
    subjects[none, SUBJECTS.index("wages")] = rng.random(int(none.sum())) > 0.01
    real = wp["real_workers"].to_numpy()[w]
    declared = wp["declared_workers"].to_numpy()[w]
    covered = np.where(spec_team, rng.binomial(real, 0.8),
                       rng.binomial(np.maximum(declared, np.ceil(real * 0.3).astype(int)), 0.75))
    covered = np.where(rng.random(n) < 0.01, 0, np.maximum(covered, 1))
    fl_found, cl_found = v["fl_found"], v["cl_found"]
    infraction = fl_found | cl_found | (rng.random(n) < _sigmoid(hz["violation"][w]
                                                                 + 0.15 * subjects.sum(axis=1)))
    # Indicators: several when forced labour is concluded, partial or spurious ones otherwise.
    group = wp["group"].to_numpy()[w]
    remote_style = np.isin(group, REMOTE_GROUPS)
    k_found = 2 + rng.binomial(4, 0.4, n)
    partial = v["fl"] & ~fl_found & v["fl_subject"] & (rng.random(n) < 0.35)
    k = np.where(fl_found, k_found, np.where(partial, 1 + rng.binomial(1, 0.5, n), 0))
    indicators = _pick_indicators(rng, remote_style, k)
    noise = rng.random((n, 3))
    indicators[:, FL_INDICATORS.index("excessive_overtime")] |= (
        subjects[:, SUBJECTS.index("hours")] & (noise[:, 0] < 0.03))
    indicators[:, FL_INDICATORS.index("abusive_conditions")] |= (
        subjects[:, SUBJECTS.index("osh")] & (noise[:, 1] < 0.015))
    indicators[:, FL_INDICATORS.index("withholding_of_wages")] |= (
        subjects[:, SUBJECTS.index("wages")] & (noise[:, 2] < 0.02))
    involuntary_only = v["inv"] & ~v["coe"] & v["fl_subject"] & (rng.random(n) < 0.1)
    indicators[involuntary_only, FL_INDICATORS.index("deception")] = True
    # Victims and fines.
    victims = np.where(fl_found, np.minimum(real, 1 + rng.negative_binomial(2, 0.25, n)), 0)
    victims = victims + np.where(cl_found, np.minimum(real, 1 + rng.poisson(1.5, n)), 0)
    victims = victims + np.where(~fl_found & ~cl_found & (rng.random(n) < 0.002), 1, 0)
    band = wp["size_band"].to_numpy()[w]
    gravity = np.where(fl_found | cl_found, 2, rng.choice(3, size=n, p=[0.35, 0.45, 0.2]))
    low = np.zeros(n)
    high = np.zeros(n)
    for b, ranges in FINE_RANGES.items():
        for g, (lo, hi) in enumerate(ranges):
            hit = (band == b) & (gravity == g)
            low[hit], high[hit] = lo, hi
    reach = np.minimum(1.0, np.log1p(covered) / np.log1p(1000))
    fine = low * (high / low) ** np.clip(0.7 * reach + 0.3 * rng.random(n), 0, 1)
    fine = np.where(fl_found, np.minimum(fine * 1.5 + 1.0, FORCED_LABOUR_FINE_CAP), fine)
    fine = np.where(infraction & (rng.random(n) > 0.1), np.round(fine, 2), 0.0)
    # Dates: skewed delays; orders still open at the end of the window show no outcome yet.
    ordered = v["day"].astype("datetime64[D]")
    delay = 5 + np.exp(np.log(110) + 0.75 * rng.standard_normal(n)) * np.where(
        spec_team, 1.6, 1.0) * np.where(infraction, 1.3, 1.0)
    closed = ordered + np.round(delay).astype(int).astype("timedelta64[D]")
    open_now = (closed > np.datetime64(cal.end.date(), "D")) | (rng.random(n) < 0.004)
    closed = np.where(open_now, np.datetime64("NaT"), closed)

    office = wp["department_code"].map(spec.OFFICES).to_numpy()[w]
    year = ordered.astype("datetime64[Y]").astype(int) + 1970
    order = np.lexsort((rng.random(n), ordered))
    frame = pd.DataFrame({"office": office[order], "year": year[order]})
    number = frame.groupby(["office", "year"]).cumcount().to_numpy() + 1
    ids = np.empty(n, dtype=object)
    ids[order] = [f"{num:010d}-{yr}-SUNAFIL/{off}" for num, yr, off in
                  zip(number, frame["year"], frame["office"], strict=True)]

    shown = ~open_now
    public = pd.DataFrame({
        "inspection_id": ids,
        "workplace_id": wp["workplace_id"].to_numpy()[w],
        "ordered_on": _iso(ordered),
        "closed_on": _iso(closed),
        "origin": np.asarray(ORIGINS, dtype=object)[v["origin"]],
        "team": np.where(spec_team, "specialized", "regular").astype(object),
        "subjects": _join_codes(subjects, SUBJECTS),
        "workers_covered": covered.astype(str).astype(object),
        "infraction_found": _bool_text(infraction & shown),
        "fl_indicators": _join_codes(indicators & shown[:, None], FL_INDICATORS),
        "forced_labour_found": _bool_text(fl_found & shown),
        "child_labour_found": _bool_text(cl_found & shown),
        "victims_identified": np.where(shown, victims, 0).astype(str).astype(object),
        "fine_uit": np.char.mod("%.2f", np.where(shown, fine, 0.0)).astype(object),
    })
    finding = np.select([fl_found & v["fl"], fl_found, v["fl"]],
                        ["true_positive", "false_positive", "missed"], "none")
    truth = pd.DataFrame({
        "inspection_id": ids, "workplace_id": public["workplace_id"],
        "ordered_on": public["ordered_on"], "fl_active": v["fl"], "involuntary": v["inv"],
        "coercion": v["coe"], "child_labour_active": v["child"], "finding": finding,
        "forced_labour_concluded": fl_found, "child_labour_concluded": cl_found,
        "rescued": v["rescued"], "open_at_export": open_now,
    })
    order_rows = np.argsort(ids, kind="stable")
    return (public.iloc[order_rows].reset_index(drop=True),
            truth.iloc[order_rows].reset_index(drop=True))


def _complaints(rng: np.random.Generator, wp: pd.DataFrame, sim: dict) -> tuple[pd.DataFrame,
                                                                                pd.DataFrame]:
    """Public complaint rows (with fake complainants) and their truth."""
    c = sim["complaints"]
    n = len(c["wp"])
    w = c["wp"]
    fl = c["fl"]
    channel_p = np.where(fl[:, None], [0.15, 0.15, 0.30, 0.40], [0.35, 0.20, 0.37, 0.08])
    channel = (channel_p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    anonymous = rng.random(n) < np.where(fl | c["coe"], 0.4, 0.2)
    foreign = rng.random(n) < wp["migrant_share"].to_numpy()[w]
    person = names.person_names(rng, foreign)
    docs = names.identity_documents(rng, foreign)
    no_doc = rng.random(n) < 0.03
    year = c["day"].astype("datetime64[Y]").astype(int) + 1970
    order = np.lexsort((c["id"], c["day"]))
    seq = pd.Series(year[order]).groupby(year[order]).cumcount().to_numpy() + 1
    ids = np.empty(n, dtype=object)
    ids[order] = [f"DEN-{y}-{s:06d}" for y, s in zip(year[order], seq, strict=True)]
    public = pd.DataFrame({
        "complaint_id": ids,
        "workplace_id": wp["workplace_id"].to_numpy()[w],
        "received_on": _iso(c["day"]),
        "channel": np.asarray(CHANNELS, dtype=object)[channel],
        "topics": _join_codes(c["topics"], TOPICS),
        "anonymous": _bool_text(anonymous),
        "complainant_name": np.where(anonymous, None, person),
        "complainant_doc": np.where(anonymous | no_doc, None, docs),
    })
    truth = pd.DataFrame({
        "complaint_id": ids, "workplace_id": public["workplace_id"],
        "received_on": public["received_on"], "fl_active": fl, "involuntary": c["inv"],
        "coercion": c["coe"], "child_labour_active": c["child"], "foreign_complainant": foreign,
    })
    rows = np.argsort(ids, kind="stable")
    return public.iloc[rows].reset_index(drop=True), truth.iloc[rows].reset_index(drop=True)


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
        "start": _iso(cal.month_starts[start]),
        "end": np.where(ongoing, None, _iso(end_dates)),
        "left_censored": start == 0,
    })


ADDRESS_STREAM = 1  # addresses come from their own generator: every other column is unchanged


def _addresses(seed: int, wp: pd.DataFrame) -> np.ndarray:
    """Plausible establishment addresses in each workplace's real district (names.addresses)."""
    district_names = load_districts().set_index("inei")["distrito"].str.title()
    return names.addresses(np.random.default_rng([seed, ADDRESS_STREAM]),
                           district_names.reindex(wp["ubigeo"]).fillna("").to_numpy(),
                           wp["density"].to_numpy() < 10)


def generate_world(
    n_workplaces: int, seed: int, start: str, end: str,
    defect_share: float, scenario: str = BASELINE,
) -> DemoWorld:
    """Simulate the whole demo world of a scenario (demo_world/scenarios.py).

    Same arguments give identical tables. The scenario's knobs are drawn from the seed; a
    scenario with a short history moves `start` to that many months before `end`.
    """
    knobs = draw_knobs(scenario, seed)
    if knobs.history_months:
        start = str((pd.Timestamp(end) + pd.Timedelta(days=1)
                     - pd.DateOffset(months=knobs.history_months)).date())
    rng = np.random.default_rng(seed)
    cal = _calendar(start, end)
    districts = _district_context(load_districts())
    wp = _registry(rng, n_workplaces, districts, cal, knobs)
    hz = _hazards(rng, wp, knobs)
    years = np.unique(cal.month_starts[cal.burn_in:].astype("datetime64[Y]").astype(int) + 1970)
    campaigns = _choose_campaigns(rng, years, knobs)
    sim = _simulate(rng, wp, hz, cal, campaigns, knobs)
    inspections, inspection_truth = _inspections(rng, wp, hz, sim, cal)
    complaints, complaint_truth = _complaints(rng, wp, sim)

    workplaces = pd.DataFrame({
        "workplace_id": wp["workplace_id"].astype(object),
        "ruc": wp["ruc"].astype(object),
        "name": wp["name"],
        "address": _addresses(seed, wp),
        "ciiu": wp["ciiu"].astype(object),
        "ubigeo": wp["ubigeo"].astype(object),
        "size_band": wp["size_band"].astype(object),
        "declared_workers": wp["declared_workers"].astype(str).astype(object),
        "activity_start": _iso(wp["activity_start"].to_numpy().astype("datetime64[D]")),
        "labour_regime": wp["labour_regime"].astype(object),
        "contractor_of": wp["contractor_of"],
    }).sort_values("workplace_id", kind="stable").reset_index(drop=True)
    tables = {"workplaces": workplaces, "inspections": inspections, "complaints": complaints}
    tables, defects = inject_defects(rng, tables, districts, defect_share)
    tables = {name: df[column_names(name)] for name, df in tables.items()}

    truth_wp = pd.DataFrame({
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
        "active_from": _iso(wp["activity_start"].to_numpy().astype("datetime64[D]")),
        "active_until": _iso(wp["active_until"].to_numpy().astype("datetime64[D]")),
    })
    risk = pd.DataFrame({"workplace_id": wp["workplace_id"]})
    risk = pd.concat([risk, pd.DataFrame({k: np.round(v, 6) for k, v in sim["risk"].items()})],
                     axis=1)
    states = sim["states"]
    truth = {
        "workplaces": truth_wp,
        "fl_spells": _spells(states["involuntary"] & states["coercion"], wp, cal),
        "involuntary_spells": _spells(states["involuntary"], wp, cal),
        "coercion_spells": _spells(states["coercion"], wp, cal),
        "child_labour_spells": _spells(states["child"], wp, cal),
        "inspections": inspection_truth,
        "complaints": complaint_truth,
        "latent_risk": risk,
        "campaigns": campaigns.drop(columns="campaign_idx"),
        "injected_defects": defects,
    }
    return DemoWorld(tables["workplaces"], tables["inspections"], tables["complaints"], truth,
                     scenario_record(scenario, seed, knobs), sim["list_log"])


def write_world(world: DemoWorld, out_dir: Path) -> dict[str, Path]:
    """Write the public CSVs and the truth folder (CSV + README); return every path written."""
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in ("workplaces", "inspections", "complaints"):
        path = out_dir / f"{name}.csv"
        getattr(world, name).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths[name] = path
    for name, frame in world.truth.items():
        path = truth_dir / f"{name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths[f"truth/{name}"] = path
    if world.list_log is not None:  # public, like the tables: the inspectorate's own lists
        paths["list_log"] = catalog.LIST_LOG.path(out_dir)  # where a run reads it back
        world.list_log.to_parquet(paths["list_log"], index=False)
    scenario = truth_dir / "scenario.json"
    scenario.write_text(json.dumps(world.scenario, indent=2) + "\n", encoding="utf-8")
    paths["truth/scenario"] = scenario
    readme = truth_dir / "README.md"
    readme.write_text(render_truth_readme(world), encoding="utf-8")
    paths["truth/README"] = readme
    return paths

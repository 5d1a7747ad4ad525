"""The hidden registry: firms and their establishments (workplaces) on Peru's real districts.

One row per workplace with public attributes (RUC, name, sector, district, declared workforce,
size band, labour regime, dates) and latent ones (remoteness, real workforce, informality,
migrant share, true subcontracting) that drive the hidden hazards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cleaning.contract import RUC_WEIGHTS, load_districts
from demo_world import names, spec
from demo_world.numeric import zscore
from demo_world.scenarios import Knobs
from demo_world.text import iso
from demo_world.timeline import Calendar

EXTRACTIVE_GROUPS = ("mining", "logging", "nuts", "agro", "fishing")
GROUPS = np.array([s.group for s in spec.SECTORS])
ADDRESS_STREAM = 1  # addresses come from their own generator: every other column is unchanged


@dataclass(frozen=True)
class Firms:
    """Firms (one RUC each) before they are expanded into their establishments."""

    person: np.ndarray  # a natural person's RUC (prefix 10 or 15)
    establishments: np.ndarray  # how many workplaces each firm runs
    hq_district: np.ndarray  # row of the district context
    sector: np.ndarray  # index in spec.SECTORS
    ruc: np.ndarray
    name: np.ndarray
    start: np.ndarray  # datetime64[D]


def district_context(districts: pd.DataFrame) -> pd.DataFrame:
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
    d["remoteness"] = (0.5 * zscore(-np.log(d["density"].clip(lower=0.1).to_numpy()))
                       + 0.2 * zscore(d["altitude"].to_numpy())
                       + 0.3 * zscore(d["poverty"].to_numpy()))
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


def registry(
    rng: np.random.Generator, n: int, districts: pd.DataFrame, cal: Calendar, knobs: Knobs
) -> pd.DataFrame:
    """The hidden registry: one row per workplace with public and latent attributes."""
    firms = _firms(rng, n, districts, cal)
    wp = _establishments(rng, n, firms, districts, cal)
    _add_workforce(rng, wp)
    _assign_principals(rng, wp, knobs.intermediary_share_scale)
    _add_closures(rng, wp, cal)
    return wp


def _firms(rng: np.random.Generator, n: int, districts: pd.DataFrame, cal: Calendar) -> Firms:
    """Just enough firms for `n` establishments: persons run one (rarely two), entities more."""
    prefix = rng.choice([10, 15, 17, 20], size=n, p=[0.52, 0.02, 0.01, 0.45])
    person = (prefix == 10) | (prefix == 15)
    entity_est = rng.choice([1, 2, 3, 5, 12], size=n, p=[0.72, 0.14, 0.07, 0.05, 0.02])
    n_est = np.where(person, np.where(rng.random(n) < 0.05, 2, 1), entity_est)
    keep = np.searchsorted(np.cumsum(n_est), n) + 1
    prefix, person, n_est = prefix[:keep], person[:keep], n_est[:keep]
    n_firms = keep
    hq_district = _sample_index(rng, districts["weight"].to_numpy(), n_firms)
    sector = _firm_sectors(rng, person, hq_district, districts)
    ruc = _rucs(rng, prefix)
    venezuelan_owner = (prefix == 15) | ((prefix == 10) & (rng.random(n_firms) < 0.02))
    firm_name = np.where(
        person,
        names.person_names(rng, venezuelan_owner, registry_style=True),
        names.business_names(rng, GROUPS[sector]),
    )
    firm_age_years = np.where(rng.random(n_firms) < 0.8,
                              rng.exponential(9.0, n_firms) + 0.1,
                              -rng.random(n_firms) * (cal.end - cal.start).days / 365.25 * 0.95)
    firm_start = (np.datetime64(cal.start.date(), "D")
                  - (firm_age_years * 365.25).astype(int).astype("timedelta64[D]"))
    return Firms(person, n_est, hq_district, sector, ruc, firm_name, firm_start)


def _firm_sectors(rng: np.random.Generator, person: np.ndarray, hq_district: np.ndarray,
                  districts: pd.DataFrame) -> np.ndarray:
    """Each firm's sector from its head office's department mix (domestic work: persons only)."""
    sectors = spec.SECTORS
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
    return np.minimum((cdf < rng.random(len(person))[:, None]).sum(axis=1), len(sectors) - 1)


def _establishments(rng: np.random.Generator, n: int, firms: Firms, districts: pd.DataFrame,
                    cal: Calendar) -> pd.DataFrame:
    """The firms' establishments: the first at the head office, annexes opened later elsewhere."""
    n_est = firms.establishments
    firm = np.repeat(np.arange(len(n_est)), n_est)[:n]
    est = (np.arange(len(firm)) - np.repeat(np.cumsum(n_est) - n_est, n_est)[:n])
    sector_idx = firms.sector[firm]
    group = GROUPS[sector_idx]
    annex = est > 0
    district = _establishment_districts(rng, firms.hq_district[firm], group, annex, districts)
    annex_delay = (rng.random(n) * np.maximum(
        (np.datetime64(cal.end.date(), "D") - firms.start[firm]).astype(int) * 0.5, 0)).astype(int)
    activity_start = firms.start[firm] + np.where(annex, annex_delay, 0).astype("timedelta64[D]")
    ruc = firms.ruc[firm].astype(str)
    return pd.DataFrame({
        "workplace_id": np.char.add(np.char.add(ruc, "-"), np.char.zfill(est.astype(str), 4)),
        "ruc": ruc,
        "name": firms.name[firm],
        "person": firms.person[firm],
        "ciiu": np.array([s.ciiu for s in spec.SECTORS])[sector_idx],
        "group": group,
        "sector_idx": sector_idx,
        "ubigeo": districts["inei"].to_numpy()[district].astype(str),
        "department_code": districts["department_code"].to_numpy()[district].astype(str),
        "remoteness": districts["remoteness"].to_numpy()[district],
        "density": districts["density"].to_numpy()[district],
        "poverty": districts["poverty"].to_numpy()[district],
        "activity_start": activity_start,
    })


def _establishment_districts(rng: np.random.Generator, hq_district: np.ndarray,
                             group: np.ndarray, annex: np.ndarray,
                             districts: pd.DataFrame) -> np.ndarray:
    """Annexes of extractive firms (and half the others) stay in the head office's department."""
    n = len(hq_district)
    weights = districts["weight"].to_numpy()
    district = hq_district.copy()
    same_dept = annex & (np.isin(group, EXTRACTIVE_GROUPS) | (rng.random(n) < 0.5))
    anywhere = annex & ~same_dept
    district[anywhere] = _sample_index(rng, weights, int(anywhere.sum()))
    dept_codes = districts["department_code"].to_numpy()
    for code in np.unique(dept_codes[district[same_dept]]):
        rows = np.flatnonzero(same_dept & (dept_codes[district] == code))
        pool = np.flatnonzero(dept_codes == code)
        district[rows] = pool[_sample_index(rng, weights[pool], len(rows))]
    return district


def _add_workforce(rng: np.random.Generator, wp: pd.DataFrame) -> None:
    """Real and declared workers, informality, size band, labour regime and migrant share."""
    n = len(wp)
    sectors = spec.SECTORS
    sector_idx = wp["sector_idx"].to_numpy()
    group = GROUPS[sector_idx]
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


def _add_closures(rng: np.random.Generator, wp: pd.DataFrame, cal: Calendar) -> None:
    """About 8% of workplaces close before the window's end, never in their first 180 days."""
    n = len(wp)
    activity_start = wp["activity_start"].to_numpy().astype("datetime64[D]")
    active_days = (np.datetime64(cal.end.date(), "D") - activity_start).astype(int)
    closes = rng.random(n) < 0.08
    close_after = (rng.random(n) * np.maximum(active_days, 0)).astype(int)
    wp["active_until"] = np.where(closes & (close_after > 180),
                                  activity_start + close_after.astype("timedelta64[D]"),
                                  np.datetime64("NaT"))


def public_workplaces(wp: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The public registry table (CSV-ready strings), sorted by workplace id."""
    return pd.DataFrame({
        "workplace_id": wp["workplace_id"].astype(object),
        "ruc": wp["ruc"].astype(object),
        "name": wp["name"],
        "address": _addresses(seed, wp),
        "ciiu": wp["ciiu"].astype(object),
        "ubigeo": wp["ubigeo"].astype(object),
        "size_band": wp["size_band"].astype(object),
        "declared_workers": wp["declared_workers"].astype(str).astype(object),
        "activity_start": iso(wp["activity_start"].to_numpy().astype("datetime64[D]")),
        "labour_regime": wp["labour_regime"].astype(object),
        "contractor_of": wp["contractor_of"],
    }).sort_values("workplace_id", kind="stable").reset_index(drop=True)


def _addresses(seed: int, wp: pd.DataFrame) -> np.ndarray:
    """Plausible establishment addresses in each workplace's real district (names.addresses)."""
    district_names = load_districts().set_index("inei")["distrito"].str.title()
    return names.addresses(np.random.default_rng([seed, ADDRESS_STREAM]),
                           district_names.reindex(wp["ubigeo"]).fillna("").to_numpy(),
                           wp["density"].to_numpy() < 10)

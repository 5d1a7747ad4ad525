"""Seeded synthetic CLEAN typed tables (the quality gate's output form) for feature tests.

A latent risk per workplace drives complaints, inspections and their outcomes, so features and
labels carry a learnable signal; everything is vectorised so the benchmark can scale it up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cleaning.contract import (
    CHANNELS,
    FL_INDICATORS,
    LABOUR_REGIMES,
    LIST_SEPARATOR,
    ORIGINS,
    RUC_WEIGHTS,
    SIZE_BANDS,
    SUBJECTS,
    TOPICS,
    load_districts,
)

CIIU_CHOICES = ("0729", "0220", "0111", "1410", "2392", "4100", "5610", "4711", "6201", "8510")


def _rucs(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct RUCs with valid SUNAT check digits (prefix 10 or 20)."""
    prefix = rng.choice([10, 20], size=n, p=[0.3, 0.7])
    body = rng.choice(10**8, size=n, replace=False)
    first_ten = np.char.add(prefix.astype(str), np.char.zfill(body.astype(str), 8))
    digits = np.array([list(s) for s in first_ten], dtype=int) if n else np.zeros((0, 10), int)
    r = 11 - (digits @ RUC_WEIGHTS) % 11
    check = np.where(r == 10, 0, np.where(r == 11, 1, r))
    return np.char.add(first_ten, check.astype(str))


def _join_codes(rng: np.random.Generator, probs: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """A `;`-joined code list per row, each code drawn independently with its row probability."""
    draws = rng.random((len(probs), len(codes))) < probs[:, None]
    out = np.full(len(probs), "", dtype=object)
    for j, code in enumerate(codes):
        sep = np.where(out == "", "", LIST_SEPARATOR)
        out = np.where(draws[:, j], out + sep + code, out)
    return out


def _dates(rng: np.random.Generator, n: int, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    span = (end - start).days
    return (start + pd.to_timedelta(rng.integers(0, span + 1, size=n), unit="D")).to_numpy()


def make_clean_tables(
    n_workplaces: int = 300, seed: int = 7, start: str = "2018-01-01", end: str = "2024-12-31"
) -> dict[str, pd.DataFrame]:
    """Workplaces, inspections and complaints in clean typed form, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    districts = load_districts()
    n_rucs = max(1, int(n_workplaces * 0.7))
    rucs = _rucs(rng, n_rucs)
    owner = rng.integers(0, n_rucs, size=n_workplaces)
    establishment = pd.Series(owner).groupby(owner).cumcount().to_numpy()
    ruc = rucs[owner]
    workplace_id = np.char.add(np.char.add(ruc, "-"), np.char.zfill(establishment.astype(str), 4))
    ciiu = rng.choice(CIIU_CHOICES, size=n_workplaces)
    ubigeo = rng.choice(districts["inei"].to_numpy(dtype=str), size=n_workplaces)
    is_sub = rng.random(n_workplaces) < 0.15
    contractor_of = pd.array(np.where(is_sub, rng.choice(rucs, size=n_workplaces), None),
                             dtype="str")
    workplaces = pd.DataFrame({
        "workplace_id": workplace_id,
        "ruc": ruc,
        "ciiu": ciiu,
        "ubigeo": ubigeo,
        "size_band": rng.choice(SIZE_BANDS, size=n_workplaces, p=[0.8, 0.12, 0.05, 0.03]),
        "declared_workers": rng.poisson(8, size=n_workplaces).astype("int64"),
        "activity_start": _dates(rng, n_workplaces, pd.Timestamp("2000-01-01"), end_ts),
        "labour_regime": rng.choice(LABOUR_REGIMES, size=n_workplaces),
        "contractor_of": contractor_of,
    })
    workplaces["activity_start"] = workplaces["activity_start"].astype("datetime64[ns]")

    high_risk = np.isin(ciiu, ("0729", "0220", "2392", "1410"))
    risk = np.clip(rng.beta(1, 12, size=n_workplaces) + 0.25 * high_risk + 0.15 * is_sub, 0, 1)
    years = (end_ts - start_ts).days / 365.25

    n_complaints = rng.poisson(0.3 * years * (0.3 + 3 * risk))
    c_pos = np.repeat(np.arange(n_workplaces), n_complaints)
    m = len(c_pos)
    complaints = pd.DataFrame({
        "complaint_id": np.char.add("C", np.arange(m).astype(str)),
        "workplace_id": workplace_id[c_pos],
        "received_on": _dates(rng, m, start_ts, end_ts).astype("datetime64[ns]"),
        "channel": rng.choice(CHANNELS, size=m),
        "topics": _join_codes(rng, 0.05 + 0.5 * risk[c_pos], TOPICS).astype(str),
        "anonymous": rng.random(m) < 0.4,
    })

    n_inspections = rng.poisson(0.25 * years * (0.4 + 2 * risk))
    i_pos = np.repeat(np.arange(n_workplaces), n_inspections)
    k = len(i_pos)
    r = risk[i_pos]
    ordered_on = pd.to_datetime(_dates(rng, k, start_ts, end_ts))
    closed_on = ordered_on + pd.to_timedelta(rng.gamma(2.0, 45.0, size=k).astype(int), unit="D")
    open_mask = (closed_on > end_ts) | (rng.random(k) < 0.03)
    indicators = _join_codes(rng, 0.6 * r**1.5, FL_INDICATORS).astype(str)
    n_ind = np.char.count(indicators.astype(str), LIST_SEPARATOR) + (indicators != "")
    forced = (n_ind >= 2) & (rng.random(k) < 0.7)
    child = rng.random(k) < 0.1 * r
    infraction = forced | child | (rng.random(k) < 0.2 + 0.5 * r)
    inspections = pd.DataFrame({
        "inspection_id": np.char.add("I", np.arange(k).astype(str)),
        "workplace_id": workplace_id[i_pos],
        "ordered_on": ordered_on.astype("datetime64[ns]"),
        "closed_on": pd.Series(closed_on).where(~open_mask).astype("datetime64[ns]"),
        "origin": rng.choice(ORIGINS, size=k, p=[0.7, 0.2, 0.07, 0.03]),
        "team": np.where(rng.random(k) < 0.05 + 0.4 * r, "specialized", "regular"),
        "subjects": _join_codes(rng, np.full(k, 0.2), SUBJECTS).astype(str),
        "workers_covered": rng.poisson(6, size=k).astype("int64"),
        "infraction_found": infraction,
        "fl_indicators": indicators,
        "forced_labour_found": forced,
        "child_labour_found": child,
        "victims_identified": np.where(forced, rng.poisson(3, size=k) + 1, 0).astype("int64"),
        "fine_uit": np.where(infraction, rng.gamma(1.5, 4.0, size=k), 0.0),
    })
    return {"workplaces": workplaces, "inspections": inspections, "complaints": complaints}


def with_registry_periods(
    tables: dict[str, pd.DataFrame], seed: int = 7
) -> dict[str, pd.DataFrame]:
    """A copy with a `registry_periods` table: each closed inspection starts a period the day
    after it closed (the employer formalised workers), one period per workplace and day."""
    rng = np.random.default_rng(seed)
    closed = tables["inspections"].dropna(subset=["closed_on"])
    periods = pd.DataFrame({
        "workplace_id": closed["workplace_id"].to_numpy(),
        "period": (closed["closed_on"] + pd.Timedelta(days=1)).to_numpy(),
        "declared_workers": (closed["workers_covered"] + rng.poisson(8, len(closed))).to_numpy(),
        "size_band": rng.choice(SIZE_BANDS, size=len(closed), p=[0.6, 0.25, 0.1, 0.05]),
    }).drop_duplicates(["workplace_id", "period"]).reset_index(drop=True)
    periods["declared_workers"] = periods["declared_workers"].astype("int64")
    return {**tables, "registry_periods": periods}

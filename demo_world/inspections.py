"""Inspection rows from the simulated visits: subjects, findings, fines, dates and SUNAFIL ids.

Indicators of forced labour are several when it is concluded, partial or spurious otherwise.
Orders still open at the end of the window show no outcome in the public table; the truth
keeps what the inspector concluded anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cleaning.contract import FL_INDICATORS, ORIGINS, SUBJECTS, TOPICS
from demo_world import spec
from demo_world.numeric import sigmoid
from demo_world.simulation import Simulation
from demo_world.text import bool_text, iso, join_codes
from demo_world.timeline import Calendar

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

# Fine ranges in UIT (leve, grave, muy grave) by size band, after the RLGIT scale.
FINE_RANGES = {
    "micro": ((0.045, 0.45), (0.11, 1.13), (0.23, 2.25)),
    "pequena": ((0.09, 4.5), (0.45, 13.5), (0.77, 22.5)),
    "mediana": ((0.26, 26.1), (1.57, 52.5), (2.63, 52.5)),
    "grande": ((0.26, 26.1), (1.57, 52.5), (2.63, 52.5)),
}
FORCED_LABOUR_FINE_CAP = 200.0


@dataclass(frozen=True)
class Outcomes:
    """Per visit, everything its rows are built from beyond the simulated visit itself."""

    ids: np.ndarray
    ordered: np.ndarray
    closed: np.ndarray  # NaT while open
    open_now: np.ndarray
    subjects: np.ndarray  # visit x SUBJECTS
    covered: np.ndarray
    infraction: np.ndarray
    indicators: np.ndarray  # visit x FL_INDICATORS
    victims: np.ndarray
    fine: np.ndarray


def inspection_tables(rng: np.random.Generator, wp: pd.DataFrame, hz: dict[str, np.ndarray],
                      sim: Simulation, cal: Calendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Public inspection rows and their truth, from the simulated visits (vectorised)."""
    v = sim.visits
    subjects = _subjects(rng, v, sim.complaints)
    covered = _workers_covered(rng, wp, v)
    infraction = v["fl_found"] | v["cl_found"] | (
        rng.random(len(covered)) < sigmoid(hz["violation"][v["wp"]] + 0.15 * subjects.sum(axis=1)))
    indicators = _indicators(rng, wp, v, subjects)
    victims = _victims(rng, wp, v)
    fine = _fines(rng, wp, v, covered, infraction)
    ordered, closed, open_now = _dates(rng, cal, v, infraction)
    outcomes = Outcomes(_inspection_ids(rng, wp, v, ordered), ordered, closed, open_now,
                        subjects, covered, infraction, indicators, victims, fine)
    public = _public_rows(wp, v, outcomes)
    truth = _truth_rows(v, outcomes, public)
    order_rows = np.argsort(outcomes.ids, kind="stable")
    return (public.iloc[order_rows].reset_index(drop=True),
            truth.iloc[order_rows].reset_index(drop=True))


def _subjects(rng: np.random.Generator, v: dict[str, np.ndarray],
              complaints: dict[str, np.ndarray]) -> np.ndarray:
    """Subjects: base rates, the complaint's topics, the campaign's subjects, wages by default."""
    n = len(v["wp"])
    subjects = rng.random((n, len(SUBJECTS))) < np.array([SUBJECT_BASE[s] for s in SUBJECTS])
    subjects[:, SUBJECTS.index("forced_labour")] = v["fl_subject"]
    subjects[:, SUBJECTS.index("child_labour")] = v["cl_subject"]
    from_complaint = v["complaint"] >= 0
    topic_rows = complaints["topics"][np.where(from_complaint, v["complaint"], 0)]
    for topic, subject in TOPIC_TO_SUBJECT.items():
        subjects[:, SUBJECTS.index(subject)] |= from_complaint & topic_rows[:, TOPICS.index(topic)]
    for k, campaign in enumerate(spec.CAMPAIGNS):
        hit = v["campaign"] == k
        for s in campaign.subjects:
            if s not in ("forced_labour", "child_labour"):
                subjects[hit, SUBJECTS.index(s)] = True
    none = ~subjects.any(axis=1)
    subjects[none, SUBJECTS.index("wages")] = rng.random(int(none.sum())) > 0.01
    return subjects


def _workers_covered(rng: np.random.Generator, wp: pd.DataFrame,
                     v: dict[str, np.ndarray]) -> np.ndarray:
    """Workers the visit reached: the specialised team finds the undeclared ones too."""
    w = v["wp"]
    real = wp["real_workers"].to_numpy()[w]
    declared = wp["declared_workers"].to_numpy()[w]
    covered = np.where(v["specialized"], rng.binomial(real, 0.8),
                       rng.binomial(np.maximum(declared, np.ceil(real * 0.3).astype(int)), 0.75))
    return np.where(rng.random(len(w)) < 0.01, 0, np.maximum(covered, 1))


def _indicators(rng: np.random.Generator, wp: pd.DataFrame, v: dict[str, np.ndarray],
                subjects: np.ndarray) -> np.ndarray:
    """Indicators: several when forced labour is concluded, partial or spurious ones otherwise."""
    n = len(v["wp"])
    fl_found = v["fl_found"]
    remote_style = np.isin(wp["group"].to_numpy()[v["wp"]], REMOTE_GROUPS)
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
    return indicators


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


def _victims(rng: np.random.Generator, wp: pd.DataFrame, v: dict[str, np.ndarray]) -> np.ndarray:
    """Victims identified: forced and child labour findings, and a rare one elsewhere."""
    fl_found, cl_found = v["fl_found"], v["cl_found"]
    n = len(fl_found)
    real = wp["real_workers"].to_numpy()[v["wp"]]
    victims = np.where(fl_found, np.minimum(real, 1 + rng.negative_binomial(2, 0.25, n)), 0)
    victims = victims + np.where(cl_found, np.minimum(real, 1 + rng.poisson(1.5, n)), 0)
    return victims + np.where(~fl_found & ~cl_found & (rng.random(n) < 0.002), 1, 0)


def _fines(rng: np.random.Generator, wp: pd.DataFrame, v: dict[str, np.ndarray],
           covered: np.ndarray, infraction: np.ndarray) -> np.ndarray:
    """Fines in UIT by size band and gravity, higher the more workers the visit covered."""
    fl_found = v["fl_found"]
    n = len(fl_found)
    band = wp["size_band"].to_numpy()[v["wp"]]
    gravity = np.where(fl_found | v["cl_found"], 2, rng.choice(3, size=n, p=[0.35, 0.45, 0.2]))
    low = np.zeros(n)
    high = np.zeros(n)
    for b, ranges in FINE_RANGES.items():
        for g, (lo, hi) in enumerate(ranges):
            hit = (band == b) & (gravity == g)
            low[hit], high[hit] = lo, hi
    reach = np.minimum(1.0, np.log1p(covered) / np.log1p(1000))
    fine = low * (high / low) ** np.clip(0.7 * reach + 0.3 * rng.random(n), 0, 1)
    fine = np.where(fl_found, np.minimum(fine * 1.5 + 1.0, FORCED_LABOUR_FINE_CAP), fine)
    return np.where(infraction & (rng.random(n) > 0.1), np.round(fine, 2), 0.0)


def _dates(rng: np.random.Generator, cal: Calendar, v: dict[str, np.ndarray],
           infraction: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order and closing dates: skewed delays; orders open at the window's end have no close."""
    n = len(infraction)
    ordered = v["day"].astype("datetime64[D]")
    delay = 5 + np.exp(np.log(110) + 0.75 * rng.standard_normal(n)) * np.where(
        v["specialized"], 1.6, 1.0) * np.where(infraction, 1.3, 1.0)
    closed = ordered + np.round(delay).astype(int).astype("timedelta64[D]")
    open_now = (closed > np.datetime64(cal.end.date(), "D")) | (rng.random(n) < 0.004)
    closed = np.where(open_now, np.datetime64("NaT"), closed)
    return ordered, closed, open_now


def _inspection_ids(rng: np.random.Generator, wp: pd.DataFrame, v: dict[str, np.ndarray],
                    ordered: np.ndarray) -> np.ndarray:
    """SUNAFIL-style ids numbered per office and year in order date (ties in random order)."""
    n = len(ordered)
    office = wp["department_code"].map(spec.OFFICES).to_numpy()[v["wp"]]
    year = ordered.astype("datetime64[Y]").astype(int) + 1970
    order = np.lexsort((rng.random(n), ordered))
    frame = pd.DataFrame({"office": office[order], "year": year[order]})
    number = frame.groupby(["office", "year"]).cumcount().to_numpy() + 1
    ids = np.empty(n, dtype=object)
    ids[order] = [f"{num:010d}-{yr}-SUNAFIL/{off}" for num, yr, off in
                  zip(number, frame["year"], frame["office"], strict=True)]
    return ids


def _public_rows(wp: pd.DataFrame, v: dict[str, np.ndarray], out: Outcomes) -> pd.DataFrame:
    """The public table's columns as CSV-ready strings; open orders show no outcome."""
    shown = ~out.open_now
    return pd.DataFrame({
        "inspection_id": out.ids,
        "workplace_id": wp["workplace_id"].to_numpy()[v["wp"]],
        "ordered_on": iso(out.ordered),
        "closed_on": iso(out.closed),
        "origin": np.asarray(ORIGINS, dtype=object)[v["origin"]],
        "team": np.where(v["specialized"], "specialized", "regular").astype(object),
        "subjects": join_codes(out.subjects, SUBJECTS),
        "workers_covered": out.covered.astype(str).astype(object),
        "infraction_found": bool_text(out.infraction & shown),
        "fl_indicators": join_codes(out.indicators & shown[:, None], FL_INDICATORS),
        "forced_labour_found": bool_text(v["fl_found"] & shown),
        "child_labour_found": bool_text(v["cl_found"] & shown),
        "victims_identified": np.where(shown, out.victims, 0).astype(str).astype(object),
        "fine_uit": np.char.mod("%.2f", np.where(shown, out.fine, 0.0)).astype(object),
    })


def _truth_rows(v: dict[str, np.ndarray], out: Outcomes, public: pd.DataFrame) -> pd.DataFrame:
    """The hidden state at each visit and what the inspector concluded, even if still open."""
    fl_found = v["fl_found"]
    finding = np.select([fl_found & v["fl"], fl_found, v["fl"]],
                        ["true_positive", "false_positive", "missed"], "none")
    return pd.DataFrame({
        "inspection_id": out.ids, "workplace_id": public["workplace_id"],
        "ordered_on": public["ordered_on"], "fl_active": v["fl"], "involuntary": v["inv"],
        "coercion": v["coe"], "child_labour_active": v["child"], "finding": finding,
        "forced_labour_concluded": fl_found, "child_labour_concluded": v["cl_found"],
        "rescued": v["rescued"], "open_at_export": out.open_now,
    })

"""The demo world's assumptions as data: sectors, regions, seasons, trends and campaigns.

Every number the generator uses to shape risk lives here, so truth/README.md and a reviewer can
read the world's hidden mechanics in one place. Department keys are INEI codes (15 = Lima,
17 = Madre de Dios, ...). Figures marked "DOMAIN" come from shared/DOMAIN.md; the rest are
deliberate, documented guesses for a plausible, enriched sample (not estimates of Peru).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Sector:
    """One CIIU Rev.4 class: registry weight, hidden risk log-hazards and workforce shape.

    `involuntary`, `coercion` and `child_labour` are additive log-hazard effects on top of the
    low-risk bulk (trade and services = 0). `intermediary_share` is the share of its workplaces
    that work for a principal (subcontractors, recruiters, enganchadores).
    """

    ciiu: str
    group: str
    weight: float
    involuntary: float
    coercion: float
    child_labour: float
    median_workers: float
    workers_sigma: float = 1.0
    intermediary_share: float = 0.0
    regions: dict[str, float] = field(default_factory=dict)
    default_region: float = 1.0


COAST_AGRO = {"11": 15.0, "13": 10.0, "20": 10.0, "14": 10.0, "02": 3.0, "15": 1.2, "24": 3.0}
AMAZON_WOOD = {"16": 40.0, "25": 40.0, "17": 30.0, "22": 8.0, "10": 6.0, "12": 4.0, "08": 3.0}

SECTORS: tuple[Sector, ...] = (
    Sector("0729", "mining", 0.8, 3.0, 2.6, 1.6, 20, 1.2, 0.35,
           {"17": 60.0, "21": 25.0, "04": 6.0, "13": 5.0, "08": 4.0, "15": 0.1}, 0.15),
    Sector("0220", "logging", 0.6, 2.8, 2.4, 1.0, 10, 1.0, 0.40, AMAZON_WOOD, 0.05),
    Sector("0230", "nuts", 0.25, 2.2, 1.6, 1.5, 8, 0.9, 0.20,
           {"17": 80.0, "16": 5.0, "21": 3.0}, 0.01),
    Sector("0111", "agro", 1.2, 1.0, 0.6, 1.8, 4, 0.9, 0.05,
           {"21": 4.0, "08": 3.0, "06": 4.0, "09": 4.0, "03": 4.0, "05": 3.0, "12": 3.0,
            "10": 3.0, "15": 0.1}, 1.0),
    Sector("0113", "agro", 1.0, 1.6, 1.0, 1.2, 25, 1.4, 0.25, COAST_AGRO, 0.3),
    Sector("0121", "agro", 0.8, 1.6, 1.0, 1.0, 30, 1.4, 0.25, COAST_AGRO, 0.3),
    Sector("0122", "agro", 0.6, 1.5, 1.0, 1.0, 20, 1.4, 0.25, COAST_AGRO, 0.3),
    Sector("0125", "agro", 0.5, 1.6, 1.0, 1.0, 40, 1.4, 0.25, COAST_AGRO, 0.3),
    Sector("0127", "agro", 0.5, 1.4, 0.9, 1.6, 5, 1.0, 0.05,
           {"22": 20.0, "12": 8.0, "08": 6.0, "06": 4.0, "01": 8.0}, 0.2),
    Sector("0311", "fishing", 0.6, 1.6, 1.2, 0.6, 10, 1.0, 0.10,
           {"02": 15.0, "20": 10.0, "11": 5.0, "24": 5.0, "04": 3.0, "23": 3.0, "18": 3.0,
            "14": 3.0, "13": 3.0, "07": 4.0}, 0.1),
    Sector("1410", "garments", 2.0, 1.8, 1.3, 1.0, 5, 1.0, 0.10,
           {"15": 3.0, "07": 1.5, "12": 1.0, "04": 1.0, "21": 1.5}, 0.4),
    Sector("1610", "logging", 1.0, 1.0, 0.7, 0.3, 6, 1.0, 0.10,
           {"16": 15.0, "25": 15.0, "17": 10.0, "22": 4.0}, 0.3),
    Sector("2392", "bricks", 0.6, 2.0, 1.4, 2.0, 8, 0.8, 0.0,
           {"08": 3.0, "21": 2.0, "12": 2.0, "13": 1.5, "03": 1.5}, 1.0),
    Sector("4100", "construction", 2.0, 1.0, 0.7, 0.3, 10, 1.1, 0.30),
    Sector("4290", "construction", 0.8, 1.0, 0.7, 0.2, 15, 1.2, 0.30),
    Sector("4330", "construction", 1.0, 0.8, 0.5, 0.2, 5, 0.9, 0.30),
    Sector("5510", "hospitality", 1.5, 1.2, 0.9, 0.6, 5, 1.0, 0.0,
           {"08": 4.0, "21": 2.0, "17": 2.0, "04": 1.5, "24": 2.0}, 1.0),
    Sector("5610", "hospitality", 5.0, 1.1, 0.8, 0.8, 4, 0.9),
    Sector("9700", "domestic", 3.0, 1.8, 1.3, 1.2, 1, 0.3, 0.0, {"15": 1.2}, 1.0),
    Sector("4711", "trade", 10.0, 0.0, 0.0, 0.6, 3, 0.9),
    Sector("4719", "trade", 5.0, 0.0, 0.0, 0.3, 4, 1.0),
    Sector("4530", "trade", 3.0, 0.0, 0.0, 0.2, 4, 0.9),
    Sector("4630", "trade", 4.0, 0.0, 0.0, 0.0, 6, 1.1),
    Sector("4772", "trade", 3.0, -0.2, -0.2, 0.0, 3, 0.8),
    Sector("4922", "transport", 3.0, 0.3, 0.2, 0.2, 4, 1.0),
    Sector("4923", "transport", 4.0, 0.3, 0.2, 0.0, 5, 1.0),
    Sector("1071", "manufacturing", 2.0, 0.3, 0.2, 0.5, 4, 0.9),
    Sector("6201", "services", 2.0, -1.0, -1.0, -1.0, 5, 1.1),
    Sector("6910", "services", 2.0, -1.0, -1.0, -1.0, 3, 0.9),
    Sector("8010", "services", 2.0, 0.2, 0.0, -1.0, 30, 1.2, 0.50),
    Sector("8121", "services", 2.0, 0.2, 0.0, -1.0, 20, 1.2, 0.50),
    Sector("8510", "services", 3.0, -1.0, -1.0, -1.0, 10, 1.0),
    Sector("8620", "services", 3.0, -1.0, -1.0, -1.0, 5, 1.0),
    Sector("9602", "services", 3.0, 0.0, 0.0, 0.3, 2, 0.7),
)

# Groups whose workplaces recruit through chains (principal <- contractor) that truth knows.
CHAIN_GROUPS = ("mining", "logging", "agro", "construction", "services")
LABOUR_REGIME_BY_GROUP = {"agro": "agrario", "construction": "construccion", "domestic": "hogar"}

# Share of the workforce that is informal, by department. DOMAIN: Cajamarca, Puno,
# Huancavelica, Apurímac, Lima and Callao; the others are rounded guesses in the same range.
DEPARTMENT_INFORMALITY = {
    "01": 0.86, "02": 0.78, "03": 0.872, "04": 0.68, "05": 0.86, "06": 0.895, "07": 0.606,
    "08": 0.82, "09": 0.893, "10": 0.86, "11": 0.62, "12": 0.80, "13": 0.74, "14": 0.75,
    "15": 0.606, "16": 0.80, "17": 0.76, "18": 0.66, "19": 0.80, "20": 0.78, "21": 0.894,
    "22": 0.82, "23": 0.72, "24": 0.77, "25": 0.78,
}

# Venezuelan migrants concentrate in Lima and the northern coast (DOMAIN: ~10% of victims).
DEPARTMENT_MIGRANTS = {
    "15": 1.0, "07": 0.9, "13": 0.6, "24": 0.7, "20": 0.5, "04": 0.5, "11": 0.5, "14": 0.4,
    "08": 0.3,
}
GROUP_MIGRANTS = {
    "hospitality": 1.5, "garments": 1.3, "trade": 1.0, "domestic": 1.2, "agro": 0.8,
    "construction": 0.8,
}

# Enrichment: hot-spot departments are over-sampled so that the sample holds enough risky
# workplaces to learn from (documented in truth/README.md).
DEPARTMENT_ENRICHMENT = {"17": 6.0, "21": 1.5, "16": 2.5, "25": 2.5, "24": 1.5, "22": 1.3}

# Month-of-year multipliers (Jan..Dec) on the onset hazards: harvests and dry seasons.
SEASONS = {
    "mining": (0.7, 0.7, 0.7, 0.8, 1.4, 1.6, 1.6, 1.6, 1.5, 1.3, 0.8, 0.7),
    "logging": (0.6, 0.6, 0.6, 0.7, 1.0, 1.6, 1.6, 1.6, 1.6, 1.5, 1.3, 0.8),
    "nuts": (2.5, 2.5, 2.2, 1.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.8, 2.2),
    "agro": (1.5, 1.5, 1.4, 0.8, 0.7, 0.7, 0.7, 0.8, 1.3, 1.5, 1.5, 1.5),
    "fishing": (1.2, 0.7, 0.7, 1.5, 1.5, 1.5, 1.3, 0.7, 0.7, 0.8, 1.4, 1.4),
}

# Year multipliers on onset hazards: the gold-price boom feeds illegal mining; the
# Venezuelan migration wave raises vulnerability in urban services after 2018.
TRENDS = {
    "mining": {2015: 0.8, 2018: 0.85, 2020: 1.1, 2022: 1.2, 2024: 1.4, 2026: 1.5},
    "hospitality": {2015: 0.8, 2018: 1.0, 2020: 1.15, 2026: 1.15},
    "garments": {2015: 0.8, 2018: 1.0, 2020: 1.15, 2026: 1.15},
    "domestic": {2015: 0.9, 2018: 1.0, 2020: 1.1, 2026: 1.1},
}

# COVID-19: SUNAFIL's field work nearly stopped from April to September 2020.
COVID_MONTHS = ("2020-04", "2020-05", "2020-06", "2020-07", "2020-08", "2020-09")
COVID_INSPECTION_FACTOR = 0.35
COVID_COMPLAINT_FACTOR = 0.6


@dataclass(frozen=True)
class Campaign:
    """A planned operation: a sector group in some departments, more often by a factor."""

    name: str
    groups: tuple[str, ...]
    departments: tuple[str, ...]
    factor: float
    specialized_share: float
    subjects: tuple[str, ...]


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign("mineria_ilegal", ("mining",), ("17", "21", "04", "13"), 20.0, 0.6,
             ("forced_labour", "child_labour", "osh")),
    Campaign("tala_ilegal", ("logging", "nuts"), ("16", "25", "17", "22"), 16.0, 0.5,
             ("forced_labour", "registration", "osh")),
    Campaign("agroexportacion", ("agro",), ("11", "13", "20", "14"), 5.0, 0.05,
             ("wages", "hours", "osh", "child_labour")),
    Campaign("construccion_segura", ("construction",), ("15", "07", "04", "13"), 4.0, 0.0,
             ("osh", "registration")),
    Campaign("trabajo_infantil", ("agro", "bricks", "trade"), ("08", "21", "12", "05", "06"),
             6.0, 0.4, ("child_labour", "osh")),
    Campaign("talleres_textiles", ("garments",), ("15", "07"), 6.0, 0.3,
             ("forced_labour", "wages", "hours")),
    Campaign("hogar_digno", ("domestic",), ("15",), 3.0, 0.2, ("wages", "hours", "registration")),
    Campaign("turismo_y_restaurantes", ("hospitality",), ("08", "15", "24", "21"), 4.0, 0.15,
             ("hours", "wages", "forced_labour")),
    Campaign("formalizacion_laboral", ("trade", "services", "manufacturing", "transport"),
             ("15", "04", "13", "20", "12"), 2.5, 0.0, ("registration", "social_security")),
)
CAMPAIGNS_PER_YEAR = 4

# SUNAFIL offices by department (ILM = Lima Metropolitana, IRE-xxx = regional intendencias).
OFFICES = {
    "01": "IRE-AMA", "02": "IRE-ANC", "03": "IRE-APU", "04": "IRE-ARE", "05": "IRE-AYA",
    "06": "IRE-CAJ", "07": "IRE-CAL", "08": "IRE-CUS", "09": "IRE-HVC", "10": "IRE-HCO",
    "11": "IRE-ICA", "12": "IRE-JUN", "13": "IRE-LIB", "14": "IRE-LAM", "15": "ILM",
    "16": "IRE-LOR", "17": "IRE-MDD", "18": "IRE-MOQ", "19": "IRE-PAS", "20": "IRE-PIU",
    "21": "IRE-PUN", "22": "IRE-SAM", "23": "IRE-TAC", "24": "IRE-TUM", "25": "IRE-UCA",
}


def season_matrix(groups: np.ndarray) -> np.ndarray:
    """Month-of-year onset multipliers, one row per workplace group (columns Jan..Dec)."""
    out = np.ones((len(groups), 12))
    for group, months in SEASONS.items():
        out[groups == group] = months
    return out


def trend_factor(groups: np.ndarray, year: float) -> np.ndarray:
    """Onset multiplier for each workplace's group in a (fractional) year, interpolated."""
    out = np.ones(len(groups))
    for group, points in TRENDS.items():
        years = np.array(sorted(points), dtype=float)
        values = np.array([points[int(y)] for y in years])
        out[groups == group] = np.interp(year, years, values)
    return out

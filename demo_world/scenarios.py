"""A family of demo worlds: each scenario changes a mechanism of the generator, not only the seed.

The generator reads every knob below instead of a constant; `Knobs()` is the baseline world
(byte-identical to the world before scenarios existed). A scenario draws its knobs from ranges
with its own random stream (seeded by the world's seed and the scenario's name), so two seeds of
one scenario differ in their mechanisms' strength while the world's main stream is untouched.
Every scenario is meant to be hard and realistic (shared/DOMAIN.md), never shaped to flatter a
model. The drawn knobs are written to truth/scenario.json and explained in truth/README.md.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

BASELINE = "baseline"


class UnknownScenarioError(ValueError):
    """A scenario name that is not in the family."""


@dataclass(frozen=True)
class Knobs:
    """Mechanism settings of one world; the defaults are the baseline world."""

    # Months of observed history before the configured end (0: the configured start).
    history_months: int = 0
    # Intercept of the monthly log-hazard of involuntary work (prevalence lever).
    involuntary_intercept: float = -8.6
    # Share of complaints lost where coercion is active (victims too afraid to complain).
    coercion_silence: float = 0.0
    # Onset multiplier while another workplace of the same chain (principal and its
    # contractors and recruiters) is in forced labour; scale on each sector's contractor share.
    chain_contagion: float = 1.0
    intermediary_share_scale: float = 1.0
    # A late surge: onset multiplier reached (after a 6-month ramp) in a sector group and
    # departments during the last `surge_months` months.
    surge_group: str = ""
    surge_departments: tuple[str, ...] = ()
    surge_factor: float = 1.0
    surge_months: int = 0
    # The regular team's chance to detect an active case (before the remoteness penalty) and a
    # multiplier on its false-positive chances.
    regular_detection: float = 0.2
    regular_false_positive_scale: float = 1.0
    # Planned operations: the campaigns a year is drawn from (empty: all), a multiplier on their
    # rate factor and on planned inspections outside any campaign.
    campaign_pool: tuple[str, ...] = ()
    campaign_factor_scale: float = 1.0
    planned_outside_campaigns: float = 1.0
    # Vigía-style lists (demo_world/listed_operations.py): in the last `list_periods` quarters a
    # list with logged selection probabilities orders `list_share` times the previous quarter's
    # orders; its score is the hidden risk times log-normal noise of this scale.
    list_periods: int = 0
    list_share: float = 0.0
    list_score_noise: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """A named change of mechanisms: uniform ranges per knob and sets of knobs to pick one of."""

    name: str
    summary: str
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    pick_one: tuple[Mapping[str, object], ...] = ()


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(BASELINE, "The reference world: every mechanism as described above."),
    Scenario(
        "silent_complaints",
        "Victims under coercion almost never complain (fear, isolation, debt): complaints are "
        "filed at a small share of the baseline rate wherever coercion is active, so "
        "complaint-driven orders and features point away from forced labour.",
        ranges={"coercion_silence": (0.85, 0.97)},
    ),
    Scenario(
        "chain_spread",
        "Forced labour spreads through subcontracting chains: more workplaces work for a "
        "principal through contractors and recruiters, and while any workplace of a chain "
        "(principal, contractor or recruiter) holds forced labour, the others' onset hazards "
        "are multiplied. A lower base hazard keeps the prevalence near the baseline's (about "
        "1-1.3 times): what changes is where the cases are. Network features (contractor_of) "
        "carry signal; most links stay hidden.",
        ranges={"chain_contagion": (3.0, 8.0), "intermediary_share_scale": (1.5, 2.5),
                "involuntary_intercept": (-9.3, -9.0)},
    ),
    Scenario(
        "regional_surge",
        "A recent surge: in the last 15-21 months the onset hazards of one sector group in a few "
        "departments that no planned campaign covers rise several-fold (after a 6-month ramp), "
        "so history holds few inspections and labels there.",
        ranges={"surge_factor": (4.0, 8.0), "surge_months": (15, 21)},
        pick_one=(
            # Artisanal fishing fleets with migrant crews along the whole coast.
            {"surge_group": "fishing",
             "surge_departments": ("02", "04", "07", "11", "13", "14", "18", "20", "23", "24")},
            # Reconstruction works after El Niño floods.
            {"surge_group": "construction", "surge_departments": ("20", "16", "06", "12")},
            # Bars, hotels and restaurants in Amazon and northern cities.
            {"surge_group": "hospitality", "surge_departments": ("16", "20", "06", "10")},
            # New agro-export valleys outside the agro-export campaign's departments.
            {"surge_group": "agro", "surge_departments": ("15", "22", "10", "02")},
        ),
    ),
    Scenario(
        "poor_detection",
        "The regular team detects far fewer active cases and concludes forced labour wrongly "
        "more often, so the labels are noisier and sparser.",
        ranges={"regular_detection": (0.05, 0.10), "regular_false_positive_scale": (2.0, 4.0)},
    ),
    Scenario(
        "concentrated_planning",
        "Planned operations concentrate on a few campaigns, repeated every year with a higher "
        "rate, and few planned inspections happen elsewhere: strong selection bias in who gets "
        "inspected and labelled.",
        ranges={"campaign_factor_scale": (1.5, 2.5), "planned_outside_campaigns": (0.2, 0.5)},
        pick_one=(
            {"campaign_pool": ("formalizacion_laboral", "construccion_segura")},
            {"campaign_pool": ("mineria_ilegal", "tala_ilegal")},
            {"campaign_pool": ("agroexportacion", "trabajo_infantil", "construccion_segura")},
            {"campaign_pool": ("talleres_textiles", "hogar_digno", "turismo_y_restaurantes")},
        ),
    ),
    Scenario(
        "short_history",
        "Only about three years of records (a new office or a new information system): fewer "
        "label windows to train and select on.",
        ranges={"history_months": (33, 39)},
    ),
    Scenario(
        "low_prevalence",
        "Forced labour is markedly rarer (roughly a fifth to 40% of the baseline prevalence) "
        "while inspection volumes stay the same: far fewer positives to learn from.",
        ranges={"involuntary_intercept": (-10.0, -9.6)},
    ),
    Scenario(
        "vigia_lists",
        "For the last five to seven quarters a Vigía-style list per office (model part and a "
        "10% exploration draw with known chances, scored by a noisy view of the hidden risk) "
        "orders a third to a half as many visits as the quarter before saw, and planned "
        "orders elsewhere shrink by that share; the lists are published as list_log.parquet, "
        "so the exploration loop can be checked against the truth.",
        ranges={"list_periods": (5, 7), "list_share": (0.3, 0.5),
                "list_score_noise": (0.5, 1.5)},
    ),
)
SCENARIO_NAMES = tuple(s.name for s in SCENARIOS)


def get_scenario(name: str) -> Scenario:
    """The scenario called `name`; an unknown name is the user's error, with the known ones."""
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise UnknownScenarioError(f"unknown scenario {name!r}; known: {', '.join(SCENARIO_NAMES)}")


def draw_knobs(name: str, seed: int) -> Knobs:
    """The knobs of scenario `name` for `seed`, from a stream separate from the world's own."""
    scenario = get_scenario(name)
    if not scenario.ranges and not scenario.pick_one:
        return Knobs()
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    integer = {f.name for f in fields(Knobs) if f.type == "int"}
    values: dict[str, object] = {}
    for knob, (low, high) in sorted(scenario.ranges.items()):
        drawn = rng.uniform(low, high)
        values[knob] = int(round(drawn)) if knob in integer else round(float(drawn), 3)
    if scenario.pick_one:
        values.update(scenario.pick_one[int(rng.integers(len(scenario.pick_one)))])
    return replace(Knobs(), **values)


def scenario_record(name: str, seed: int, knobs: Knobs) -> dict[str, object]:
    """What truth/scenario.json holds: the name, seed, drawn knobs and their ranges."""
    scenario = get_scenario(name)
    return {
        "scenario": name,
        "seed": seed,
        "summary": scenario.summary,
        "knobs": asdict(knobs),
        "ranges": {k: list(v) for k, v in scenario.ranges.items()},
        "pick_one": [dict(p) for p in scenario.pick_one],
    }

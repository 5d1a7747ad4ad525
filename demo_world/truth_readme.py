"""truth/README.md: what each hidden file means, how the world was made and its base rates."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import pandas as pd

from demo_world.scenarios import BASELINE, Knobs

if TYPE_CHECKING:
    from demo_world.generate import DemoWorld

FAR_FUTURE = pd.Timestamp("2200-01-01")  # open-ended spells and workplaces
TEMPLATE = """# Hidden truth of the Vigía demo world

**Only `evaluation/` may read this folder.** The pipeline, its features and its models never
open it: they see only `workplaces.csv`, `inspections.csv` and `complaints.csv` one level up.
Everything here is synthetic (seeded); no row refers to a real firm or person.

## Files (one row per ...)
- `workplaces.csv` (workplace): latent components: sector group, real workforce vs declared,
  informality (share undeclared), remoteness (district z-score mix of low density, altitude and
  poverty), migrant share of the workforce, true subcontracting (`intermediary`,
  `principal_ruc`; the public `contractor_of` shows it for about 45% only), monthly log-hazards of
  involuntariness, coercion and child labour, the general violation propensity
  (`violation_logit`), the unobserved heterogeneity terms and the dates the workplace was active.
- `fl_spells.csv` (forced-labour spell): `workplace_id, start, end, left_censored`: forced labour
  (involuntary AND coercion) active on `[start, end)`, month granularity; `end` empty = ongoing
  at the end of the window; `left_censored` = already active when the simulation began (36
  months before the window).
- `involuntary_spells.csv`, `coercion_spells.csv`: the two components separately (same columns);
  `child_labour_spells.csv`: child labour.
- `inspections.csv` (inspection order, same row order as the public table): hidden state at the
  visit (`fl_active`, `involuntary`, `coercion`, `child_labour_active`), `finding` =
  true_positive / false_positive / missed / none, what the inspector concluded even if the order
  is still open (`forced_labour_concluded`), whether the finding ended the spell (`rescued`) and
  `open_at_export` (open orders show no outcome in the public table). Ids are the original ones,
  before defects were injected.
- `complaints.csv` (complaint, same row order as the public table): hidden state when it was
  filed and whether the complainant is a foreigner.
- `latent_risk.csv` (workplace): one column per quarter start: the oracle's probability-like
  risk, the stationary probability of forced labour under that month's hazards (season, trend
  and deterrence included; 0 while the workplace is not active).
- `campaigns.csv` (year x campaign): planned operations by sector group and department, with
  their rate factor and specialised-team share.
- `injected_defects.csv` (defect): `table, id, defect`: rows that violate the contract on
  purpose, as real exports do.

## How the world works
- Registry: firms (RUC prefix 10 ≈ 52%, 20 ≈ 45%, 15 and 17 rare) with one or more
  establishments on real INEI districts, sampled by population^0.9 (area × density) with
  deliberate over-sampling of hot-spot departments (Madre de Dios ×6, Loreto and Ucayali ×2.5,
  Puno and Tumbes ×1.5, San Martín ×1.3). The sector mix depends on the department (gold mining
  in Madre de Dios and Puno, logging in Loreto and Ucayali, agro-export on the coast, garments in
  Lima, domestic work everywhere, trade and services as the large low-risk bulk).
- Hidden process, per month: involuntariness (deception, debt, withheld wages or documents) and
  coercion (threats, violence, confinement) are two Markov chains. Onset log-hazards add sector,
  remoteness, informality, true subcontracting, migrant share and unobserved heterogeneity;
  coercion starts far more easily when work is already involuntary. Season (harvests, dry-season
  mining and logging, Brazil-nut gathering) and trend (gold-price boom, migration wave) multiply
  the onset hazards. **Forced labour = involuntary AND coercion.**
- A forced-labour finding ends the spell with probability 0.8 and deters new onsets for 24 months.
- Inspections: complaint-driven (a complaint becomes an order with probability 0.62, 0.85 when
  it reports forced- or child-labour topics, after a skewed lag of days to weeks), planned
  campaigns that change every year, ex officio, and authority requests (police and prosecutors:
  much more likely where forced labour is real). COVID-19 (April-September 2020) cuts field work.
- Detection is imperfect: only inspections whose subjects include forced labour can find it;
  the specialised team (GEIT-TFI) finds an active case with probability about 0.65, the regular
  team about 0.2 (less in remote districts); the regular team covers the subject far less often,
  so its realised detection rate at active cases is near 10%. False positives exist (documented in
  `inspections.csv` as `finding = false_positive`): about 4% (specialised) or 2% (regular) when
  only one component is present, 0.15% otherwise, among orders with the forced-labour subject.
- Complaints are driven by ordinary violations and are rarer where forced labour isolates
  workers; forced-labour topics are far more common where it is real.

## Why the rates differ from Peru's
Real prevalence among registered workplaces is unknown; the ILO estimates 3.5 forced-labour
victims per 1,000 people worldwide, and confirmed SUNAFIL cases are very rare (about 120-190
forced-labour inspections a year among about 62,000 orders). A world with real rates would hold a
handful of positives, too few to learn or evaluate anything. This sample is therefore
**enriched**: risky sectors and regions are over-represented, the hidden prevalence among active
workplaces is about 1.5-2% (concentrated in mining, logging, agro-export, bricks, garments and
domestic work in remote and informal settings), workplaces are inspected about 2.5 times as
often as real ones (about 0.08 orders per workplace-year against 62,000 / 2 million) and the
specialised team does about 9% of orders (0.3% in reality). Findings
per 6-month window are therefore tens, not the real handful. Everything else (the 70% share of
complaint-driven orders, a third ending in an infraction, skewed closing delays, the specialised
team's small share) imitates SUNAFIL's published figures.

## This world
{summary}
"""
SCENARIO_TEMPLATE = """
## Scenario `{name}`
{summary}

These knobs (drawn for seed {seed}, also in `scenario.json`) override the description above;
`demo_world/scenarios.py` documents each one.

| knob | this world | baseline | drawn from |
|---|---|---|---|
{rows}
"""


def render_truth_readme(world: DemoWorld) -> str:
    """The README text with the generated world's own counts and prevalence."""
    insp = world.truth["inspections"]
    spells = world.truth["fl_spells"]
    wp = world.truth["workplaces"]
    ordered = pd.to_datetime(insp["ordered_on"])
    first, last = ordered.min(), ordered.max()
    lines = [
        f"- workplaces: {len(wp):,}; inspections: {len(insp):,}; complaints: "
        f"{len(world.truth['complaints']):,}; window {first.date()} to {last.date()}",
        f"- forced-labour spells: {len(spells):,} at {spells['workplace_id'].nunique():,} "
        f"workplaces; findings: {int(insp['forced_labour_concluded'].sum()):,} "
        f"({int((insp['finding'] == 'false_positive').sum()):,} false positives)",
    ]
    start = pd.to_datetime(spells["start"])
    end = pd.to_datetime(spells["end"]).fillna(FAR_FUTURE)
    active_from = pd.to_datetime(wp["active_from"])
    active_until = pd.to_datetime(wp["active_until"]).fillna(FAR_FUTURE)
    for date in pd.date_range(first, last, periods=4).normalize():
        active = ((active_from <= date) & (active_until > date)).sum()
        n_fl = spells.loc[(start <= date) & (end > date), "workplace_id"].nunique()
        lines.append(f"- prevalence on {date.date()}: {n_fl:,} of {active:,} active workplaces "
                     f"({n_fl / max(active, 1):.2%})")
    lines.append(f"- injected defects: {len(world.truth['injected_defects']):,}")
    return TEMPLATE.format(summary="\n".join(lines)) + _scenario_section(world.scenario)


def _scenario_section(record: dict) -> str:
    """The scenario's mechanism and the knobs drawn for this seed (nothing for the baseline)."""
    if not record or record["scenario"] == BASELINE:
        return ""
    default = asdict(Knobs())
    changed = {k: v for k, v in record["knobs"].items() if v != default[k]}
    ranges = record["ranges"]
    rows = [f"| `{k}` | {_text(v)} | {_text(default[k])} | "
            f"{' to '.join(map(str, ranges[k])) if k in ranges else 'one of a set'} |"
            for k, v in changed.items()]
    return SCENARIO_TEMPLATE.format(name=record["scenario"], summary=record["summary"],
                                    seed=record["seed"], rows="\n".join(rows))


def _text(value: object) -> str:
    """A knob's value for a Markdown cell: sequences joined, empty ones as a dash."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "-"
    return str(value) if value != "" else "-"

"""Time the default demo world (generate + write) and print its base rates next to DOMAIN.md.

Run: `.venv/bin/python -m benchmarks.bench_demo_world [--workplaces N] [--out DIR]`; with
`--scenarios` it prints one row of base rates per scenario of the family instead
(default 10,000 workplaces each, the configured seed unless `--seed`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from demo_world.generate import DemoWorld, generate_world
from demo_world.scenarios import SCENARIO_NAMES, Knobs
from demo_world.writing import write_world
from evaluation.truth import forced_labour_active, load_truth, truth_dir
from settings.loader import load_config


def base_rates(world: DemoWorld, truth_folder: Path) -> list[tuple[str, str, str]]:
    """(measure, this world, what DOMAIN.md reports for SUNAFIL) rows."""
    insp = world.inspections
    hidden = world.truth["inspections"]
    ordered = pd.to_datetime(insp["ordered_on"])
    years = (ordered.max() - ordered.min()).days / 365.25
    found = insp["forced_labour_found"].eq("true")
    closed = insp["closed_on"].notna().to_numpy()
    half = ordered.dt.year.astype(str) + "H" + (1 + (ordered.dt.month > 6)).astype(str)
    per_window = found.groupby(half).sum()
    full_windows = per_window.iloc[1:-1] if len(per_window) > 2 else per_window
    rows = [
        ("inspection orders per year", f"{len(insp) / years:,.0f}",
         "~62,000 over ~2 million firms (this is an enriched sample)"),
        ("share from complaints", f"{insp['origin'].eq('complaint').mean():.1%}", "72.8%"),
        ("origin mix", ", ".join(f"{k} {v:.1%}" for k, v in
                                 insp["origin"].value_counts(normalize=True).items()), "-"),
        ("infraction rate", f"{insp['infraction_found'].eq('true').mean():.1%}", "about 1/3"),
        ("specialised-team share", f"{insp['team'].eq('specialized').mean():.1%}",
         "~0.3% (120-190 FL inspections a year)"),
        ("open at export", f"{(~closed).mean():.1%}", "-"),
        ("FL findings per year", f"{found.sum() / years:,.0f}",
         "not published (*unverified* 1e-4 to 1e-3 per inspection)"),
        ("FL findings per 6-month window", f"median {full_windows.median():.0f} "
         f"(min {full_windows.min()}, max {full_windows.max()})", "-"),
        ("false positives among findings",
         f"{(hidden.loc[found.to_numpy(), 'finding'] == 'false_positive').mean():.1%}", "-"),
    ]
    active = hidden["fl_active"].to_numpy() & closed
    for team in ("specialized", "regular"):
        mask = active & insp["team"].eq(team).to_numpy()
        rows.append((f"detection rate at active FL, {team} team",
                     f"{found[mask].mean():.1%} of {mask.sum():,}", "-"))
    truth = load_truth(truth_folder)
    wp = truth["workplaces"]
    for date in ("2019-01-01", "2021-01-01", "2023-01-01", "2025-01-01", "2026-06-01"):
        alive = ((wp["active_from"] <= date)
                 & (wp["active_until"].isna() | (wp["active_until"] > date))).to_numpy()
        fl = forced_labour_active(truth, date).to_numpy()
        rows.append((f"hidden FL prevalence on {date}", f"{fl[alive].mean():.2%} "
                     f"({fl[alive].sum():,} of {alive.sum():,})",
                     "ILO: 3.5 victims per 1,000 people"))
    comp = world.complaints
    rows.append(("complaints per year", f"{len(comp) / years:,.0f}", "-"))
    rows.append(("anonymous complaints", f"{comp['anonymous'].eq('true').mean():.1%}", "-"))
    rows.append(("declared_workers = 0",
                 f"{world.workplaces['declared_workers'].eq('0').mean():.1%}",
                 "informal employment 71.2%"))
    return rows


SUMMARY_COLUMNS = ("scenario", "seconds", "orders/year", "from complaints", "infraction rate",
                   "FL findings per 6 months", "false positives", "regular detection",
                   "prevalence mid / end", "complaints at FL", "FL with a case in its chain",
                   "drawn knobs")


def prevalence(truth: dict[str, pd.DataFrame], date: pd.Timestamp) -> float:
    """Share of workplaces active on `date` with forced labour active that day."""
    wp = truth["workplaces"]
    alive = ((wp["active_from"] <= date)
             & (wp["active_until"].isna() | (wp["active_until"] > date))).to_numpy()
    return float(forced_labour_active(truth, date).to_numpy()[alive].mean())


def chain_share(truth: dict[str, pd.DataFrame]) -> float:
    """Share of workplaces ever in forced labour whose chain (principal RUC) holds another one."""
    wp = truth["workplaces"]
    chain = wp["principal_ruc"].fillna(wp["ruc"])
    ever = wp["workplace_id"].isin(set(truth["fl_spells"]["workplace_id"]))
    cases = ever.groupby(chain).transform("sum")
    return float((cases[ever] > 1).mean())


def scenario_summary(name: str, world: DemoWorld, truth_folder: Path, seconds: float) -> list[str]:
    """One row of SUMMARY_COLUMNS: the base rates that tell the family's worlds apart."""
    insp, hidden = world.inspections, world.truth["inspections"]
    ordered = pd.to_datetime(insp["ordered_on"])
    years = (ordered.max() - ordered.min()).days / 365.25
    found = insp["forced_labour_found"].eq("true")
    half = ordered.dt.year.astype(str) + "H" + (1 + (ordered.dt.month > 6)).astype(str)
    per_window = found.groupby(half).sum()
    per_window = per_window.iloc[1:-1] if len(per_window) > 2 else per_window
    active = hidden["fl_active"].to_numpy() & insp["closed_on"].notna().to_numpy()
    regular = active & insp["team"].eq("regular").to_numpy()
    truth = load_truth(truth_folder)
    mid = ordered.min() + (ordered.max() - ordered.min()) / 2
    return [
        name, f"{seconds:.1f}", f"{len(insp) / years:,.0f}",
        f"{insp['origin'].eq('complaint').mean():.1%}",
        f"{insp['infraction_found'].eq('true').mean():.1%}",
        f"{per_window.median():.0f} ({per_window.min()}-{per_window.max()})",
        f"{(hidden.loc[found.to_numpy(), 'finding'] == 'false_positive').mean():.1%}",
        f"{found[regular].mean():.1%}",
        f"{prevalence(truth, mid.normalize()):.2%} / "
        f"{prevalence(truth, ordered.max().normalize()):.2%}",
        f"{world.truth['complaints']['fl_active'].mean():.2%}",
        f"{chain_share(truth):.1%}",
        drawn_knobs(world),
    ]


def drawn_knobs(world: DemoWorld) -> str:
    """The knobs that differ from the baseline, compactly (what this seed drew)."""
    default = asdict(Knobs())
    knobs = world.scenario["knobs"]
    return "; ".join(f"{k}={','.join(v) if isinstance(v, tuple) else v}"
                     for k, v in knobs.items() if v != default[k]) or "-"


def compare_scenarios(n: int, seed: int, cfg: dict) -> None:
    """Generate every scenario at the same size and seed; print a Markdown row for each."""
    print(f"demo world family: {n:,} workplaces, seed {seed}, configured end {cfg.end}")
    print("| " + " | ".join(SUMMARY_COLUMNS) + " |\n|" + "---|" * len(SUMMARY_COLUMNS))
    for name in SCENARIO_NAMES:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            world = generate_world(n, seed, cfg.start, cfg.end, cfg.defect_share, name)
            seconds = time.perf_counter() - t0
            write_world(world, Path(tmp))
            row = scenario_summary(name, world, truth_dir(tmp), seconds)
        print("| " + " | ".join(row) + " |", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Generate and write the configured default world, print timings and base rates."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workplaces", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--scenarios", action="store_true",
                        help="one row of base rates per scenario instead of the default report")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    cfg = load_config().demo_world
    if args.scenarios:
        seed = cfg.seed if args.seed is None else args.seed
        compare_scenarios(args.workplaces or 10_000, seed, cfg)
        return
    n = args.workplaces or cfg.workplaces
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        world = generate_world(n, cfg.seed, cfg.start, cfg.end, cfg.defect_share)
        t1 = time.perf_counter()
        write_world(world, out)
        t2 = time.perf_counter()
        print(f"demo world: {n:,} workplaces, seed {cfg.seed}, {cfg.start} to {cfg.end}")
        print(f"generate {t1 - t0:.1f} s, write {t2 - t1:.1f} s, total {t2 - t0:.1f} s")
        print("| measure | this world | DOMAIN.md |\n|---|---|---|")
        for measure, value, reference in base_rates(world, truth_dir(out)):
            print(f"| {measure} | {value} | {reference} |")


if __name__ == "__main__":
    main()

"""Expected findings of the delivered lists against the truth over the demo-world family
(`make bench-expected`).

Not part of `make test`. For every world (scenario x seed x size) it does what a run does at the
world's end, at the last planning date whose label window ends inside the world
(`benchmarks.model_quality._planning_date`): a backtest of the chosen model group on the plan's
newest `--windows` test windows (the only evidence the interval uses), the planning model for the
planning date, the delivered lists (office capacities scaled to the world's size), and the
expected findings per office and nationally, plain (Poisson-binomial in the calibrated
probabilities) and with team factors and calibration error
(models/targeting/expected_findings.py), for each candidate `--top-shares`.

The true expected findings of a listed visit are a * detection(team) + (1 - a) *
false_conclusion(team), with a = 1 when one of its establishments was in forced labour during
the label window and the rates of the team that visits it measured on the truth's inspections in
that window (evaluation/offpolicy_truth.finding_rates_by_team). A world's heavy part (backtest,
training, lists, truth per visit) is cached under .bench/expected_findings/, so the coverage
tables can be recomputed at once. Results: benchmarks/results/expected_findings.md and .json.

    .venv/bin/python -m benchmarks.expected_findings_quality [--scenarios a b] [--seeds 1 2]
        [--workplaces N] [--windows 4] [--top-shares 0.02 0.05 0.1]
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import sys
import time
from dataclasses import astuple, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.model_quality import CACHE, RESULTS, _planning_date, world_folder
from benchmarks.offpolicy_quality import REFERENCE_WORKPLACES
from cleaning.contract import load_districts
from cleaning.quality import validate_inputs
from evaluation.offpolicy_truth import finding_rates, finding_rates_by_team
from evaluation.truth import forced_labour_active, load_truth, truth_dir
from features.catalog import FEATURE_CATALOG
from features.labels import known_cases
from features.splits import fit_split_plan, production_train_as_of_dates
from features.training_set import (
    FeatureMemo,
    build_scoring_set,
    build_training_set,
    oldest_record_date,
    tables_known_before,
)
from models.targeting.expected_findings import (
    MAP_COLUMNS,
    SPECIALIZED,
    TeamEvidence,
    fit_visit_maps,
    team_windows,
    visit_rows,
)
from models.targeting.lists import (
    CASE_PARTS,
    NEW,
    WorkplaceRegistry,
    build_target_lists,
    with_case,
    yield_by_office,
)
from models.training.backtest import run_backtest, train_model
from models.training.baselines import is_baseline
from models.training.candidates import build_grid
from reporting.markdown import markdown_table
from settings.loader import load_config
from settings.schema import ListsConfig, VigiaConfig

log = logging.getLogger("expected_findings_quality")
SCENARIOS = ("baseline", "silent_complaints", "chain_spread", "regional_surge", "poor_detection",
             "concentrated_planning", "low_prevalence", "vigia_lists")
GROUP = "random_forest:class_weight=None,max_depth=10,min_samples_leaf=80,n_estimators=150"


@dataclass
class WorldLists:
    """A world's delivered lists with the true expected findings per visit, and its evidence."""

    world: str
    workplaces: int
    target: pd.DataFrame  # the lists with `case` and `true_findings` per visit
    test_scores: pd.DataFrame
    test_labels: pd.DataFrame
    inspections: pd.DataFrame  # public inspections known before the planning date
    seconds: float


def scaled_lists(lists: ListsConfig, workplaces: int) -> ListsConfig:
    """The configured capacities scaled to a world of `workplaces` (at least 1 per office)."""
    scale = workplaces / REFERENCE_WORKPLACES
    team = lists.specialized_team
    return lists.model_copy(update={
        "specialized_team": team.model_copy(update={"capacity": max(1, round(team.capacity
                                                                             * scale))}),
        "offices": {code: office.model_copy(update={"capacity": max(1, round(office.capacity
                                                                             * scale))})
                    for code, office in lists.offices.items()}})


def planning_scores(tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                    planning: pd.Timestamp, fitted: Any, config: VigiaConfig,
                    group: str) -> pd.DataFrame:
    """The chosen group trained for the planning date (labels known before it), its scores."""
    span = config.labels.label_timespan_months
    dates = production_train_as_of_dates(fitted.production_splits_config(config.splits), planning,
                                         oldest_record_date(tables), span)
    X, y, meta = build_training_set(
        FeatureMemo(tables, districts), dates, span, known_before=planning,
        label_kind=config.labels.kind,
        min_indicators=config.labels.min_indicators,
        area_prior_strength=config.features.area_prior_strength)
    estimator = build_grid(config.model, X.dtypes, FEATURE_CATALOG)[group]
    model = train_model(estimator, X, y, meta, config.model, baseline=is_baseline(group)).model
    X_now, meta_now = build_scoring_set(tables, districts, planning,
                                        config.features.area_prior_strength)
    score = model.predict_proba(X_now)[:, 1]
    return pd.DataFrame({"workplace_id": meta_now["workplace_id"].to_numpy(), "score": score,
                         "calibrated_probability": score})


def true_findings(target: pd.DataFrame, folder: Any, clean: dict[str, pd.DataFrame],
                  planning: pd.Timestamp, span: int, team_code: str) -> np.ndarray:
    """Per listed visit: a * detection(team) + (1 - a) * false_conclusion(team) (docstring)."""
    truth = load_truth(truth_dir(folder))
    active = forced_labour_active(truth, planning, span)
    teams = clean["inspections"].set_index("inspection_id")["team"].astype(str)
    rates = finding_rates_by_team(truth, teams, planning, span)
    pooled = finding_rates(truth, planning, span)
    is_active = np.array([bool(active.reindex(str(ids).split(";")).fillna(False).any())
                          for ids in target["establishments"]])
    team = np.where(target["office"] == team_code, SPECIALIZED, "regular")
    detection = np.array([rates.get(t, pooled).detection for t in team])
    false = np.array([rates.get(t, pooled).false_conclusion for t in team])
    return np.where(is_active, detection, false)


def world_lists(scenario: str, seed: int, workplaces: int, config: VigiaConfig,
                args: argparse.Namespace) -> WorldLists:
    """Backtest windows, planning model, delivered lists and their truth on one world."""
    started = time.perf_counter()
    folder = world_folder(scenario, seed, workplaces)
    span = config.labels.label_timespan_months
    clean = validate_inputs(folder, config, date.today())[0].clean
    planning = _planning_date(clean, span)
    tables, districts = tables_known_before(clean, planning), load_districts()
    fitted = fit_split_plan(config.splits, oldest_record_date(tables),
                            planning - pd.Timedelta(days=1), label_timespan_months=span)
    lists = scaled_lists(config.lists, workplaces)
    result = run_backtest(
        tables, districts, fitted.splits[-args.windows:],
        lambda dtypes: {args.model_group: build_grid(config.model, dtypes,
                                                     FEATURE_CATALOG)[args.model_group]},
        config.training(), lists.total_capacity, config.promotion.metric)
    scores = planning_scores(tables, districts, planning, fitted, config, args.model_group)
    cases = known_cases(tables["inspections"], planning, config.labels.kind,
                        config.labels.min_indicators)
    target = with_case(build_target_lists(
        scores, WorkplaceRegistry.from_tables(tables, districts), lists, planning,
        seed=config.model.seed, cases=cases), cases)
    target["true_findings"] = true_findings(target, folder, clean, planning, span,
                                            lists.specialized_team.code)
    seconds = time.perf_counter() - started
    log.info("%s-%s-%d: planning %s, %d visits, %.0f s", scenario, seed, workplaces,
             planning.date(), len(target), seconds)
    return WorldLists(f"{scenario}-{seed}-{workplaces}", workplaces, target, result.test_scores,
                      result.test_labels, tables["inspections"], seconds)


@dataclass(frozen=True)
class Choice:
    """One setting of the choices the benchmark compares (config `lists.yield_*`)."""

    top_share: float
    by_team: bool
    origins: str  # "planned" or "all"
    map_c: float  # inf: no map (the calibrated probability itself)

    @classmethod
    def configured(cls, lists: ListsConfig) -> Choice:
        return cls(lists.yield_top_share, lists.yield_factor_by_team,
                   ",".join(lists.yield_origins) if lists.yield_origins else "all",
                   lists.yield_map_c)


def coverage_rows(world: WorldLists, config: VigiaConfig, choice: Choice) -> pd.DataFrame:
    """Per office, TOTAL and each part: promised figures before and after, and the truth."""
    lists = config.lists
    rows = visit_rows(world.test_scores, world.test_labels, world.inspections,
                      config.labels.label_timespan_months, choice.top_share,
                      None if choice.origins == "all" else choice.origins.split(","))
    maps = (fit_visit_maps(rows, choice.map_c) if np.isfinite(choice.map_c)
            else pd.DataFrame(columns=MAP_COLUMNS))
    evidence = TeamEvidence(team_windows(rows, maps), lists.specialized_team.code,
                            lists.yield_draws, config.model.seed, choice.by_team, maps)
    tables = {"before": yield_by_office(world.target, lists.yield_confidence),
              "after": yield_by_office(world.target, lists.yield_confidence, True, evidence)}
    rows = []
    for part, prefix in (("all", ""), ("new", CASE_PARTS[NEW] + "_")):
        members = world.target if part == "all" else world.target[world.target["case"] == NEW]
        true = members.groupby("office")["true_findings"].sum()
        true["TOTAL"] = members["true_findings"].sum()
        for office in tables["before"].index:
            row = {"world": world.world, "workplaces": world.workplaces, "part": part,
                   "office": office, "level": "national" if office == "TOTAL" else "office",
                   "true": float(true.get(office, 0.0)), "top_share": choice.top_share,
                   "by_team": choice.by_team, "origins": choice.origins,
                   "map_c": choice.map_c}
            for when, table in tables.items():
                for name in ("expected_findings", "low", "high"):
                    row[f"{when}_{name}"] = float(table.loc[office, prefix + name])
            rows.append(row)
    frame = pd.DataFrame(rows)
    for when in tables:
        frame[f"{when}_covered"] = ((frame[f"{when}_low"] <= frame["true"])
                                    & (frame["true"] <= frame[f"{when}_high"]))
        frame[f"{when}_width"] = frame[f"{when}_high"] - frame[f"{when}_low"]
    return frame


def summary(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Coverage, mean width and ratio promised/true (of the sums), before and after."""
    named = {}
    for when in ("before", "after"):
        named[f"{when}_coverage"] = rows[f"{when}_covered"].astype(float)
        named[f"{when}_width"] = rows[f"{when}_width"]
    grouped = rows.groupby(by)
    table = pd.DataFrame(named).join(rows[by]).groupby(by).mean()
    for when in ("before", "after"):
        table[f"{when}_ratio"] = grouped[f"{when}_expected_findings"].sum() / grouped[
            "true"].sum()
    table["n"] = grouped.size()
    return table.round(3).reset_index()


def cache_path(scenario: str, seed: int, workplaces: int, args: argparse.Namespace) -> Path:
    return CACHE / "expected_findings" / f"{scenario}-{seed}-{workplaces}-w{args.windows}.pkl"


def load_or_run(scenario: str, seed: int, workplaces: int, config: VigiaConfig,
                args: argparse.Namespace) -> WorldLists:
    path = cache_path(scenario, seed, workplaces, args)
    if path.exists():
        return WorldLists(**pickle.loads(path.read_bytes()))
    world = world_lists(scenario, seed, workplaces, config, args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(vars(world)))
    return world


def write_results(rows: pd.DataFrame, config: VigiaConfig, worlds: list[WorldLists],
                  command: str) -> None:
    """benchmarks/results/expected_findings.md and .json."""
    lists = config.lists
    configured = Choice.configured(lists)
    chosen = rows[(rows["top_share"] == configured.top_share)
                  & (rows["by_team"] == configured.by_team)
                  & (rows["origins"] == configured.origins)
                  & (rows["map_c"] == configured.map_c)]
    tuned = rows[rows["world"].str.split("-").str[1].isin(["1", "2"])]
    sections = {
        "Configured top share, by part and level": summary(chosen, ["part", "level"]),
        "Configured top share, by size, part and level": summary(
            chosen, ["workplaces", "part", "level"]),
        "Configured top share, by seed (3 = held out), part and level": summary(
            chosen.assign(seed=chosen["world"].str.split("-").str[1]), ["seed", "part", "level"]),
        "Choices (seeds 1-2): map strength (inf = no map), factor by team or pooled, origins":
            summary(tuned[tuned["top_share"] == configured.top_share],
                    ["map_c", "by_team", "origins", "part", "level"]),
        "Choices (seeds 1-2): top share of the configured setting": summary(
            tuned[(tuned["by_team"] == configured.by_team)
                  & (tuned["origins"] == configured.origins)
                  & (tuned["map_c"] == configured.map_c)], ["top_share", "part", "level"]),
        "National figures per world (configured top share)": chosen[
            chosen["level"] == "national"][
            ["world", "part", "true", "before_expected_findings", "before_low", "before_high",
             "after_expected_findings", "after_low", "after_high"]].round(1),
    }
    lines = ["# Expected findings of the delivered lists against the truth", "",
             f"Command: `{command}` (model group `{GROUP}`, confidence "
             f"{lists.yield_confidence}, configured yield_top_share "
             f"{lists.yield_top_share}, yield_factor_by_team {lists.yield_factor_by_team}, "
             f"yield_map_c {lists.yield_map_c}, "
             f"yield_origins {lists.yield_origins}). "
             "Worlds: "
             + ", ".join(w.world for w in worlds) + f". Compute: "
             f"{sum(w.seconds for w in worlds):.0f} s.", "",
             "before = sum of calibrated probabilities, Poisson-binomial interval; after = each "
             "team's map from score to finding and the calibration error of past windows "
             "(models/targeting/expected_findings.py). ratio = promised / true expected "
             "findings. Settings are chosen on seeds 1-2; seed 3 is held out.", ""]
    for title, table in sections.items():
        lines += [f"## {title}", "", markdown_table(table, digits=3), ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "expected_findings.md").write_text("\n".join(lines), encoding="utf-8")
    (RESULTS / "expected_findings.json").write_text(json.dumps(
        {name: table.to_dict(orient="records") for name, table in sections.items()},
        indent=1, default=str), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--workplaces", nargs="+", type=int, default=[20_000])
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--top-shares", nargs="+", type=float, default=[0.05, 1.0])
    parser.add_argument("--map-cs", nargs="+", type=float, default=[0.03, 0.1, 0.3, 1.0])
    parser.add_argument("--model-group", default=GROUP)
    parser.add_argument("--run-only", action="store_true", help="cache worlds, write nothing")
    parser.add_argument("--cached-only", action="store_true", help="only worlds already cached")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_config()
    wanted = [(s, seed, n) for n in args.workplaces for s in args.scenarios for seed in args.seeds
              if not args.cached_only or cache_path(s, seed, n, args).exists()]
    worlds = [load_or_run(s, seed, n, config, args) for s, seed, n in wanted]
    if args.run_only:
        return
    configured = Choice.configured(config.lists)
    maps = sorted({*args.map_cs, configured.map_c, float("inf")})
    choices = {Choice(configured.top_share, by_team, origins, c) for c in maps
               for by_team in (True, False) for origins in ("planned", "all")}
    choices |= {Choice(share, configured.by_team, configured.origins, configured.map_c)
                for share in args.top_shares}
    rows = pd.concat([coverage_rows(w, config, choice) for w in worlds
                      for choice in sorted(choices, key=astuple)],
                     ignore_index=True)
    command = "make bench-expected ARGS=\"" + " ".join(argv or sys.argv[1:]) + "\""
    write_results(rows, config, worlds, command)
    print((RESULTS / "expected_findings.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

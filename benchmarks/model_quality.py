"""Model quality over a family of demo worlds: is the chosen model the one that finds forced labour?

`make bench-models` (not part of `make test`; about a minute and a half per world at 20,000
workplaces on 2 cores). For every world (scenario x seed) it runs the pipeline's model path as
`vigia run` does (contract rules, cut to the planning date, split plan, backtest of every
candidate and baseline, selection), then trains EVERY candidate for the planning date and scores
its list against the world's hidden truth. Per world it reports the chosen group, precision at 1%
and at capacity against the truth for the chosen model, for every candidate (the best of them in
hindsight), for the baselines and for the oracle, and the selection regret (best candidate minus
chosen). Every selection rule in `models.selection.choose.RULES` is replayed on the same evidence,
so
rules are compared by their regret across the family, never on one world (triage's audition).

The planning date is the last month start whose 6-month label window lies inside the world, so
the truth of the list's period is fully known. Evidence per world is cached under `.bench/`
(`--reuse` replays the rules without retraining). Results: `benchmarks/results/model_quality.md`
and `.json`.

    .venv/bin/python -m benchmarks.model_quality [--scenarios a b] [--seeds 1 2] [--workplaces N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import pickle
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

from cleaning.contract import load_districts
from cleaning.quality import validate_inputs
from demo_world.scenarios import SCENARIO_NAMES
from evaluation.truth import forced_labour_active, latent_risk, load_truth, truth_dir
from evaluation.truth_eval import truth_precision_at_k
from features.labels import known_cases
from features.training_set import (
    FeatureMemo,
    build_scoring_set,
    newest_record_date,
    oldest_record_date,
    tables_known_before,
)
from models.metrics import k_for_top_percent
from models.training.backtest import BacktestResult
from models.training.baselines import is_baseline
from reporting.markdown import markdown_table
from settings.errors import InputError
from settings.inputs import WORKPLACES
from settings.loader import load_config, with_overrides
from settings.paths import PROJECT_ROOT
from settings.schema import VigiaConfig

log = logging.getLogger("model_quality")

CACHE = PROJECT_ROOT / ".bench"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
DEFAULT_SEEDS = (1, 2)
NOISE_CONFIDENCES = (0.75, 0.95)  # replayed besides the configured one


@dataclass
class WorldEvidence:
    """What one world leaves for rule replay: the backtest and every candidate's truth figures."""

    world: str
    backtest: BacktestResult
    capacity: int
    planning_date: str
    truth: pd.DataFrame  # model_group, truth_precision_at_1pct, truth_precision_at_capacity
    seconds: float


def world_folder(scenario: str, seed: int, workplaces: int) -> Path:
    """The demo world of `scenario` under .bench/worlds, generated on first use."""
    from demo_world import generate, writing

    folder = CACHE / "worlds" / f"{scenario}-{seed}-{workplaces}"
    if not (folder / WORKPLACES.file_name).exists():
        folder.mkdir(parents=True, exist_ok=True)
        config = load_config().demo_world
        world = generate.generate_world(workplaces, seed, config.start, config.end,
                                        config.defect_share, scenario=scenario)
        writing.write_world(world, folder)
    return folder


def _planning_date(tables: dict[str, pd.DataFrame], span_months: int) -> pd.Timestamp:
    """The last month start whose label window ends inside the world (its truth fully known)."""
    end = newest_record_date(tables).normalize() + pd.Timedelta(days=1)
    return (end - pd.DateOffset(months=span_months)).to_period("M").to_timestamp()


def evaluate_world(scenario: str, seed: int, workplaces: int, config: VigiaConfig) -> WorldEvidence:
    """Backtest, select and score every candidate against the truth on one generated world."""
    from features.catalog import FEATURE_CATALOG
    from features.splits import fit_split_plan, production_train_as_of_dates
    from features.training_set import build_training_set
    from models.training.backtest import run_backtest, train_model
    from models.training.candidates import build_grid

    started = time.perf_counter()
    name = f"{scenario}-{seed}"
    folder = world_folder(scenario, seed, workplaces)
    span = config.labels.label_timespan_months
    clean = validate_inputs(folder, config, date.today())[0].clean
    planning_date = _planning_date(clean, span)
    tables = tables_known_before(clean, planning_date)
    districts = load_districts()
    fitted = fit_split_plan(config.splits, oldest_record_date(tables),
                            planning_date - pd.Timedelta(days=1), label_timespan_months=span)
    plan = fitted.splits
    capacity = config.lists.total_capacity
    result = run_backtest(tables, districts, plan,
                          lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG),
                          config.training(), capacity, config.promotion.metric)

    truth = load_truth(truth_dir(folder))
    active = forced_labour_active(truth, planning_date, span)
    X, meta = build_scoring_set(tables, districts, planning_date,
                                config.features.area_prior_strength)
    ids = pd.Index(meta["workplace_id"], name="workplace_id")
    k_1pct = k_for_top_percent(len(ids), 1)
    dates = production_train_as_of_dates(fitted.production_splits_config(config.splits),
                                         planning_date,
                                         oldest_record_date(tables), span)
    X_train, y, train_meta = build_training_set(
        FeatureMemo(tables, districts), dates, span, known_before=planning_date,
        label_kind=config.labels.kind, min_indicators=config.labels.min_indicators,
        area_prior_strength=config.features.area_prior_strength,
    )
    lists = {"oracle": latent_risk(truth, planning_date).reindex(ids).fillna(0.0)}
    for group, estimator in build_grid(config.model, X_train.dtypes, FEATURE_CATALOG).items():
        trained = train_model(estimator, X_train, y, train_meta, config.model,
                              baseline=is_baseline(group))
        lists[group] = pd.Series(trained.model.predict_proba(X)[:, 1], index=ids)
    groups = [g for g in lists if g != "oracle"]
    cases = known_cases(tables["inspections"], planning_date, config.labels.kind,
                        config.labels.min_indicators)
    rows = truth_rows(lists, active, ~ids.isin(cases), k_1pct, capacity)
    log.info("%s: history from %s, planning date %s, %d groups in %.0f s", name,
             oldest_record_date(tables).date(), planning_date.date(), len(groups),
             time.perf_counter() - started)
    return WorldEvidence(name, result, capacity, str(planning_date.date()), rows,
                         time.perf_counter() - started)


def truth_rows(lists: dict[str, pd.Series], active: pd.Series, new: np.ndarray, k_1pct: int,
               capacity: int) -> pd.DataFrame:
    """Each list's precision against the truth at 1% and at capacity, and at the same first 1%
    of all workplaces taken among new targets (`new`: no documented case at the planning date)."""
    ids = next(iter(lists.values())).index
    active_new = active.reindex(ids[new]).fillna(False)
    return pd.DataFrame([{
        "model_group": group,
        "truth_precision_at_1pct": truth_precision_at_k(active, scores, k_1pct),
        "truth_precision_at_capacity": truth_precision_at_k(active, scores, capacity),
        "truth_precision_at_1pct_new": truth_precision_at_k(active_new, scores[new], k_1pct),
    } for group, scores in lists.items()])


def replay_rules(evidence: WorldEvidence, config: VigiaConfig) -> pd.DataFrame:
    """Each selection rule's choice on this world's backtest and its truth figures."""
    from models.selection.choose import RULES, SelectionEvidence, select_model

    truth = evidence.truth.set_index("model_group")
    candidates = truth.loc[[g for g in truth.index if g != "oracle" and not is_baseline(g)]]
    best = candidates["truth_precision_at_1pct"].max()
    variants = [(rule, {}) for rule in RULES]
    variants += [(rule, {"noise_confidence": c}) for rule, spec in RULES.items()
                 if spec is not None and spec.within_noise for c in NOISE_CONFIDENCES]
    best_new = candidates["truth_precision_at_1pct_new"].max()
    evidence_by_goal = {
        "all": SelectionEvidence.from_backtest(evidence.backtest, evidence.capacity),
        "new": SelectionEvidence.from_backtest(evidence.backtest, evidence.capacity,
                                               new_targets_only=True),
    }
    rows = []
    for rule, override in variants:
        selection_config = config.selection.model_copy(update={"rule": rule, **override})
        for goal, selection_evidence in evidence_by_goal.items():
            choice = select_model(selection_evidence, selection_config).model_group
            chosen = truth.loc[choice]
            rows.append({
                "world": evidence.world,
                "rule": rule + "".join(f" ({k} {v})" for k, v in override.items()),
                "evidence": goal,
                "chosen": choice,
                "truth_precision_at_1pct": chosen["truth_precision_at_1pct"],
                "truth_precision_at_capacity": chosen["truth_precision_at_capacity"],
                "best_candidate_at_1pct": best,
                "regret_at_1pct": best - chosen["truth_precision_at_1pct"],
                "oracle_at_1pct": truth.at["oracle", "truth_precision_at_1pct"],
                "truth_precision_at_1pct_new": chosen["truth_precision_at_1pct_new"],
                "regret_at_1pct_new": best_new - chosen["truth_precision_at_1pct_new"],
            })
    return pd.DataFrame(rows)


def world_summary(evidence: WorldEvidence, chosen: str) -> dict[str, Any]:
    """The per-world row of the results table for the configured rule's choice."""
    truth = evidence.truth.set_index("model_group")
    candidates = truth.loc[[g for g in truth.index if g != "oracle" and not is_baseline(g)]]
    baselines = truth.loc[[g for g in truth.index if is_baseline(g) and "random" not in g]]
    oracle = truth.loc["oracle"]
    row = truth.loc[chosen]
    best_group = str(candidates["truth_precision_at_1pct"].idxmax())
    return {
        "world": evidence.world,
        "planning_date": evidence.planning_date,
        "chosen": chosen,
        "chosen_at_1pct": row["truth_precision_at_1pct"],
        "chosen_at_capacity": row["truth_precision_at_capacity"],
        "best_candidate": best_group,
        "best_at_1pct": candidates.at[best_group, "truth_precision_at_1pct"],
        "regret_at_1pct": candidates.at[best_group, "truth_precision_at_1pct"]
        - row["truth_precision_at_1pct"],
        "best_baseline_at_1pct": baselines["truth_precision_at_1pct"].max(),
        "oracle_at_1pct": oracle["truth_precision_at_1pct"],
        "oracle_at_capacity": oracle["truth_precision_at_capacity"],
        "share_of_oracle": row["truth_precision_at_1pct"] / oracle["truth_precision_at_1pct"]
        if oracle["truth_precision_at_1pct"] > 0 else math.nan,
        "chosen_at_1pct_new": row["truth_precision_at_1pct_new"],
        "best_at_1pct_new": candidates["truth_precision_at_1pct_new"].max(),
        "best_baseline_at_1pct_new": baselines["truth_precision_at_1pct_new"].max(),
        "oracle_at_1pct_new": oracle["truth_precision_at_1pct_new"],
        "seconds": round(evidence.seconds, 1),
    }


def _paired_interval(differences: np.ndarray) -> tuple[float, float]:
    """90% bootstrap interval of the mean of per-world paired differences (worlds resampled)."""
    if np.ptp(differences) == 0:  # the same choice on every world: nothing to resample
        return float(differences[0]), float(differences[0])
    interval = bootstrap((differences,), np.mean, confidence_level=0.9, method="percentile",
                         n_resamples=2000, random_state=0).confidence_interval
    return float(interval.low), float(interval.high)


def rules_table(replays: pd.DataFrame, configured: str) -> pd.DataFrame:
    """Per rule and evidence (all workplaces, or new targets only): mean and worst regret, mean
    and worst share of the oracle, and the regret among new targets, across worlds; and the
    new-target regret against the configured rule on all evidence, paired by world (a rule for
    the discovery ranking must beat it beyond the worlds' noise)."""
    frame = replays.assign(share=replays["truth_precision_at_1pct"] / replays["oracle_at_1pct"])
    table = frame.groupby(["rule", "evidence"]).agg(
        mean_regret=("regret_at_1pct", "mean"), worst_regret=("regret_at_1pct", "max"),
        mean_share_of_oracle=("share", "mean"), worst_share_of_oracle=("share", "min"),
        mean_precision_at_1pct=("truth_precision_at_1pct", "mean"),
        mean_regret_new=("regret_at_1pct_new", "mean"),
        worst_regret_new=("regret_at_1pct_new", "max"),
        mean_precision_at_1pct_new=("truth_precision_at_1pct_new", "mean"),
    )
    regret_new = frame.pivot_table(index="world", columns=["rule", "evidence"],
                                   values="regret_at_1pct_new")
    reference = regret_new[(configured, "all")]
    intervals = {key: _paired_interval((regret_new[key] - reference).to_numpy())
                 for key in table.index}
    table["regret_new_vs_configured_low"] = [intervals[key][0] for key in table.index]
    table["regret_new_vs_configured_high"] = [intervals[key][1] for key in table.index]
    return table.sort_values(["evidence", "mean_regret", "worst_regret"]).reset_index()


RULES_NOTE = (
    "Evidence `all`: every workplace of the test windows; `new`: only those with no finding "
    "documented before each window. The `_new` columns measure the choice among new targets "
    "(no documented case at the planning date) against the best candidate there; "
    "`regret_new_vs_configured_low/high`: 90% bootstrap interval over worlds of the mean "
    "paired difference in that regret against the configured rule on `all` evidence "
    "(below zero: better for new targets)."
)


def write_results(worlds: pd.DataFrame, rules: pd.DataFrame, candidates: pd.DataFrame,
                  refused: pd.DataFrame, config: VigiaConfig, workplaces: int) -> Path:
    """Markdown and JSON under benchmarks/results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    means = worlds[["chosen_at_1pct", "best_at_1pct", "oracle_at_1pct", "regret_at_1pct",
                    "share_of_oracle", "best_baseline_at_1pct"]].mean()
    ratio = (worlds["chosen_at_1pct"] / worlds["best_baseline_at_1pct"]).replace(np.inf, np.nan)
    headline = {
        "worlds": len(worlds), "workplaces": workplaces, "rule": config.selection.rule,
        "mean_regret_at_1pct": means["regret_at_1pct"],
        "worst_regret_at_1pct": worlds["regret_at_1pct"].max(),
        "mean_share_of_oracle": means["share_of_oracle"],
        "worst_share_of_oracle": worlds["share_of_oracle"].min(),
        "mean_ratio_to_best_baseline": float(ratio.mean()),
        "mean_chosen_at_1pct_new": float(worlds["chosen_at_1pct_new"].mean()),
        "mean_regret_at_1pct_new": float(
            (worlds["best_at_1pct_new"] - worlds["chosen_at_1pct_new"]).mean()),
        "mean_best_baseline_at_1pct_new": float(worlds["best_baseline_at_1pct_new"].mean()),
    }
    text = [
        "# Model quality across the demo-world family",
        "",
        f"Command: `make bench-models` ({len(worlds)} worlds at {workplaces:,} workplaces; "
        f"selection rule `{headline['rule']}`). Precision against the hidden truth at the "
        "planning date over the next 6 months; 1% of workplaces and the lists' capacity.",
        "",
        "## Headline",
        "",
        markdown_table(pd.DataFrame([headline]).T.reset_index().set_axis(["figure", "value"],
                                                                          axis=1)),
        "",
        "## Per world (configured rule)",
        "",
        markdown_table(worlds),
        "",
        "## Selection rules replayed on the same evidence (regret at 1% against the truth)",
        "",
        RULES_NOTE,
        "",
        markdown_table(rules),
        "",
        "## Worlds the pipeline refused (as `vigia run` would, with one clear message)",
        "",
        markdown_table(refused) if len(refused) else "None.",
        "",
        "## Every candidate and baseline against the truth (precision at 1%; `_new`: among "
        "new targets)",
        "",
        markdown_table(candidates),
        "",
    ]
    path = RESULTS / "model_quality.md"
    path.write_text("\n".join(text), encoding="utf-8")
    (RESULTS / "model_quality.json").write_text(json.dumps({
        "headline": headline, "worlds": worlds.to_dict(orient="records"),
        "rules": rules.to_dict(orient="records"), "refused": refused.to_dict(orient="records"),
    }, indent=2, default=float), encoding="utf-8")
    return path


def _config_tag(config: VigiaConfig) -> str:
    """A short hash of what the evidence depends on, so a changed grid never reuses stale runs."""
    keys = config.model_dump(mode="json", include={"labels", "splits", "features", "model"})
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _load_or_run(scenario: str, seed: int, workplaces: int, config: VigiaConfig,
                 reuse: bool) -> WorldEvidence:
    path = CACHE / "evidence" / f"{scenario}-{seed}-{workplaces}-{_config_tag(config)}.pkl"
    if reuse and path.exists():
        return pickle.loads(path.read_bytes())
    evidence = evaluate_world(scenario, seed, workplaces, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(evidence))
    return evidence


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIO_NAMES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("--workplaces", type=int, default=20_000)
    parser.add_argument("--config", default=None, help="a config file to benchmark")
    parser.add_argument("--reuse", action="store_true", help="replay rules on cached evidence")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("models", "features", "pipelines"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The rules need no per-window bootstrap intervals (selection draws its own paired ones).
    config = with_overrides(load_config(args.config),
                            {"model": {"metrics": {"bootstrap_samples": 0}}})
    from models.selection.choose import SelectionEvidence, select_model

    summaries, replays, candidates, refused = [], [], [], []
    for scenario in args.scenarios:
        for seed in args.seeds:
            try:
                evidence = _load_or_run(scenario, seed, args.workplaces, config, args.reuse)
            except InputError as error:  # what `vigia run` would refuse, e.g. too short a history
                refused.append({"world": f"{scenario}-{seed}", "refused": str(error)})
                log.warning("%s-%s refused: %s", scenario, seed, error)
                continue
            chosen = select_model(SelectionEvidence.from_backtest(evidence.backtest,
                                                                  evidence.capacity),
                                  config.selection).model_group
            summaries.append(world_summary(evidence, chosen))
            replays.append(replay_rules(evidence, config))
            truth = evidence.truth.set_index("model_group")
            candidates += [truth["truth_precision_at_1pct"].rename(evidence.world),
                           truth["truth_precision_at_1pct_new"].rename(f"{evidence.world}_new")]
            log.info("%s", summaries[-1])
    worlds = pd.DataFrame(summaries)
    rules = rules_table(pd.concat(replays, ignore_index=True), config.selection.rule)
    table = pd.concat(candidates, axis=1).reset_index()
    path = write_results(worlds, rules, table, pd.DataFrame(refused), config, args.workplaces)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

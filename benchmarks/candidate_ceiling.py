"""Where the gap to the oracle comes from: features, selective labels, or the model.

`make bench-ceiling` (not part of `make test`; a few minutes a world on 2 cores). For every
cached world of the family (the worlds `make bench-models` generated under `.bench/worlds/`) at
the model benchmark's planning date T, precision at 1% of workplaces against the hidden truth
over [T, T + label timespan) for:

- `oracle`: the top 1% by the hidden latent risk;
- `feature_ceiling`: the shipped candidate fitted on the truth of EVERY workplace at T itself,
  cross-fitted (5 folds): what Vigía's features could rank with perfect, complete labels;
- `label_ceiling_all`: fitted on the truth of every workplace at the planning model's training
  as-of dates (a random share of rows, `--label-rows`), scored at T: removes both the selection
  (only inspected workplaces are labelled) and the noise (inspectors miss most cases);
- `label_ceiling_inspected`: the planning model's training rows (inspected workplaces only),
  their labels replaced by the truth: removes the noise, keeps the selection;
- `shipped`: the formerly best candidate (forest, 40 per leaf) trained as the pipeline trains
  it (inspected labels); `kept`: the same forest without class weights, kept this round;
- `mechanism_no_hidden`: a forest on the generator's own workplace mechanisms (sector group,
  remoteness, real informality, migrant share, true subcontracting; truth columns no record
  shows) WITHOUT its unobserved heterogeneity terms, fitted on the truth at T, cross-fitted:
  roughly what any feature set could reach, since the oracle's risk adds those hidden terms;
- `hazards_with_hidden` / `hazards_without_hidden`: no model at all, the generator's own static
  onset log-hazards ranked directly, with and without the hidden heterogeneity.

`--trial NAME` instead fits each trial configuration of `TRIALS` (a config override, the
candidate the pipeline would train) for the planning date and reports its precision at 1%
against the shipped candidate on the same worlds: a cheap harness for candidate changes,
decided on the family mean and worst world, never on one world.

`--discovery` ranks the new targets (no documented case at T) the ways issue 26 names (trained
on new rows only, without the workplace's own finding history, with inspection-propensity
weights, a rank average, negatives that only regular inspectors gave weighted down) next to the
overall forest, the label ceilings and the baselines, each measured at the first 1% of all
workplaces taken among the new targets.

Truth is read here only (benchmarks/ and evaluation/ may). Results:
`benchmarks/results/candidate_ceiling.{md,json}`, `candidate_trials.{md,json}` and
`discovery.{md,json}`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from benchmarks.model_quality import CACHE, RESULTS, _planning_date
from cleaning.contract import load_districts
from evaluation.truth import forced_labour_active, latent_risk, load_truth, truth_dir
from evaluation.truth_eval import truth_precision_at_k
from features.build import features_as_of, prepare_feature_inputs
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
from models.metrics import k_for_top_percent
from models.offpolicy.propensity import fit_propensity, training_weights
from models.training.backtest import train_model
from models.training.baselines import build_baselines
from models.training.candidates import build_candidates, model_group_name
from reporting.markdown import markdown_table
from settings.loader import load_config, with_overrides
from settings.schema import ModelConfig, VigiaConfig

log = logging.getLogger("candidate_ceiling")

FAMILY = ("baseline", "chain_spread", "concentrated_planning", "low_prevalence",
          "poor_detection", "regional_surge", "silent_complaints")
FOLDS = 5

# Forest grid points (the candidates' own defaults fill the rest, e.g. balanced_subsample).
SHIPPED = {"n_estimators": 150, "max_depth": 10, "min_samples_leaf": 40}
FOREST_80 = {**SHIPPED, "min_samples_leaf": 80}
KEPT = {**SHIPPED, "class_weight": None}


@dataclass(frozen=True)
class Trial:
    """A candidate change: the forest grid point it trains and any other config override."""

    forest: dict[str, Any]
    override: dict[str, Any] = field(default_factory=dict)


def _recency(months: int) -> dict[str, Any]:
    return {"model": {"recency_half_life_months": months}}


def _labels(kind: str, **more: Any) -> dict[str, Any]:
    return {"labels": {"kind": kind, **more}}


TRIALS: dict[str, Trial] = {
    "shipped": Trial(SHIPPED),
    "rf_leaf_80": Trial(FOREST_80),
    "rf_leaf_160": Trial({**SHIPPED, "min_samples_leaf": 160}),
    "recency_24": Trial(SHIPPED, _recency(24)),
    # On the forest with 80 per leaf (kept after the first round):
    "rf80_recency_12": Trial(FOREST_80, _recency(12)),
    "rf80_recency_48": Trial(FOREST_80, _recency(48)),
    "rf80_min_indicators_2": Trial(FOREST_80, _labels("min_indicators")),
    "rf80_min_indicators_1": Trial(FOREST_80, _labels("min_indicators", min_indicators=1)),
    "rf80_fundamental_rights": Trial(FOREST_80, _labels("fundamental_rights")),
    "rf80_unweighted": Trial({**FOREST_80, "class_weight": None}),
    "rf40_unweighted": Trial(KEPT),
    "rf160_unweighted": Trial({**KEPT, "min_samples_leaf": 160}),
    "rf80_max_features_0.3": Trial({**FOREST_80, "max_features": 0.3}),
    "rf80_depth_14": Trial({**FOREST_80, "max_depth": 14}),
    "rf80_no_monotonic": Trial({**FOREST_80, "monotonic": False}),
}


@dataclass
class World:
    """One world cut to its planning date, with the truth of the list's period."""

    name: str
    tables: dict[str, pd.DataFrame]
    planning_date: pd.Timestamp
    train_dates: list[pd.Timestamp]
    truth: dict[str, pd.DataFrame]
    active: pd.Series  # forced labour during [T, T + span), per workplace

    def precision(self, scores: pd.Series) -> float:
        return truth_precision_at_k(self.active, scores, k_for_top_percent(len(self.active), 1))


def load_world(folder: Path, config: VigiaConfig, cache: Path) -> World:
    """The world's clean tables cut to the planning date (cached: the contract rules are slow)."""
    from cleaning.quality import validate_inputs

    path = cache / f"{folder.name}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    span = config.labels.label_timespan_months
    clean = validate_inputs(folder, config, date.today())[0].clean
    planning_date = _planning_date(clean, span)
    tables = tables_known_before(clean, planning_date)
    fitted = fit_split_plan(config.splits, oldest_record_date(tables),
                            planning_date - pd.Timedelta(days=1), label_timespan_months=span)
    dates = production_train_as_of_dates(fitted.production_splits_config(config.splits),
                                         planning_date, oldest_record_date(tables), span)
    truth = load_truth(truth_dir(folder))
    active = forced_labour_active(truth, planning_date, span)
    world = World(folder.name.rsplit("-", 1)[0], tables, planning_date, dates, truth, active)
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(pickle.dumps(world))
    partial.replace(path)  # atomic: a parallel run never reads half a file
    return world


def training_set(world: World, config: VigiaConfig) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """The planning model's training set, as the pipeline builds it."""
    return build_training_set(
        FeatureMemo(world.tables, load_districts()), world.train_dates,
        config.labels.label_timespan_months, known_before=world.planning_date,
        label_kind=config.labels.kind, min_indicators=config.labels.min_indicators,
        area_prior_strength=config.features.area_prior_strength,
    )


def scoring_set(world: World, config: VigiaConfig) -> tuple[pd.DataFrame, pd.Index]:
    X, meta = build_scoring_set(world.tables, load_districts(), world.planning_date,
                                config.features.area_prior_strength)
    return X, pd.Index(meta["workplace_id"], name="workplace_id")


def _estimator(config: VigiaConfig, X: pd.DataFrame, forest: dict[str, Any]):
    """The candidate pipeline of one forest grid point, whatever the configured grid holds."""
    model = config.model.model_copy(update={
        "families": {"random_forest": {k: [v] for k, v in forest.items()}}})
    return build_candidates(model, X.dtypes, FEATURE_CATALOG)[
        model_group_name("random_forest", forest)]


def _fit_scores(estimator, X: pd.DataFrame, y: np.ndarray, X_score: pd.DataFrame) -> np.ndarray:
    return clone(estimator).fit(X, y).predict_proba(X_score)[:, 1]


def feature_ceiling(world: World, config: VigiaConfig, X: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Cross-fitted scores of a model fitted on the truth of every workplace at T."""
    y = world.active.reindex(ids).fillna(False).to_numpy(dtype=int)
    scores = np.zeros(len(ids))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=config.model.seed)
    estimator = _estimator(config, X, SHIPPED)
    for fit, held in folds.split(X, y):
        scores[held] = _fit_scores(estimator, X.iloc[fit], y[fit], X.iloc[held])
    return pd.Series(scores, index=ids)


MECHANISM_COLUMNS = ("remoteness", "informality", "migrant_share", "intermediary")


def mechanism_no_hidden(world: World, config: VigiaConfig, ids: pd.Index) -> pd.Series:
    """Cross-fitted scores of a forest on the generator's mechanisms minus its hidden terms."""
    from sklearn.ensemble import RandomForestClassifier

    wp = world.truth["workplaces"].set_index("workplace_id").reindex(ids)
    X = pd.get_dummies(wp["sector_group"], dtype=float).join(
        wp[list(MECHANISM_COLUMNS)].astype(float))
    y = world.active.reindex(ids).fillna(False).to_numpy(dtype=int)
    seed = config.model.seed
    forest = RandomForestClassifier(n_estimators=150, max_depth=10, min_samples_leaf=40,
                                    class_weight="balanced_subsample", random_state=seed)
    scores = np.zeros(len(ids))
    for fit, held in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(X, y):
        scores[held] = _fit_scores(forest, X.iloc[fit], y[fit], X.iloc[held])
    return pd.Series(scores, index=ids)


# Weights of the unobserved heterogeneity in the generator's onset log-hazards
# (demo_world/hazards.py `hazards`: 0.9 * hidden_inv and 0.8 * hidden_coe).
HIDDEN_WEIGHTS = {"involuntary": 0.9, "coercion": 0.8}


def mechanism_formulas(world: World, ids: pd.Index) -> dict[str, pd.Series]:
    """The generator's own static onset log-hazards (involuntary + coercion), no fitting at
    all: with its hidden heterogeneity, and without it (what records could at best reveal
    about a workplace that never showed its own history); -inf while a workplace is inactive."""
    wp = world.truth["workplaces"].set_index("workplace_id").reindex(ids)
    T = world.planning_date
    alive = (pd.to_datetime(wp["active_from"]) <= T) & ~(pd.to_datetime(wp["active_until"]) <= T)
    full = wp["involuntary_log_hazard"] + wp["coercion_log_hazard"]
    hidden = sum(w * wp[f"hidden_{part}"] for part, w in HIDDEN_WEIGHTS.items())
    return {"hazards_with_hidden": full.where(alive, -np.inf),
            "hazards_without_hidden": (full - hidden).where(alive, -np.inf)}


def truth_labels_at(world: World, meta: pd.DataFrame, span: int) -> np.ndarray:
    """Truth (forced labour during [t, t + span)) for each (workplace_id, as_of) row of meta."""
    out = np.zeros(len(meta), dtype=int)
    for as_of, rows in meta.groupby("as_of").indices.items():
        active = forced_labour_active(world.truth, as_of, span)
        out[rows] = active.reindex(meta["workplace_id"].iloc[rows]).fillna(False).to_numpy(int)
    return out


def label_ceilings(world: World, config: VigiaConfig, X: pd.DataFrame, ids: pd.Index,
                   label_rows: float) -> dict[str, pd.Series]:
    """Scores at T of models trained on truth labels at the training dates."""
    span = config.labels.label_timespan_months
    seed = config.model.seed
    estimator = _estimator(config, X, SHIPPED)
    X_inspected, _, meta_inspected = training_set(world, config)
    y_inspected = truth_labels_at(world, meta_inspected, span)
    out = {"label_ceiling_inspected": pd.Series(
        _fit_scores(estimator, X_inspected, y_inspected, X), index=ids)}

    inputs = prepare_feature_inputs(world.tables, load_districts())
    rng = np.random.default_rng(seed)
    frames, metas = [], []
    for as_of in world.train_dates:
        features = features_as_of(inputs, as_of, config.features.area_prior_strength)
        keep = rng.random(len(features)) < label_rows
        frames.append(features[keep])
        metas.append(pd.DataFrame({"workplace_id": features.index[keep], "as_of": as_of}))
    X_all = pd.concat(frames).reset_index(drop=True)
    meta_all = pd.concat(metas).reset_index(drop=True)
    y_all = truth_labels_at(world, meta_all, span)
    out["label_ceiling_all"] = pd.Series(_fit_scores(estimator, X_all, y_all, X), index=ids)
    return out


def shipped_scores(world: World, config: VigiaConfig, forest: dict[str, Any], X: pd.DataFrame,
                   ids: pd.Index) -> pd.Series:
    """The forest trained for the planning date as the pipeline trains it."""
    X_train, y, meta = training_set(world, config)
    trained = train_model(_estimator(config, X_train, forest), X_train, y, meta, config.model)
    return pd.Series(trained.model.predict_proba(X)[:, 1], index=ids)


def ceiling_row(world: World, config: VigiaConfig, label_rows: float) -> dict[str, Any]:
    started = time.perf_counter()
    X, ids = scoring_set(world, config)
    lists = {"oracle": latent_risk(world.truth, world.planning_date).reindex(ids).fillna(0.0),
             "feature_ceiling": feature_ceiling(world, config, X, ids),
             **label_ceilings(world, config, X, ids, label_rows),
             "shipped": shipped_scores(world, config, SHIPPED, X, ids),
             "kept": shipped_scores(world, config, KEPT, X, ids),
             "mechanism_no_hidden": mechanism_no_hidden(world, config, ids),
             **mechanism_formulas(world, ids)}
    row = {"world": world.name, "planning_date": str(world.planning_date.date()),
           "base_rate": float(world.active.mean())}
    row.update({name: world.precision(scores) for name, scores in lists.items()})
    log.info("%s: %s in %.0f s", world.name, {k: round(v, 3) for k, v in row.items()
                                             if isinstance(v, float)},
             time.perf_counter() - started)
    return row


# Features that describe a workplace by its own documented findings (not its network, area,
# sector or inspection count): a new target has none of them by definition.
OWN_FINDINGS = ("fl_", "forced_labour_found_", "child_labour_found_", "victims_", "fines_uit_",
                "infractions_")
# Weights tried for training negatives that only regular inspectors gave (config
# `model.regular_negative_weight`; 1.0 = every negative counts the same).
DETECTION_WEIGHTS = (1.0, 0.5)


def _without_own_findings(X: pd.DataFrame) -> pd.DataFrame:
    return X.drop(columns=[c for c in X.columns if c.startswith(OWN_FINDINGS)])


def _new_rows(world: World, config: VigiaConfig, meta: pd.DataFrame) -> np.ndarray:
    """True for training rows whose workplace had no documented case at the row's as-of date."""
    new = np.ones(len(meta), dtype=bool)
    for as_of, rows in meta.groupby("as_of").indices.items():
        cases = known_cases(world.tables["inspections"], as_of, config.labels.kind,
                            config.labels.min_indicators)
        new[rows] = ~meta["workplace_id"].iloc[rows].isin(cases).to_numpy()
    return new


def _baseline_scores(config: VigiaConfig, X_train: pd.DataFrame, y: pd.Series, X: pd.DataFrame,
                     ids: pd.Index) -> dict[str, pd.Series]:
    """The configured simple baselines' scores at T (the random one left out)."""
    baselines = build_baselines(config.model.baselines, config.model.seed)
    return {name.removeprefix("baseline:"): pd.Series(
                baseline.fit(X_train, y).predict_proba(X)[:, 1], index=ids)
            for name, baseline in baselines.items() if not name.endswith("random")}


def discovery_row(world: World, config: VigiaConfig, label_rows: float) -> dict[str, Any]:
    """Precision among workplaces with no documented case before T (new targets), first 1% of
    all workplaces, for the overall forest, the label ceiling, the baselines and the ways of
    ranking new targets that issue 26 names."""
    started = time.perf_counter()
    X, ids = scoring_set(world, config)
    cases = known_cases(world.tables["inspections"], world.planning_date, config.labels.kind,
                        config.labels.min_indicators)
    new = ~ids.isin(cases)
    k = k_for_top_percent(len(ids), 1)
    X_train, y, meta = training_set(world, config)
    new_train = _new_rows(world, config, meta)
    forest = {**FOREST_80, "class_weight": None}

    def fitted(X_fit: pd.DataFrame, rows: np.ndarray, weight: np.ndarray | None = None,
               model: ModelConfig = config.model) -> pd.Series:
        trained = train_model(_estimator(config, X_fit, forest), X_fit[rows], y[rows],
                              meta[rows], model, None if weight is None else weight[rows])
        return pd.Series(trained.model.predict_proba(X[X_fit.columns])[:, 1], index=ids)

    everyone = np.ones(len(meta), dtype=bool)
    no_history = _without_own_findings(X_train)
    propensity = fit_propensity(world.tables, load_districts(), world.planning_date,
                                config.training())
    ipw = training_weights(propensity, X_train, config.offpolicy)
    lists = {
        "overall": fitted(X_train, everyone),
        **label_ceilings(world, config, X, ids, label_rows),
        "new_rows": fitted(X_train, new_train),
        "no_own_findings": fitted(no_history, everyone),
        "new_rows_no_own_findings": fitted(no_history, new_train),
        "new_rows_ipw": fitted(X_train, new_train, ipw),
        "ipw": fitted(X_train, everyone, ipw),
    }
    # Negatives that only regular inspectors gave, weighted otherwise than configured.
    for weight in DETECTION_WEIGHTS:
        model = config.model.model_copy(update={"regular_negative_weight": weight})
        lists[f"regular_negatives_{weight}"] = fitted(X_train, everyone, model=model)
    # Three forests that see the history differently, averaged by rank (their probabilities
    # are on different bases): the variance a single one leaves, if any, averages out.
    lists["blend"] = sum(lists[name].rank(pct=True)
                         for name in ("overall", "new_rows", "no_own_findings")) / 3
    lists.update(_baseline_scores(config, X_train, y, X, ids))
    active_new = world.active.reindex(ids[new]).fillna(False)
    top = lists["overall"].nlargest(k).index
    row = {"world": world.name, "new_share": float(new.mean()),
           "known_share_of_top": float(top.isin(cases).mean()),
           "base_rate_new": float(active_new.mean())}
    row.update({name: truth_precision_at_k(active_new, scores[new], k)
                for name, scores in lists.items()})
    log.info("%s: %s in %.0f s", world.name, {k: round(v, 3) for k, v in row.items()
                                             if isinstance(v, float)},
             time.perf_counter() - started)
    return row


def trial_row(world: World, config: VigiaConfig, names: list[str]) -> dict[str, Any]:
    """Each trial's candidate trained for the planning date, precision at 1% vs the truth."""
    row: dict[str, Any] = {"world": world.name}
    X, ids = scoring_set(world, config)
    sets: dict[str, tuple[pd.DataFrame, pd.Series, pd.DataFrame]] = {}
    for name in names:
        trial = TRIALS[name]
        trial_config = with_overrides(config, trial.override)
        key = json.dumps([trial_config.labels.model_dump(), trial_config.features.model_dump()],
                         sort_keys=True)
        if key not in sets:
            sets[key] = training_set(world, trial_config)
        X_train, y, meta = sets[key]
        trained = train_model(_estimator(trial_config, X_train, trial.forest), X_train, y, meta,
                              trial_config.model)
        scores = trained.model.predict_proba(X)[:, 1]
        row[name] = world.precision(pd.Series(scores, index=ids))
    log.info("%s: %s", world.name, {k: round(v, 3) for k, v in row.items() if k != "world"})
    return row


def summarise(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean and worst (minimum) per column, appended as two rows."""
    stats = pd.DataFrame([frame[columns].mean(), frame[columns].min()])
    stats.insert(0, "world", ["mean", "worst"])
    return pd.concat([frame, stats], ignore_index=True)


def trial_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per trial: family mean and worst world, mean change against `shipped`, worlds won/lost."""
    trials = [c for c in frame.columns if c != "world"]
    delta = frame[trials].sub(frame["shipped"], axis=0)
    return pd.DataFrame({
        "trial": trials, "mean_at_1pct": frame[trials].mean().to_numpy(),
        "worst_at_1pct": frame[trials].min().to_numpy(),
        "mean_change": delta.mean().to_numpy(), "worst_change": delta.min().to_numpy(),
        "worlds_better": (delta > 0).sum().to_numpy(), "worlds_worse": (delta < 0).sum().to_numpy(),
    })


def write(stem: str, title: str, command: str, frame: pd.DataFrame,
          summary: pd.DataFrame | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = [f"# {title}", "", f"Command: `{command}`.", ""]
    if summary is not None:
        text += ["## Summary (precision at 1% against the truth)", "", markdown_table(summary),
                 "", "## Per world", ""]
    text += [markdown_table(frame), ""]
    path = RESULTS / f"{stem}.md"
    path.write_text("\n".join(text), encoding="utf-8")
    (RESULTS / f"{stem}.json").write_text(json.dumps({
        "worlds": frame.to_dict(orient="records"),
        "summary": None if summary is None else summary.to_dict(orient="records"),
    }, indent=2, default=float), encoding="utf-8")
    return path


def run(worlds: list[Path], config: VigiaConfig, cache: Path,
        make_row: Callable[[World], dict[str, Any]]) -> pd.DataFrame:
    rows = [make_row(load_world(folder, config, cache)) for folder in worlds]
    return pd.DataFrame(rows)


def _trial_worlds(saved: dict | list) -> pd.DataFrame:
    """Per-world trial columns from a results JSON (a bare list: rows incl. mean and worst)."""
    rows = pd.DataFrame(saved["worlds"] if isinstance(saved, dict) else saved)
    return rows.loc[~rows["world"].isin(["mean", "worst"])].set_index("world")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", type=Path, default=CACHE / "worlds",
                        help="folder of cached worlds (<scenario>-<seed>-<workplaces>)")
    parser.add_argument("--scenarios", nargs="+", default=list(FAMILY))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--workplaces", type=int, default=20_000)
    parser.add_argument("--cache", type=Path, default=CACHE / "ceiling")
    parser.add_argument("--label-rows", type=float, default=0.25,
                        help="share of workplace-dates in the all-workplaces label ceiling")
    parser.add_argument("--discovery", action="store_true",
                        help="precision among new targets of the ways to rank them")
    parser.add_argument("--trial", nargs="+", choices=list(TRIALS), default=None)
    parser.add_argument("--merge", nargs="+", type=Path, default=None,
                        help="combine the per-world columns of earlier trial results (JSON)")
    parser.add_argument("--out", default=None, help="result file stem (default by mode)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        force=True)  # an imported library may have configured the root
    for noisy in ("models", "features", "pipelines"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    config = load_config()
    folders = [args.worlds / f"{s}-{seed}-{args.workplaces}"
               for s in args.scenarios for seed in args.seeds]
    command = "python -m benchmarks.candidate_ceiling " + " ".join(
        sys.argv[1:] if argv is None else argv)
    if args.merge:
        frames = [_trial_worlds(json.loads(p.read_text())) for p in args.merge]
        frame = pd.concat(frames, axis=1).reset_index()
        frame = frame.loc[:, ~frame.columns.duplicated()]
        path = write(args.out or "candidate_trials", "Candidate trials", command, frame,
                     trial_summary(frame))
    elif args.discovery:
        frame = run(folders, config, args.cache,
                    lambda w: discovery_row(w, config, args.label_rows))
        columns = [c for c in frame.columns if c != "world"]
        path = write(args.out or "discovery", "Ranking new targets", command,
                     summarise(frame, columns))
    elif args.trial:
        names = ["shipped", *[t for t in args.trial if t != "shipped"]]
        frame = run(folders, config, args.cache, lambda w: trial_row(w, config, names))
        path = write(args.out or "candidate_trials", "Candidate trials", command, frame,
                     trial_summary(frame))
    else:
        columns = ["oracle", "hazards_with_hidden", "hazards_without_hidden",
                   "mechanism_no_hidden", "feature_ceiling", "label_ceiling_all",
                   "label_ceiling_inspected", "shipped", "kept"]
        frame = run(folders, config, args.cache,
                    lambda w: ceiling_row(w, config, args.label_rows))
        path = write(args.out or "candidate_ceiling", "Where the gap to the oracle comes from",
                     command, summarise(frame, ["base_rate", *columns]))
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

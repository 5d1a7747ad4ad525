"""The stages wired as the flows wire them, on small in-memory clean tables (no files, no Prefect).

What one stage hands the next (split plan -> backtest -> selection -> planning model -> gate ->
scores -> lists) is checked here in seconds; test_end_to_end runs the same chain through the CLI.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from support import SHIPPED, model_section
from worlds import make_clean_tables

from features.catalog import FEATURE_CATALOG
from features.labels import known_cases
from features.splits import fit_split_plan, label_horizon_months
from features.training_set import (
    FeatureMemo,
    PlanningData,
    build_scoring_set,
    newest_record_date,
    oldest_record_date,
    tables_known_before,
)
from models.metrics import greater_is_better, precision_at_k
from models.monitoring.drift import drift_table
from models.offpolicy.estimates import champion_estimates, evaluation_frame
from models.offpolicy.estimators import top_k_mask
from models.offpolicy.list_log import list_log_entries, read_list_log
from models.selection.choose import SelectionEvidence, select_model
from models.selection.gate import (
    NO_EVIDENCE,
    RECIPES,
    UNSEEN,
    newest_window_rows,
    promotion_gate,
    unseen_rows,
)
from models.targeting.lists import WorkplaceRegistry, build_target_lists, office_of
from models.training.backtest import run_backtest
from models.training.candidates import build_grid
from models.training.planning import Contender, score, train_planning_model
from reporting.estimates import estimates_section, write_estimates
from settings.loader import with_overrides

pytestmark = pytest.mark.whole_runs

GRID = model_section({"logistic_regression": {"C": [0.5]}}, seed=SHIPPED.model.seed,
                     metrics={"bootstrap_samples": 20})


@pytest.fixture(scope="module")
def wired(districts) -> dict:
    config = with_overrides(SHIPPED, {"splits": {"test_splits": 2, "max_training_as_of_dates": 3}})
    config = config.model_copy(update={"model": GRID})
    clean = make_clean_tables(n_workplaces=800, seed=3, start="2018-01-01", end="2024-12-31")
    planning_date = (newest_record_date(clean) + pd.Timedelta(days=1)).normalize()
    tables = tables_known_before(clean, planning_date)
    start, span = oldest_record_date(tables), config.labels.label_timespan_months
    capacity, metric = config.lists.total_capacity, config.promotion.metric
    fitted = fit_split_plan(config.splits, start, planning_date - pd.Timedelta(days=1), span)
    backtest = run_backtest(tables, districts, fitted.splits,
                            lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG),
                            config.training(), capacity, metric)
    selection = select_model(SelectionEvidence.from_backtest(backtest, capacity), config.selection)
    data = PlanningData(tables, districts, planning_date)
    planning = train_planning_model(data.features, selection.model_group, planning_date, start,
                                    config.training(),
                                    fitted.production_splits_config(config.splits), config.drift)
    gate = promotion_gate(data, backtest, config,
                          challenger=Contender(planning.trained.model, planning.label_cutoff,
                                               planning.model_group),
                          champion=None, drift=None)
    X, meta = build_scoring_set(tables, districts, planning_date,
                                config.features.area_prior_strength)
    score = planning.trained.model.predict_proba(X)[:, 1]
    scores = pd.DataFrame({"workplace_id": meta["workplace_id"], "score": score,
                           "calibrated_probability": score})
    target = build_target_lists(scores, WorkplaceRegistry.from_tables(tables, districts),
                                config.lists, planning_date, seed=config.model.seed)
    return {"config": config, "fitted": fitted, "backtest": backtest, "selection": selection,
            "planning": planning, "gate": gate, "target": target, "planning_date": planning_date,
            "data": data}


def test_the_backtest_measures_the_configured_metric_on_every_split(wired) -> None:
    metrics, metric = wired["backtest"].metrics, wired["config"].promotion.metric
    measured = metrics[metrics["metric"] == metric]
    assert set(measured["split"]) == {str(s.test_as_of.date()) for s in wired["fitted"].splits}
    assert (measured["greater_is_better"] == greater_is_better(metric)).all()


def test_the_backtest_reports_new_targets_apart_and_selects_on_the_current_metric(
        wired) -> None:
    """`<metric>_new` is the metric among workplaces with no finding documented before the test
    as-of date; the chooser reads the existing rows only."""
    backtest, config = wired["backtest"], wired["config"]
    metrics, capacity = backtest.metrics, config.lists.total_capacity
    old = metrics[~metrics["metric"].str.endswith("_new")]
    assert len(metrics[metrics["metric"].str.endswith("_new")]) > 0
    labels_cfg = config.labels
    for split in backtest.test_labels["split"].unique():
        cases = known_cases(wired["data"].tables["inspections"], pd.Timestamp(split),
                            labels_cfg.kind, labels_cfg.min_indicators)
        window = backtest.test_labels.query("split == @split").set_index("workplace_id")
        assert (window["new_target"] == ~window.index.isin(cases)).all()
        labels = window["label"]
        group = wired["selection"].model_group
        scores = backtest.recipe_scores(split, group, labels.index)
        new = scores[~scores.index.isin(cases)]
        row = metrics.query("split == @split and model_group == @group and "
                            "metric == 'precision_at_capacity_new'").iloc[0]
        assert row["value"] == pytest.approx(
            precision_at_k(labels.reindex(new.index), new, capacity), nan_ok=True)
        everyone = metrics.query("split == @split and model_group == @group and "
                                 "metric == 'precision_at_capacity'").iloc[0]
        assert row["n_labelled"] <= everyone["n_labelled"] and row["n_ranked"] < len(scores)
    new_only = SelectionEvidence.from_backtest(backtest, capacity, new_targets_only=True)
    for split, window in new_only.windows.items():
        labels = backtest.test_labels[backtest.test_labels["split"] == split].set_index(
            "workplace_id")
        scores = backtest.test_scores
        scored = scores.loc[scores["split"] == split, "workplace_id"].unique()
        assert len(window.labels) == labels["new_target"].reindex(scored).sum()
    only_old = select_model(SelectionEvidence.from_backtest(
        type(backtest)(old, backtest.test_scores, backtest.test_labels, backtest.training),
        capacity), config.selection)
    assert only_old.model_group == wired["selection"].model_group


def test_the_chosen_group_is_retrained_on_labels_known_before_the_planning_date(wired) -> None:
    planning = wired["planning"]
    assert planning.model_group == wired["selection"].model_group
    assert planning.label_cutoff <= wired["planning_date"]


def test_the_first_model_passes_the_gate_and_lists_fill_each_office_once(wired) -> None:
    assert wired["gate"].decision.promote
    target, lists = wired["target"], wired["config"].lists
    assert not target["workplace_id"].duplicated().any()
    sizes = target.groupby("office").size()
    for office, settings in lists.offices.items():
        assert sizes.get(office, 0) <= settings.capacity
    assert sizes.get(lists.specialized_team.code, 0) <= lists.specialized_team.capacity


def gate_with(wired, min_positives: int, champion_group: str | None = None):
    """The gate with the planning model as challenger and, as champion, the same model under
    `champion_group` (default: its own recipe); no drift between them."""
    planning = wired["planning"]
    config = with_overrides(wired["config"], {"promotion": {"min_gate_positives": min_positives}})
    challenger = Contender(planning.trained.model, planning.label_cutoff, planning.model_group)
    champion = Contender(planning.trained.model, planning.label_cutoff,
                         champion_group or planning.model_group)
    return promotion_gate(wired["data"], wired["backtest"], config, challenger=challenger,
                          champion=champion, drift=drift_table(planning.profile,
                                                               planning.profile))


def gate_positives(wired) -> tuple[int, int]:
    """Positives of the unseen-outcome rows and of the newest test window."""
    cutoff, config = wired["planning"].label_cutoff, wired["config"]
    unseen = unseen_rows(wired["data"], cutoff, config)
    return unseen.positives, newest_window_rows(wired["data"], wired["backtest"], config).positives


def test_the_gate_judges_on_unseen_outcomes_when_they_are_enough(wired) -> None:
    unseen, _ = gate_positives(wired)
    assert unseen >= 1, "the small world should hold an unseen positive outcome"
    outcome = gate_with(wired, min_positives=unseen)
    assert outcome.rows.kind == UNSEEN
    assert outcome.rows.as_of == wired["planning"].label_cutoff  # after the cut-off: unseen
    assert outcome.comparison.improvement == 0 and outcome.decision.promote


def test_with_too_few_unseen_outcomes_the_recipes_compare_on_the_newest_window(wired) -> None:
    unseen, newest = gate_positives(wired)
    assert newest > unseen, "the newest test window should hold more positives"
    outcome = gate_with(wired, min_positives=unseen + 1)
    assert outcome.rows.kind == RECIPES
    assert str(outcome.rows.as_of.date()) == wired["backtest"].newest_split()
    # both scored by the backtest's model of their recipe, fitted before that window
    assert outcome.comparison.n_positives == newest and outcome.checks["drift"] is True


def test_without_out_of_sample_evidence_the_champion_stays(wired) -> None:
    unseen, newest = gate_positives(wired)
    too_few = gate_with(wired, min_positives=newest + 1)
    unknown = gate_with(wired, min_positives=unseen + 1,
                        champion_group="a recipe no longer in the grid")
    for outcome, why in ((too_few, "fewer than promotion.min_gate_positives"),
                         (unknown, "not in this backtest's grid")):
        assert outcome.rows.kind == NO_EVIDENCE and outcome.comparison is None
        assert not outcome.decision.promote and why in outcome.decision.reason
        assert "not enough new evidence" in outcome.decision.reason


def test_estimates_judge_the_list_with_a_model_that_never_saw_those_outcomes(wired) -> None:
    """The retrained champion learned the newest test window's outcomes; the estimates there must
    come from its recipe as the backtest fitted it before that window, and say so."""
    planning, backtest, config = wired["planning"], wired["backtest"], wired["config"]
    champion = Contender(planning.trained.model, planning.label_cutoff, planning.model_group)
    newest = backtest.newest_split()
    assert champion.label_cutoff > pd.Timestamp(newest)  # in sample for the champion
    X, labels = evaluation_frame(wired["data"], pd.Timestamp(newest), config)
    out_of_sample = backtest.recipe_scores(newest, planning.model_group, X.index)
    in_sample = score(champion.model, X)
    k = int(labels.notna().sum())  # a list as long as the labelled rows: every rank counts
    assert precision_at_k(labels, in_sample, k) != precision_at_k(labels, out_of_sample, k), (
        "the world should tell the in-sample and out-of-sample figures apart")

    def never(_as_of: pd.Timestamp) -> None:
        raise AssertionError("the backtest's model of the recipe was there to use")

    empty_log = read_list_log()
    found = champion_estimates(wired["data"], champion, empty_log, backtest, never, config)
    figures = found.figures
    assert figures["as_of"] == newest
    pd.testing.assert_series_equal(found.rows.scores, out_of_sample)
    assert figures["list_precision"]["labelled_only_precision"] == precision_at_k(
        labels, out_of_sample, found.capacity)
    assert "as the backtest fitted it for " + newest in figures["scored_by"]
    assert figures["scored_by"] in estimates_section(figures)
    by_case = figures["list_precision_by_case"]
    assert set(by_case) <= {"new", "follow_up"}
    assert sum(part["n_target"] for part in by_case.values()) == min(found.capacity, len(X))

    # The audit is of the lists as delivered at that date (team, office quotas, exploration),
    # not of the national top k: every listed establishment, per office and per case part.
    delivered, audit = found.delivered, found.audit.set_index(["attribute", "group"])
    assert set(delivered["selection"]) == {"modelo", "exploracion"}
    listed = pd.Index([i for ids in delivered["establishments"] for i in ids.split(";")])
    by_attribute = audit.groupby(level="attribute")["n_listed"].sum()
    assert (by_attribute == len(listed)).all() and "case" in by_attribute.index
    top = out_of_sample.index[top_k_mask(out_of_sample, len(listed)).to_numpy(dtype=bool)]
    assert set(listed) != set(top)
    workplaces = wired["data"].tables["workplaces"].set_index("workplace_id")
    per_office = office_of(workplaces["ubigeo"]).reindex(listed).value_counts()
    assert audit.xs("office")["n_listed"].reindex(per_office.index).eq(per_office).all()
    labels_cfg = config.labels
    cases = known_cases(wired["data"].tables["inspections"], pd.Timestamp(newest),
                        labels_cfg.kind, labels_cfg.min_indicators)
    assert audit.loc[("case", "seguimiento"), "n_listed"] == listed.isin(cases).sum() > 0
    assert (delivered["case"] == "seguimiento").sum() > 0

    refitted: list[pd.Timestamp] = []

    def refit(as_of: pd.Timestamp):
        refitted.append(as_of)
        return planning.trained.model

    unknown = Contender(planning.trained.model, planning.label_cutoff, "a recipe not in the grid")
    again = champion_estimates(wired["data"], unknown, empty_log, backtest, refit, config)
    assert refitted == [pd.Timestamp(newest)] and "refitted" in again.figures["scored_by"]
    before = Contender(planning.trained.model, pd.Timestamp(newest), planning.model_group)
    own = champion_estimates(wired["data"], before, empty_log, backtest, never, config)
    assert own.figures["scored_by"].startswith("the champion (its training labels end")


def test_every_pooled_period_is_scored_by_a_model_whose_labels_end_by_it(wired, tmp_path):
    """A logged list six months before the newest test window adds a second period (the
    backtest's two windows overlap, so only the newest of them pools): each period of
    estimates.json is one whose outcomes are known by the planning date, their label windows do
    not overlap, and the model that scored it learned only labels ending by its date."""
    planning, backtest, config = wired["planning"], wired["backtest"], wired["config"]
    data, fitted = wired["data"], wired["fitted"]
    champion = Contender(planning.trained.model, planning.label_cutoff, planning.model_group)
    newest = pd.Timestamp(backtest.newest_split())
    logged = newest - pd.DateOffset(months=6)
    log = list_log_entries(wired["target"], logged, config.offpolicy.list_period_months, "v0")
    cutoffs: dict[pd.Timestamp, pd.Timestamp] = {}

    def refit(as_of: pd.Timestamp):
        model = train_planning_model(
            FeatureMemo(tables_known_before(data.tables, as_of), data.districts),
            planning.model_group, as_of, oldest_record_date(data.tables), config.training(),
            fitted.production_splits_config(config.splits), config.drift)
        cutoffs[as_of] = model.label_cutoff
        return model.trained.model

    found = champion_estimates(data, champion, log, backtest, refit, config)
    figures = json.loads(write_estimates(found.figures, tmp_path).read_text(encoding="utf-8"))
    assert figures["pooled_as_of"] == [str(newest.date()), str(logged.date())]
    assert figures["list_precision"]["periods"] == 2
    horizon = label_horizon_months(config.splits, config.labels.label_timespan_months)
    for period in figures["periods"]:
        as_of = pd.Timestamp(period["as_of"])
        assert as_of + pd.DateOffset(months=horizon) <= wired["planning_date"]
        assert champion.label_cutoff > as_of  # the champion itself may not score it
        assert f"known before {period['as_of']}" in period["scored_by"] or (
            f"fitted it for {period['as_of']}, with labels known before it" in period["scored_by"])
    assert list(cutoffs) == [logged] and cutoffs[logged] <= logged
    assert "as the backtest fitted it for " + str(newest.date()) in (
        figures["periods"][0]["scored_by"])
    starts = [pd.Timestamp(d) for d in figures["pooled_as_of"]]
    assert starts[1] + pd.DateOffset(months=config.labels.label_timespan_months) <= starts[0]
    pooled = figures["list_precision"]
    assert pooled["n_target"] == sum(p["list_precision"]["n_target"] for p in figures["periods"])
    assert pooled["evidence"] in ("sufficient", "insufficient")
    assert (pooled["visits_needed"] == 0) == (pooled["evidence"] == "sufficient")

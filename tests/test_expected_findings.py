"""Expected findings per visiting team with model uncertainty, the fallback, the follow-up cap."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from support import AS_OF, DISTRICTS, lists_settings, synthetic_world

from models.targeting.expected_findings import (
    MAP_COLUMNS,
    REGULAR,
    SPECIALIZED,
    WINDOW_COLUMNS,
    TeamEvidence,
    fit_visit_maps,
    team_windows,
    visit_rows,
)
from models.targeting.lists import (
    CALIBRATED_ESTIMATE,
    FOLLOW_UP,
    MODEL,
    NEW,
    TEAM_ESTIMATE,
    ListRequest,
    WorkplaceRegistry,
    build_target_lists,
    with_case,
    yield_by_office,
)
from models.training.backtest import BacktestResult
from reporting.backtest import validation_for_planners
from reporting.planner_report import _yield_sentence
from reporting.run_report import yield_note

SPLITS = ["2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01"]


def synthetic_backtest(rows: int = 3000, seed: int = 0,
                       regular_finds: float | None = None) -> tuple[pd.DataFrame, ...]:
    """Out-of-sample scores, labels and inspections where regular inspectors find half of what
    is predicted (or `regular_finds`, whatever the score) and the specialised team all of it."""
    rng = np.random.default_rng(seed)
    scores, labels, inspections = [], [], []
    for split in SPLITS:
        ids = [f"{split}-{i:05d}" for i in range(rows)]
        score = rng.uniform(0.05, 0.6, rows)
        special = rng.random(rows) < 0.3
        regular = 0.5 * score if regular_finds is None else np.full(rows, regular_finds)
        found = rng.random(rows) < np.where(special, score, regular)
        scores.append(pd.DataFrame({"split": split, "model_group": "m", "workplace_id": ids,
                                    "score": score}))
        labels.append(pd.DataFrame({"split": split, "workplace_id": ids,
                                    "label": found.astype(float)}))
        inspections.append(pd.DataFrame({
            "workplace_id": ids, "ordered_on": pd.Timestamp(split) + pd.Timedelta(days=20),
            "team": np.where(special, SPECIALIZED, REGULAR), "origin": "planned"}))
    return (pd.concat(scores, ignore_index=True), pd.concat(labels, ignore_index=True),
            pd.concat(inspections, ignore_index=True))


def a_list(regular: int = 200, special: int = 40, p: float = 0.3) -> pd.DataFrame:
    return pd.DataFrame({
        "office": ["16"] * regular + ["GEIT-TFI"] * special,
        "probability": p, "eligible_mean_probability": 0.05,
        "case": [NEW, FOLLOW_UP] * ((regular + special) // 2),
    })


def evidence_of(windows: pd.DataFrame, maps: pd.DataFrame | None = None) -> TeamEvidence:
    return TeamEvidence(windows, "GEIT-TFI", draws=4000, seed=3,
                        maps=pd.DataFrame(columns=MAP_COLUMNS) if maps is None else maps)


def measured(scores: pd.DataFrame, labels: pd.DataFrame, inspections: pd.DataFrame,
             c: float = 0.1) -> TeamEvidence:
    """Each team's map and windows from a synthetic backtest, as the validation measures them."""
    rows = visit_rows(scores, labels, inspections, 6, top_share=1.0)
    maps = fit_visit_maps(rows, c)
    assert set(maps["team"]) == {REGULAR, SPECIALIZED, "both"}
    windows = team_windows(rows, maps)
    assert list(windows.columns) == WINDOW_COLUMNS and len(windows) == 3 * len(SPLITS)
    return evidence_of(windows, maps)


def test_regular_inspectors_finding_half_of_the_prediction_get_a_factor_near_one_half():
    table = yield_by_office(a_list(), 0.9, evidence=measured(*synthetic_backtest()))
    assert table.loc["16", "team_factor"] == pytest.approx(0.5, abs=0.05)
    assert table.loc["GEIT-TFI", "team_factor"] == pytest.approx(1.0, abs=0.1)
    assert table.loc["16", "expected_findings"] == pytest.approx(0.5 * 200 * 0.3, rel=0.1)
    for office in ("16", "GEIT-TFI", "TOTAL"):
        row = table.loc[office]
        assert row["low"] <= row["expected_findings"] <= row["high"]
        assert row["new_low"] <= row["new_expected_findings"] <= row["new_high"]
    assert (table["estimate"] == TEAM_ESTIMATE).all()
    assert "ventanas pasadas" in _yield_sentence(table.loc["TOTAL"])
    assert "team_factor" in yield_note(True, table)


def test_a_team_whose_findings_do_not_follow_the_score_is_promised_its_own_rate():
    """Regular visits find 5% wherever they go: a list of high scores must not be promised a
    share of its probabilities (what one factor on the calibrated probability would do)."""
    evidence = measured(*synthetic_backtest(regular_finds=0.05))
    high = a_list(regular=400, special=0, p=0.55)
    mapped = yield_by_office(high, 0.9, evidence=evidence).loc["16"]
    assert mapped["expected_findings"] / 400 == pytest.approx(0.05, abs=0.012)
    assert mapped["low"] <= 0.05 * 400 <= mapped["high"]
    one_factor = yield_by_office(high, 0.9, evidence=evidence_of(evidence.windows)).loc["16"]
    assert one_factor["expected_findings"] / 400 > 0.07  # the old promise: ratio x probability


def test_the_interval_widens_when_the_ratio_moves_across_windows():
    steady = pd.DataFrame({"split": SPLITS, "team": "both", "rows": 400,
                           "predicted": 100.0, "observed": 100.0})
    moving = steady.assign(observed=[40.0, 160.0, 60.0, 140.0])  # same pooled ratio
    width = {}
    for name, windows in (("steady", steady), ("moving", moving)):
        row = yield_by_office(a_list(), 0.9, evidence=evidence_of(windows)).loc["TOTAL"]
        width[name] = row["high"] - row["low"]
    plain = yield_by_office(a_list(), 0.9).loc["TOTAL"]
    assert width["steady"] > plain["high"] - plain["low"]  # its own sampling noise counts
    assert width["moving"] > 2 * width["steady"]


def test_without_past_positives_the_yield_falls_back_to_visit_chance_and_says_so():
    empty = evidence_of(pd.DataFrame(columns=WINDOW_COLUMNS))
    none_found = evidence_of(pd.DataFrame({"split": SPLITS, "team": "both", "rows": 50,
                                           "predicted": 3.0, "observed": 0.0}))
    plain = yield_by_office(a_list(), 0.9)
    for evidence in (empty, none_found, None):
        table = yield_by_office(a_list(), 0.9, evidence=evidence)
        pd.testing.assert_frame_equal(table, plain)
        assert "team_factor" not in table and (table["estimate"] == CALIBRATED_ESTIMATE).all()
    assert "visit-to-visit chance only" in yield_note(True, plain)
    assert "azar de las visitas" in _yield_sentence(plain.loc["TOTAL"])


def test_a_follow_up_cap_is_respected_and_frees_places_for_the_next_new_targets(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)
    uncapped = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)
    cases = pd.Index(uncapped["establishments"].str.split(";").explode())  # all listed: cases
    capped = with_case(build_target_lists(scores, registry, lists_settings(follow_up_cap=0.2),
                                          AS_OF, seed=1, cases=cases), cases)
    none = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1, cases=cases)
    pd.testing.assert_frame_equal(none, uncapped)  # no cap: the lists do not change
    for office, rows in capped.groupby("office"):
        assert len(rows) == (uncapped["office"] == office).sum()
        assert (rows["case"] == FOLLOW_UP).sum() <= math.floor(0.2 * len(rows))
    table = yield_by_office(capped, 0.9)
    assert (table["follow_up_share"] <= 0.2 + 1e-9).all()
    assert "%" in _yield_sentence(table.loc["TOTAL"])
    # one office alone: its two best follow-ups stay, the freed places go to new targets
    alone = ListRequest(office="16")
    before = with_case(build_target_lists(scores, registry, lists_settings(), AS_OF, alone,
                                          seed=1), cases)
    after = with_case(build_target_lists(scores, registry, lists_settings(follow_up_cap=0.2),
                                         AS_OF, alone, seed=1, cases=cases), cases)
    model_before = before[before["selection"] == MODEL]
    model_after = after[after["selection"] == MODEL]
    assert list(model_after.loc[model_after["case"] == FOLLOW_UP, "workplace_id"]) == list(
        model_before.loc[model_before["case"] == FOLLOW_UP, "workplace_id"].head(2))
    assert (model_after["case"] == NEW).sum() == len(model_after) - 2
    assert model_after["score"].is_monotonic_decreasing
    assert set(DISTRICTS) <= set(capped["office"])


def test_a_registered_models_validation_carries_its_windows_to_the_lists():
    scores, labels, inspections = synthetic_backtest(rows=500)
    metrics = pd.DataFrame({"metric": "precision", "model_group": "m", "split": SPLITS,
                            "value": 0.3, "ci_low": 0.2, "ci_high": 0.4,
                            "n_labelled_in_top_k": 50, "k": 100})
    backtest = BacktestResult(metrics, scores, labels)
    validation = json.loads(json.dumps(validation_for_planners(
        backtest, "m", "precision", 6, inspections,
        lists_settings(yield_top_share=0.5, yield_origins=["planned"]))))  # as MLflow keeps it
    assert len(validation["calibration_windows"]) == 3 * len(SPLITS)
    assert {m["team"] for m in validation["visit_maps"]} == {REGULAR, SPECIALIZED, "both"}
    evidence = TeamEvidence.from_records(validation["calibration_windows"],
                                         lists_settings(yield_factor_by_team=True), seed=1,
                                         maps=validation["visit_maps"])
    assert evidence.team_code == "GEIT-TFI" and evidence.usable()
    table = yield_by_office(a_list(), 0.9, evidence=evidence)
    rows = visit_rows(scores, labels, inspections, 6, 0.5, ["planned"])
    maps = fit_visit_maps(rows, lists_settings().yield_map_c)
    direct = TeamEvidence(team_windows(rows, maps), "GEIT-TFI", evidence.draws, 1, True, maps)
    pd.testing.assert_frame_equal(table, yield_by_office(a_list(), 0.9, evidence=direct))
    assert table.loc["16", "team_factor"] < 0.75 < table.loc["GEIT-TFI", "team_factor"]
    old = TeamEvidence.from_records([], lists_settings(), seed=1)  # a champion from before
    assert not old.usable()
    assert old.mapped(np.array([0.3]), REGULAR)[0] == 0.3  # no maps: the identity

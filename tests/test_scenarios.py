"""The demo-world family: each scenario passes the contract and shows its mechanism in its data.

Every scenario is compared with the baseline world of the same seed and size (the registry and
the hidden hazards come from the same random stream, so the differences are the mechanism's).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import DEFECT_SHARE

from cleaning.contract import load_districts
from cleaning.ingest import load_raw_tables
from cleaning.validation import check_quarantine_share, validate_tables
from cli.main import main
from demo_world import spec
from demo_world.generate import DemoWorld, generate_world
from demo_world.scenarios import (
    BASELINE,
    SCENARIO_NAMES,
    SCENARIOS,
    Knobs,
    UnknownScenarioError,
    draw_knobs,
)
from demo_world.writing import write_world
from evaluation.truth import forced_labour_active, latent_risk, load_truth
from settings.loader import load_config

pytestmark = pytest.mark.whole_runs

START, END = "2018-07-01", "2026-06-30"
WORKPLACES = 3000
SEED = 11
ID_COLUMNS = {"workplaces": "workplace_id", "inspections": "inspection_id",
              "complaints": "complaint_id", "registry_periods": "workplace_id"}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[DemoWorld, Path]]:
    """Every scenario at the same seed and size, in memory and written to a folder."""
    out = {}
    for name in SCENARIO_NAMES:
        world = generate_world(WORKPLACES, SEED, START, END,
                               defect_share=DEFECT_SHARE, scenario=name)
        folder = tmp_path_factory.mktemp(name)
        write_world(world, folder)
        out[name] = (world, folder)
    return out


@cache
def _load_truth(folder: Path) -> dict[str, pd.DataFrame]:
    return load_truth(folder / "truth")


def _truth(worlds: dict, name: str) -> dict[str, pd.DataFrame]:
    return _load_truth(worlds[name][1])


def _knobs(worlds: dict, name: str) -> dict:
    return worlds[name][0].scenario["knobs"]


def _alive(truth: dict[str, pd.DataFrame], day: str) -> np.ndarray:
    wp = truth["workplaces"]
    return ((wp["active_from"] <= day)
            & (wp["active_until"].isna() | (wp["active_until"] > day))).to_numpy()


def _prevalence(truth: dict[str, pd.DataFrame], day: str) -> float:
    return float(forced_labour_active(truth, day).to_numpy()[_alive(truth, day)].mean())


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_scenario_passes_the_contract_with_only_injected_defects(
    worlds: dict, name: str
) -> None:
    world, folder = worlds[name]
    raw = load_raw_tables(folder, None)
    outcome = validate_tables({t: r.frame for t, r in raw.items()},
                              known_ubigeos=load_districts()["inei"],
                              reference_date=date(2026, 7, 1),
                              wrong_type_stop_share=load_config().quality.max_wrong_type_share)
    check_quarantine_share(outcome.accounting, outcome.rule_counts,
                           load_config().quality.max_quarantine_share)
    injected = world.truth["injected_defects"]
    for table, quarantine in outcome.quarantine.items():
        wanted = set(injected.loc[injected["table"] == table, "id"])
        held = quarantine[ID_COLUMNS[table]]
        assert wanted <= set(held), table
        collateral = quarantine.loc[~held.isin(wanted), "rule"]
        assert (collateral == "quarantined_workplace").all(), (table, collateral.unique())


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_truth_readers_cover_every_scenario(worlds: dict, name: str) -> None:
    world, folder = worlds[name]
    truth = _truth(worlds, name)
    first = pd.to_datetime(world.inspections["ordered_on"]).min()
    window_start = first.to_period("M").start_time
    assert latent_risk(truth, window_start).between(0, 1).all()
    assert latent_risk(truth, END).between(0, 1).all()
    assert forced_labour_active(truth, END, horizon_months=6).any()
    record = json.loads((folder / "truth" / "scenario.json").read_text(encoding="utf-8"))
    assert record["scenario"] == name and record["seed"] == SEED
    readme = (folder / "truth" / "README.md").read_text(encoding="utf-8")
    assert (f"## Scenario `{name}`" in readme) == (name != BASELINE)


def test_baseline_is_the_default_world_and_scenarios_touch_only_their_knobs() -> None:
    default = generate_world(300, 5, START, END, defect_share=DEFECT_SHARE)
    explicit = generate_world(300, 5, START, END, defect_share=DEFECT_SHARE, scenario=BASELINE)
    for table in ("workplaces", "inspections", "complaints"):
        pd.testing.assert_frame_equal(getattr(default, table), getattr(explicit, table))
    assert draw_knobs(BASELINE, 5) == Knobs()
    baseline = asdict(Knobs())
    for scenario in SCENARIOS:
        own = set(scenario.ranges) | {k for pick in scenario.pick_one for k in pick}
        drawn = asdict(draw_knobs(scenario.name, 5))
        assert {k for k in baseline if drawn[k] != baseline[k]} <= own, scenario.name
        assert own <= {f.name for f in fields(Knobs)}, scenario.name


def test_drawn_knobs_stay_in_range_and_change_with_the_seed() -> None:
    for scenario in SCENARIOS[1:]:
        draws = [asdict(draw_knobs(scenario.name, seed)) for seed in range(6)]
        assert draws[0] == asdict(draw_knobs(scenario.name, 0)), "same seed, same knobs"
        assert len({json.dumps(d) for d in draws}) > 1, scenario.name
        for knob, (low, high) in scenario.ranges.items():
            assert all(low <= d[knob] <= high for d in draws), (scenario.name, knob)


def test_same_seed_same_files_for_a_scenario(tmp_path: Path) -> None:
    for folder, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_world(generate_world(400, seed, START, END,
                                   defect_share=DEFECT_SHARE, scenario="chain_spread"),
                    tmp_path / folder)
    for file in ("workplaces.csv", "inspections.csv", "truth/fl_spells.csv",
                 "truth/scenario.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert ((tmp_path / "a" / "truth/scenario.json").read_bytes()
            != (tmp_path / "c" / "truth/scenario.json").read_bytes())


def test_scenario_options_name_real_groups_and_campaigns() -> None:
    groups = {s.group for s in spec.SECTORS}
    campaigns = {c.name: c for c in spec.CAMPAIGNS}
    for scenario in SCENARIOS:
        for pick in scenario.pick_one:
            assert set(pick.get("campaign_pool", ())) <= set(campaigns)
            if "surge_group" in pick:
                assert pick["surge_group"] in groups
                # Little inspection history: no planned campaign covers the surge.
                for c in campaigns.values():
                    assert not (pick["surge_group"] in c.groups
                                and set(pick["surge_departments"]) & set(c.departments)), c.name


def test_silent_complaints_come_rarely_from_coerced_workplaces(worlds: dict) -> None:
    share = {name: worlds[name][0].truth["complaints"]["coercion"].mean()
             for name in (BASELINE, "silent_complaints")}
    assert share["silent_complaints"] < 0.3 * share[BASELINE]


def test_chain_spread_clusters_forced_labour_in_chains(worlds: dict) -> None:
    def clustered(name: str) -> float:
        wp = _truth(worlds, name)["workplaces"]
        chain = wp["principal_ruc"].fillna(wp["ruc"])
        ever = wp["workplace_id"].isin(set(_truth(worlds, name)["fl_spells"]["workplace_id"]))
        return float((ever.groupby(chain).transform("sum")[ever] > 1).mean())

    assert clustered("chain_spread") > clustered(BASELINE) + 0.1
    intermediaries = {n: _truth(worlds, n)["workplaces"]["intermediary"].mean()
                      for n in (BASELINE, "chain_spread")}
    assert intermediaries["chain_spread"] > 1.3 * intermediaries[BASELINE]


def test_regional_surge_raises_recent_risk_where_it_was_low(worlds: dict) -> None:
    knobs = _knobs(worlds, "regional_surge")
    ratios = {}
    for name in (BASELINE, "regional_surge"):
        truth = _truth(worlds, name)
        wp = truth["workplaces"]
        rows = (wp["sector_group"] == knobs["surge_group"]) & wp["department_code"].isin(
            knobs["surge_departments"])
        recent = latent_risk(truth, END)[rows.to_numpy()].mean()
        earlier = latent_risk(truth, "2022-01-01")[rows.to_numpy()].mean()
        ratios[name] = recent / earlier
    assert ratios["regional_surge"] > 3.0 and ratios[BASELINE] < 2.0, ratios


def test_poor_detection_finds_fewer_active_cases(worlds: dict) -> None:
    """Detection at active cases (its extra false positives are too rare to count here)."""
    def regular_detection(name: str) -> float:
        world = worlds[name][0]
        regular = world.inspections["team"].eq("regular").to_numpy()
        hidden = world.truth["inspections"][regular]
        return float(hidden.loc[hidden["fl_active"], "finding"].eq("true_positive").mean())

    assert regular_detection("poor_detection") < 0.7 * regular_detection(BASELINE)


def test_concentrated_planning_inspects_few_sectors(worlds: dict) -> None:
    knobs = _knobs(worlds, "concentrated_planning")
    campaigns = _truth(worlds, "concentrated_planning")["campaigns"]
    assert set(campaigns["campaign"]) == set(knobs["campaign_pool"])
    assert campaigns.groupby("year").size().eq(len(knobs["campaign_pool"])).all()

    scope = [c for c in spec.CAMPAIGNS if c.name in knobs["campaign_pool"]]

    def planned_in_pool_scope(name: str) -> float:
        world = worlds[name][0]
        planned = world.inspections.loc[world.inspections["origin"].eq("planned"), "workplace_id"]
        wp = world.truth["workplaces"].set_index("workplace_id").reindex(planned).dropna(
            subset=["sector_group"])
        hit = np.zeros(len(wp), dtype=bool)
        for c in scope:
            hit |= (wp["sector_group"].isin(c.groups) & wp["department_code"].isin(
                c.departments)).to_numpy()
        return float(hit.mean())

    assert planned_in_pool_scope("concentrated_planning") > planned_in_pool_scope(BASELINE) + 0.2


def test_short_history_spans_about_three_years(worlds: dict) -> None:
    months = _knobs(worlds, "short_history")["history_months"]
    ordered = pd.to_datetime(worlds["short_history"][0].inspections["ordered_on"])
    span = (ordered.max() - ordered.min()).days / 30.44
    assert 33 <= months <= 39 and months - 2 <= span <= months + 1
    risk_columns = pd.to_datetime(_truth(worlds, "short_history")["latent_risk"].columns[1:])
    assert risk_columns.min() <= ordered.min()


def test_low_prevalence_has_far_fewer_cases(worlds: dict) -> None:
    for day in ("2020-01-01", "2023-01-01", "2026-01-01"):
        low = _prevalence(_truth(worlds, "low_prevalence"), day)
        assert low < 0.55 * _prevalence(_truth(worlds, BASELINE), day), day
    risk = {n: latent_risk(_truth(worlds, n), "2023-01-01").mean()
            for n in (BASELINE, "low_prevalence")}
    assert risk["low_prevalence"] < 0.5 * risk[BASELINE]


def test_cli_writes_a_scenario_and_refuses_an_unknown_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w"
    argv = ["demo-data", "--out", str(out), "--workplaces", "300", "--seed", "2"]
    assert main([*argv, "--scenario", "short_history"]) == 0
    record = json.loads((out / "truth" / "scenario.json").read_text(encoding="utf-8"))
    assert record["scenario"] == "short_history" and record["seed"] == 2
    capsys.readouterr()
    assert main([*argv, "--scenario", "tsunami"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"vigia: unknown scenario 'tsunami'; known: {', '.join(SCENARIO_NAMES)}"]
    with pytest.raises(UnknownScenarioError):
        generate_world(10, 1, START, END, defect_share=DEFECT_SHARE, scenario="tsunami")

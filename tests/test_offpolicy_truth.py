"""True values for the off-policy estimates and the fairness audit, from a demo world's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import DEFECT_SHARE

from demo_world.generate import generate_world
from demo_world.writing import write_world
from evaluation.offpolicy_truth import (
    estimates_against_truth,
    fairness_against_truth,
    finding_rates,
    finding_rates_by_team,
    true_values,
)
from evaluation.truth import TRUTH_FILES, forced_labour_active, load_truth, truth_dir
from settings.loader import load_config

AS_OF = pd.Timestamp("2025-01-01")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("world")
    write_world(generate_world(2000, 3, "2018-07-01", "2026-06-30",
                               defect_share=DEFECT_SHARE), folder)
    return folder, load_truth(truth_dir(folder))


def test_the_demo_world_writes_every_truth_file_evaluation_reads(world) -> None:
    """The generator names its hidden folder itself; evaluation must find it and its files."""
    folder, truth = world
    assert all((truth_dir(folder) / file.name).is_file() for file in TRUTH_FILES)
    assert {file.key for file in TRUTH_FILES} <= set(truth)


def test_true_rates_per_team_split_the_window_inspections(world) -> None:
    folder, truth = world
    ids = truth["inspections"]["inspection_id"]
    teams = pd.Series(np.where(np.arange(len(ids)) % 2, "specialized", "regular"), index=ids)
    by_team = finding_rates_by_team(truth, teams, AS_OF, 6)
    pooled = finding_rates(truth, AS_OF, 6)
    assert set(by_team) == {"regular", "specialized"}
    assert sum(r.inspections_of_active for r in by_team.values()) == pooled.inspections_of_active
    assert min(r.detection for r in by_team.values()) <= pooled.detection <= max(
        r.detection for r in by_team.values())
    only_regular = finding_rates_by_team(truth, teams.map(lambda _: "regular"), AS_OF, 6)
    assert only_regular == {"regular": pooled}


def test_true_rates_follow_the_spells_and_the_detection(world) -> None:
    _, truth = world
    rates = finding_rates(truth, AS_OF, 6)
    assert 0.0 < rates.detection <= 1.0 and rates.false_conclusion < rates.detection
    active = forced_labour_active(truth, AS_OF, 6)
    cases, others = active.index[active], active.index[~active]
    departments = truth["workplaces"].set_index("workplace_id")["department_code"]
    values = true_values(truth, AS_OF, 6, cases[:10], departments)
    assert values["list_active_share"] == 1.0
    assert values["list_precision"] == pytest.approx(rates.detection)
    assert true_values(truth, AS_OF, 6, others[:10], departments)["list_precision"] == (
        pytest.approx(rates.false_conclusion))


def test_estimates_and_audit_against_the_truth(world) -> None:
    folder, truth = world
    estimates = {"as_of": "2025-01-01", "label_window_months": 6, "prevalence_by_department": {
        "15": {"estimate": 0.01, "low": 0.0, "high": 1.0}, "16": {"estimate": 0.5, "low": 0.4,
                                                                  "high": 0.6}}}
    table = estimates_against_truth(truth, estimates).set_index("department")
    assert table.loc["15", "covered"] and not table.loc["16", "covered"]
    registry = pd.read_csv(folder / "workplaces.csv", dtype=str).drop_duplicates("workplace_id")
    # Two visits of the delivered lists: one of two establishments, one of a single one.
    ids = registry["workplace_id"].sample(3, random_state=0).tolist()
    delivered = pd.DataFrame({"establishments": [f"{ids[0]};{ids[1]}", ids[2]]})
    audit = fairness_against_truth(truth, registry, delivered, AS_OF, load_config().fairness)
    assert audit.groupby("attribute")["n_listed"].sum().eq(3).all()
    assert audit["n_labelled"].groupby(audit["attribute"]).sum().eq(len(registry)).all()

"""Target lists: capacity per office, exclusions, visits, exploration draw, expected yield."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from support import AS_OF, DISTRICTS, lists_settings, synthetic_world

from features.labels import known_cases
from models.targeting.lists import (
    CONTEXT_COLUMNS,
    EXPLORATION,
    FOLLOW_UP,
    MODEL,
    NEW,
    ListRequest,
    WorkplaceRegistry,
    build_target_lists,
    expected_yield,
    exploration_sentence,
    inclusion_probabilities,
    one_in,
    poisson_binomial_pmf,
    systematic_sample,
    with_case,
    with_context,
    yield_by_office,
)
from settings.loader import load_config


def test_each_office_lists_its_capacity_and_no_workplace_twice(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)
    out = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)
    counts = out.groupby("office").size()
    assert counts["GEIT-TFI"] == 5
    assert all(counts[code] == 10 for code in DISTRICTS)
    assert out["workplace_id"].is_unique
    # the national team took the five highest scores of the country
    top5 = scores.nlargest(5, "score")["workplace_id"]
    assert set(out.loc[out["office"] == "GEIT-TFI", "workplace_id"]) == set(top5)
    lima = out[out["office"] == "ILM"]
    assert (lima["ubigeo"].str[:4] == "1501").all() and lima["rank"].tolist() == list(range(1, 11))
    assert (out.loc[out["office"] == "07", "department"] == "CALLAO").all()


def test_recently_inspected_workplaces_are_left_off(districts):
    scores, workplaces, _ = synthetic_world()
    best = scores.nlargest(3, "score")["workplace_id"].tolist()
    last = pd.Series(pd.to_datetime(["2026-05-01", "2026-04-15", "2025-10-01"]), index=best)
    registry = WorkplaceRegistry(workplaces, districts, last)
    out = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)
    listed = set(out["workplace_id"])
    assert best[0] not in listed and best[1] not in listed  # inspected 2-3 months ago
    assert best[2] in listed  # nine months ago: eligible again
    longer = build_target_lists(scores, registry,
                                lists_settings(exclude_inspected_months=12), AS_OF, seed=1)
    assert best[2] not in set(longer["workplace_id"])


def test_exploration_share_probabilities_and_seed_reproducibility(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)
    first = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=11)
    again = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=11)
    other = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=12)
    pd.testing.assert_frame_equal(first, again)
    assert not first["workplace_id"].equals(other["workplace_id"])
    regional = first[first["office"] != "GEIT-TFI"]
    assert (regional.groupby("office")["selection"].apply(lambda s: (s == EXPLORATION).sum())
            == 2).all()  # 20% of 10
    explored = first[first["selection"] == EXPLORATION]
    assert ((explored["selection_probability"] > 0) & (explored["selection_probability"] < 1)).all()
    assert (first.loc[first["selection"] == MODEL, "selection_probability"] == 1.0).all()
    # exploration never repeats a model pick and draws below the office's model cut
    for _, office in regional.groupby("office"):
        cut = office.loc[office["selection"] == MODEL, "score"].min()
        assert (office.loc[office["selection"] == EXPLORATION, "score"] <= cut).all()


def test_inclusion_probabilities_are_exact_for_the_systematic_draw():
    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.beta(1, 20, 29), [5.0]])  # one huge score gets certainty
    pi = inclusion_probabilities(scores, n=4, uniform_weight=0.5)
    assert pi.sum() == pytest.approx(4) and pi[-1] == 1.0
    assert pi[:-1].min() >= 4 * 0.5 / 30 - 1e-12  # the known minimum chance
    draws = 6000
    hits = np.zeros(len(pi))
    for seed in range(draws):
        drawn = systematic_sample(pi, np.random.default_rng(seed))
        assert len(drawn) == 4
        hits[drawn] += 1
    np.testing.assert_allclose(hits / draws, pi, atol=4 * np.sqrt(0.25 / draws))


def test_establishments_of_one_ruc_in_one_district_are_one_visit(districts):
    scores, workplaces, last = synthetic_world()
    best = scores["score"].idxmax()
    sibling = workplaces.loc[[best]].assign(workplace_id=lambda f: f["ruc"] + "-0001")
    workplaces = pd.concat([workplaces, sibling], ignore_index=True)
    scores = pd.concat([scores, pd.DataFrame({"workplace_id": sibling["workplace_id"],
                                              "score": [0.01], "calibrated_probability": [0.2]})],
                       ignore_index=True)
    registry = WorkplaceRegistry(workplaces, districts, last)
    out = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)
    visit = out[out["workplace_id"] == workplaces.loc[best, "workplace_id"]].iloc[0]
    assert visit["n_establishments"] == 2
    assert visit["establishments"].split(";")[1] == sibling["workplace_id"].iat[0]
    p = scores.loc[best, "calibrated_probability"]
    assert visit["probability"] == pytest.approx(1 - (1 - p) * (1 - 0.2))
    assert sibling["workplace_id"].iat[0] not in set(out["workplace_id"])
    separate = build_target_lists(scores, registry,
                                  lists_settings(group_same_ruc_district=False), AS_OF, seed=1)
    assert (separate["n_establishments"] == 1).all()


def test_planner_override_builds_one_office_with_its_capacity(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)
    out = build_target_lists(scores, registry, lists_settings(), AS_OF,
                             ListRequest("16", 40), seed=1)
    assert set(out["office"]) == {"16"} and len(out) == 40
    assert (out["selection"] == EXPLORATION).sum() == 8
    short = build_target_lists(scores, registry, lists_settings(), AS_OF,
                               ListRequest("17", 200), seed=1)
    assert len(short) == 80  # fewer eligible than capacity: everyone, nobody twice
    with pytest.raises(ValueError, match="needs the office"):
        build_target_lists(scores, registry, lists_settings(), AS_OF, ListRequest(capacity=40),
                           seed=1)


def test_poisson_binomial_yield_and_random_comparison():
    pmf = poisson_binomial_pmf(np.full(30, 0.1))
    np.testing.assert_allclose(pmf, binom.pmf(np.arange(31), 30, 0.1), atol=1e-12)
    result = expected_yield(np.full(30, 0.1), random_mean_probability=0.02, confidence=0.9)
    assert result["expected_findings"] == pytest.approx(3.0)
    assert (result["low"], result["high"]) == (binom.ppf(0.05, 30, 0.1), binom.ppf(0.95, 30, 0.1))
    assert result["random_list_expected_findings"] == pytest.approx(0.6)


def test_yield_by_office_totals_the_lists(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)
    out = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)
    table = yield_by_office(out, 0.9)
    assert table.loc["TOTAL", "visits"] == len(out)
    assert table.loc["TOTAL", "expected_findings"] == pytest.approx(out["probability"].sum())
    assert (table["expected_findings"] > table["random_list_expected_findings"]).all()


def test_the_demo_configuration_covers_every_department_and_lima_metropolitana():
    settings = load_config().lists
    offices = settings.offices
    assert set(offices) == {f"{d:02d}" for d in range(1, 26)} | {"ILM"}
    capacities = {code: office.capacity for code, office in offices.items()}
    assert min(capacities.values()) >= 10 and max(capacities, key=capacities.get) == "ILM"
    assert settings.specialized_team.code == "GEIT-TFI"
    assert 0 < settings.exploration_share < 1 and settings.exclude_inspected_months == 6


def test_exploration_rows_say_first_why_they_are_there_with_a_one_in_n_chance(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)

    def reasons_for(ids: pd.Index) -> pd.DataFrame:
        return pd.DataFrame({"reason_1": "a", "reason_2": "b", "reason_3": "c"}, index=ids)

    out = build_target_lists(scores, registry, lists_settings(), AS_OF,
                             seed=1, reasons_for=reasons_for)
    explored = out[out["selection"] == EXPLORATION]
    assert len(explored) == 10
    for row in explored.itertuples():
        assert row.reason_1 == exploration_sentence(row.selection_probability)
        assert f"probabilidad {one_in(row.selection_probability)}:" in row.reason_1
        assert "no reemplazarse" in row.reason_1
        assert (row.reason_2, row.reason_3) == ("a", "b")
    assert (out.loc[out["selection"] == MODEL, "reason_1"] == "a").all()
    assert one_in(0.027) == "1 en 37" and one_in(1.0) == "1 en 1" and one_in(0.0004) == "1 en 2.500"


def test_context_columns_come_from_what_was_known_before_the_planning_date():
    _, workplaces, _ = synthetic_world()
    ids = workplaces["workplace_id"]
    workplaces = workplaces.assign(contractor_of=[pd.NA] * (len(ids) - 1) + ["20999999999"])
    inspections = pd.DataFrame({
        "inspection_id": ["i1", "i2", "i3", "i4"],
        "workplace_id": [ids[0], ids[0], ids[1], ids[2]],
        "ordered_on": pd.to_datetime(["2024-01-10", "2025-03-01", "2025-06-01", "2026-08-01"]),
        "closed_on": pd.to_datetime(["2024-03-01", "2026-09-01", "2025-07-01", pd.NaT]),
        "forced_labour_found": [True, True, False, False],
        "infraction_found": [True, True, True, False],
    })
    listed = workplaces.iloc[[0, 1, 2, len(ids) - 1]].assign(
        n_establishments=1, selection_probability=[1.0, 1.0, 0.1, 0.5])
    out = with_context(listed, workplaces, inspections, AS_OF).set_index("workplace_id")
    # the last order before the date was still open then: its forced-labour finding is unknown
    assert tuple(out.loc[ids[0], ["last_inspection_on", "last_inspection_result"]]) == (
        "2025-03-01", "en curso")
    assert out.loc[ids[1], "last_inspection_result"] == "con infracción"
    assert out.loc[ids[2], "last_inspection_result"] == "nunca inspeccionado"  # ordered later
    assert out.loc[ids[len(ids) - 1], "principal_ruc"] == "20999999999"
    assert out["chance"].tolist() == ["1 en 1", "1 en 1", "1 en 10", "1 en 2"]
    assert set(CONTEXT_COLUMNS) <= set(out.columns)
    assert (out["activity"] != "").all() and not out["activity"].str.contains(r"\d").any()


def test_visits_to_documented_cases_are_follow_up_and_their_yield_is_apart(districts):
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, districts, last)
    out = build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)
    first_establishment = out["establishments"].str.split(";").str[-1]
    documented = pd.Index(first_establishment.iloc[::3])  # every third visit: a known case
    marked = with_case(out, documented)
    assert list(marked.columns).index("case") == list(marked.columns).index("selection") + 1
    assert (marked["case"] == FOLLOW_UP).sum() == len(documented)
    assert set(marked.loc[~first_establishment.isin(documented), "case"]) == {NEW}
    table = yield_by_office(marked, 0.9)
    total = table.loc["TOTAL"]
    assert total["new_visits"] + total["follow_up_visits"] == total["visits"] == len(out)
    new = marked["case"] == NEW
    assert total["new_expected_findings"] == pytest.approx(out.loc[new, "probability"].sum())
    assert total["new_low"] <= total["new_expected_findings"] <= total["new_high"]
    assert "new_visits" not in yield_by_office(out, 0.9)  # an unmarked list has no split


def test_a_known_case_is_one_whose_finding_closed_before_the_date():
    inspections = pd.DataFrame({
        "workplace_id": ["A", "B", "C", "D"],
        "closed_on": pd.to_datetime(["2024-01-10", "2024-03-01", "2024-01-10", None]),
        "forced_labour_found": [True, True, False, True],
    })
    cases = known_cases(inspections, pd.Timestamp("2024-03-01"), "forced_labour_found", 2)
    assert list(cases) == ["A"]  # B closed on the date, C found nothing, D still open

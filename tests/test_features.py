"""Feature building: catalog coverage, time semantics on hand-made facts, context and area rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import PRIOR
from worlds import make_clean_tables

from features.build import (
    build_features,
    district_context,
    features_as_of,
    prepare_feature_inputs,
)
from features.catalog import FEATURE_CATALOG
from features.catalog_doc import FEATURES_DOC, render_features_doc

AS_OF = pd.Timestamp("2022-01-01")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return make_clean_tables(300, seed=11)


def test_every_column_has_a_catalog_entry_and_vice_versa(tables, districts) -> None:
    features = build_features(tables, districts, AS_OF, area_prior_strength=PRIOR)
    assert list(features.columns) == list(FEATURE_CATALOG)
    assert features.index.name == "workplace_id"
    assert features.index.equals(pd.Index(tables["workplaces"]["workplace_id"]))
    categorical = {n for n, s in FEATURE_CATALOG.items() if s.kind == "categorical"}
    assert {c for c in features.columns if features[c].dtype == "category"} == categorical
    numeric = features.drop(columns=sorted(categorical))
    assert all(np.issubdtype(dtype, np.floating) for dtype in numeric.dtypes)


def test_committed_features_doc_matches_the_catalog() -> None:
    assert FEATURES_DOC.read_text(encoding="utf-8") == render_features_doc()


def test_catalog_reasons_format_and_complaint_flags() -> None:
    for spec in FEATURE_CATALOG.values():
        value = "07" if spec.kind == "categorical" else 3.0
        assert spec.reason_es.format(value=value)
        assert spec.complaint_derived == (spec.source == "complaints")
    assert "3 hallazgos de retención de documentos en los últimos 3 años" == FEATURE_CATALOG[
        "fl_documents_3y"
    ].reason_es.format(value=3.0)


def _tiny_tables() -> dict[str, pd.DataFrame]:
    """Two RUCs: a principal with two establishments and a subcontractor of it."""
    workplaces = pd.DataFrame({
        "workplace_id": ["20100070970-0000", "20100070970-0001", "10000000001-0000"],
        "ruc": ["20100070970", "20100070970", "10000000001"],
        "ciiu": ["0729", "0729", "0220"],
        "ubigeo": ["170101", "170101", "250101"],
        "size_band": ["grande", "grande", "micro"],
        "declared_workers": np.array([100, 50, 3], dtype="int64"),
        "activity_start": pd.to_datetime(["2010-01-01", "2015-06-01", "2023-01-01"]),
        "labour_regime": ["general", "general", "micro"],
        "contractor_of": pd.array([None, None, "20100070970"], dtype="str"),
    })
    inspections = pd.DataFrame({
        "inspection_id": ["a", "b", "c", "d"],
        "workplace_id": ["20100070970-0000", "20100070970-0000", "20100070970-0001",
                         "20100070970-0000"],
        "ordered_on": pd.to_datetime(["2019-03-01", "2021-05-01", "2021-11-01", "2022-03-01"]),
        "closed_on": pd.to_datetime(["2019-06-01", "2021-08-01", "2022-02-01", "2022-04-01"]),
        "origin": ["complaint", "planned", "complaint", "complaint"],
        "team": ["regular", "specialized", "specialized", "regular"],
        "subjects": ["wages", "forced_labour", "forced_labour", ""],
        "workers_covered": np.array([10, 20, 5, 1], dtype="int64"),
        "infraction_found": [True, True, True, True],
        "fl_indicators": ["", "retention_of_documents;debt_bondage", "deception", "isolation"],
        "forced_labour_found": [False, True, True, True],
        "child_labour_found": [False, False, False, False],
        "victims_identified": np.array([0, 4, 2, 1], dtype="int64"),
        "fine_uit": [1.5, 50.0, 20.0, 3.0],
    })
    complaints = pd.DataFrame({
        "complaint_id": ["k1", "k2"],
        "workplace_id": ["10000000001-0000", "10000000001-0000"],
        "received_on": pd.to_datetime(["2021-12-01", "2022-01-01"]),
        "channel": ["phone", "web"],
        "topics": ["debt;confinement", "unpaid_wages"],
        "anonymous": [True, False],
    })
    return {"workplaces": workplaces, "inspections": inspections, "complaints": complaints}


def test_hand_made_history_counts_follow_the_time_rules(districts) -> None:
    f = build_features(_tiny_tables(), districts, AS_OF, area_prior_strength=PRIOR)
    main, second, sub = f.index
    assert f.loc[main, "inspections_all"] == 2  # d is ordered after t
    assert f.loc[main, "inspections_1y"] == 1  # b (2021-05-01) yes, a (2019-03-01) no
    assert f.loc[main, "inspections_3y"] == 2
    assert f.loc[main, "fl_documents_all"] == 1 and f.loc[main, "fl_debt_all"] == 1
    assert f.loc[main, "fl_indicators_all"] == 2
    assert f.loc[main, "fines_uit_all"] == pytest.approx(51.5)
    assert f.loc[second, "inspections_all"] == 1
    assert f.loc[second, "forced_labour_found_all"] == 0  # c closes 2022-02-01, after t
    assert f.loc[second, "inspections_specialized_1y"] == 1
    assert f.loc[second, "same_ruc_fl_findings"] == 1  # b at the other establishment
    assert f.loc[main, "same_ruc_fl_findings"] == 0  # its own finding is not "other"
    assert f.loc[sub, "principal_fl_findings"] == 1
    assert f.loc[sub, "is_subcontractor"] == 1 and f.loc[main, "is_subcontractor"] == 0
    assert f.loc[sub, "complaints_all"] == 1  # k2 arrives on t itself: not before t
    assert f.loc[sub, "complaints_wages_debt_all"] == 1
    assert f.loc[sub, "complaints_coercion_all"] == 1
    assert f.loc[sub, "days_since_last_complaint"] == 31
    assert np.isnan(f.loc[sub, "days_since_last_inspection"])
    assert f.loc[main, "days_since_last_inspection"] == (AS_OF - pd.Timestamp("2021-05-01")).days
    assert f.loc[sub, "age_years"] == 0  # activities start after t
    assert f.loc[sub, "natural_person"] == 1 and f.loc[main, "establishments_same_ruc"] == 2
    assert f.loc[main, "sector_risk_group"] == 2
    assert f.loc[sub, "km_to_department_capital"] == pytest.approx(0.0)
    assert f.loc[main, "km_to_lima"] > 500  # Puerto Maldonado is far from Lima


def test_area_rates_leave_the_workplace_out(districts) -> None:
    tables = _tiny_tables()
    f = build_features(tables, districts, AS_OF, area_prior_strength=1.0)
    main, second, _ = f.index
    # main's own two known inspections (one forced labour) are excluded: in its district nobody
    # else has a known outcome, so its rate equals its province's, which equals the department's
    assert f.loc[main, "area_fl_rate_district"] == pytest.approx(
        f.loc[main, "area_fl_rate_province"]
    )
    # second sees main's 1 finding in 2 inspections, shrunk toward a parent built the same way
    assert f.loc[second, "area_fl_rate_district"] > f.loc[main, "area_fl_rate_district"]
    tables["inspections"].loc[1, "forced_labour_found"] = False
    changed = build_features(tables, districts, AS_OF, area_prior_strength=1.0)
    assert changed.loc[main, "area_fl_rate_district"] == f.loc[main, "area_fl_rate_district"]
    assert changed.loc[second, "area_fl_rate_district"] < f.loc[second, "area_fl_rate_district"]


def test_district_context_imputes_missing_values_from_the_province(districts) -> None:
    raw = district_context(districts)
    missing = raw.index[raw["district_poverty_pct"].isna()]
    assert len(missing) > 0
    code = missing[0]
    tables = _tiny_tables()
    tables["workplaces"].loc[0, "ubigeo"] = code
    f = build_features(tables, districts, AS_OF, area_prior_strength=PRIOR)
    province = raw.loc[raw.index.str[:4] == code[:4], "district_poverty_pct"]
    expected = province.mean() if province.notna().any() else None
    value = f.iloc[0]["district_poverty_pct"]
    assert not np.isnan(value)
    if expected is not None:
        assert value == pytest.approx(expected)
    may_be_nan = ["days_since_last_inspection", "days_since_last_complaint"]
    assert not f.drop(columns=may_be_nan).select_dtypes("number").isna().any().any()


def test_features_for_some_workplaces_are_those_rows_of_every_workplace(tables, districts) -> None:
    """The training memo builds only the labelled rows: they must be the full frame's rows,
    area and company columns included (those still read every workplace)."""
    inputs = prepare_feature_inputs(tables, districts)
    every = features_as_of(inputs, AS_OF, PRIOR)
    rows = np.random.default_rng(0).choice(len(every), size=40, replace=False)
    rows.sort()
    pd.testing.assert_frame_equal(features_as_of(inputs, AS_OF, PRIOR, rows), every.iloc[rows],
                                  check_exact=True)
    assert features_as_of(inputs, AS_OF, PRIOR, rows[:0]).empty


def test_the_order_of_event_rows_does_not_change_any_feature(tables, districts) -> None:
    """Events are grouped by workplace before the sums, keeping each workplace's own order:
    shuffling the tables' rows may move a float sum's last bit, nothing more; the counts
    stay exact."""
    rng = np.random.default_rng(1)
    shuffled = {name: table.sample(frac=1.0, random_state=rng) if name != "workplaces"
                else table for name, table in tables.items()}
    before = build_features(tables, districts, AS_OF, area_prior_strength=PRIOR)
    after = build_features(shuffled, districts, AS_OF, area_prior_strength=PRIOR)
    pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-12)
    counts = [name for name in before if name.startswith(("inspections", "complaints"))]
    pd.testing.assert_frame_equal(after[counts], before[counts], check_exact=True)

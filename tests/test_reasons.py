"""Spanish reasons: rendering from the catalog, positive contributions only, privacy rule."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import SHIPPED, model_section, synthetic_features

from features.catalog import FEATURE_CATALOG
from models.explaining.explain import Explanation
from models.explaining.reasons import (
    is_complaint_based,
    reason_template,
    reasons_for_workplaces,
    reasons_frame,
    render_reason,
)
from settings.loader import ConfigError, with_overrides

COLUMNS = ["same_ruc_fl_findings", "district_poverty_pct", "is_subcontractor",
           "complaints_3y", "complaints_phone_1y", "days_since_last_complaint", "ciiu_division"]


def explanation_of(values: list[list[float]], data: list[list[object]]) -> Explanation:
    index = pd.Index([f"w{i}" for i in range(len(values))], name="workplace_id")
    return Explanation(
        values=pd.DataFrame(values, index=index, columns=COLUMNS), expected_value=-3.0,
        output="log_odds", data=pd.DataFrame(data, index=index, columns=COLUMNS),
    )


def test_top_three_positive_contributions_become_spanish_sentences_by_level():
    explanation = explanation_of(
        [[0.9, 0.5, 0.3, 0.0, 0.0, 0.0, 0.2]],
        [[3.0, 68.4, 1.0, 0.0, 0.0, np.nan, "07"]],
    )
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons).loc["w0"]
    # the activity is the list's own column: never repeated as a reason
    assert reasons.tolist() == [
        "3 hallazgos de trabajo forzoso en otros locales de la misma empresa",
        "subcontratista o intermediario de otra empresa",
        "distrito con 68% de pobreza",
    ]


def test_fewer_positive_contributions_give_fewer_reasons_and_zero_values_are_not_said():
    explanation = explanation_of(
        # is_subcontractor pushes up although the firm is NOT one: it must not be said
        [[-0.4, 0.5, 0.8, 0.0, 0.0, 0.0, -0.1]],
        [[0.0, 41.0, 0.0, 0.0, 0.0, np.nan, "07"]],
    )
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons).loc["w0"]
    assert reasons.tolist() == ["distrito con 41% de pobreza", "", ""]


def test_accents_and_enye_are_rendered_in_composed_form():
    spec = FEATURE_CATALOG["fl_indicators_3y"]
    sentence = render_reason(spec, 4.0, SHIPPED.reasons)
    assert sentence == "4 indicadores OIT de trabajo forzoso en los últimos 3 años"
    assert sentence == unicodedata.normalize("NFC", sentence) and "ñ" in sentence
    assert render_reason(FEATURE_CATALOG["ciiu_division"], "07", SHIPPED.reasons) is None
    assert render_reason(FEATURE_CATALOG["area_fl_rate_district"], 0.069, SHIPPED.reasons) == (
        render_reason(FEATURE_CATALOG["area_fl_rate_district"], 0.069, SHIPPED.reasons))


def explanation_from(rows: dict[str, dict[str, tuple[float, object]]]) -> Explanation:
    """Explanation from {workplace: {feature: (contribution, value)}}."""
    index = pd.Index(list(rows), name="workplace_id")
    features = sorted({f for row in rows.values() for f in row})
    values = pd.DataFrame([[row.get(f, (0.0, np.nan))[0] for f in features]
                           for row in rows.values()], index=index, columns=features)
    data = pd.DataFrame([[row.get(f, (0.0, np.nan))[1] for f in features]
                         for row in rows.values()], index=index, columns=features)
    return Explanation(values=values, expected_value=-3.0, output="log_odds", data=data)


def test_complaints_are_said_as_one_band_only_for_large_workplaces():
    complaint_row = {"complaints_1y": (0.9, 2.0), "complaints_phone_1y": (0.8, 1.0),
                     "days_since_last_complaint": (0.7, 12.0),
                     "complaints_coercion_1y": (0.6, 2.0), "complaints_3y": (0.5, 4.0)}
    explanation = explanation_from({
        "big": {**complaint_row, "declared_workers": (0.0, 80.0)},
        "small": {**complaint_row, "declared_workers": (0.0, 6.0)},
        "unknown": {**complaint_row, "declared_workers": (0.0, np.nan)},
        "many": {"complaints_3y": (0.9, 12.0), "complaints_phone_3y": (0.8, 6.0),
                 "days_since_last_complaint": (0.7, 3.0), "declared_workers": (0.0, 45.0)},
        "several": {"complaints_all": (0.9, 4.0), "declared_workers": (0.0, 20.0)},
    })
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons)
    # one complaint sentence, no number, no channel, topic or date
    assert reasons.loc["big"].tolist() == ["tiene denuncias recientes", "", ""]
    # below complaint_min_workers (or unknown size) no complaint is mentioned at all
    for small in ("small", "unknown"):
        assert reasons.loc[small, "reason_1"] == SHIPPED.reasons.fallback_es
    assert reasons.loc["many"].tolist() == ["tiene muchas denuncias en los últimos 3 años", "", ""]
    assert reasons.loc["several", "reason_1"] == "tiene varias denuncias en su historial"
    said = " ".join(reasons.to_numpy().ravel())
    assert not re.search(r"\d", said.replace("últimos 3 años", ""))
    assert "amenazas" not in said and "teléfono" not in said


def test_complaint_originated_inspections_fall_under_the_privacy_rule():
    settings = SHIPPED.reasons
    explanation = explanation_from({
        "small": {"inspections_complaint_1y": (0.9, 1.0), "declared_workers": (0.0, 4.0),
                  "district_poverty_pct": (0.2, 40.0)},
        "old": {"inspections_complaint_all": (0.9, 2.0), "declared_workers": (0.0, 300.0)},
        "many": {"inspections_complaint_3y": (0.9, 6.0), "complaints_3y": (0.8, 7.0),
                 "declared_workers": (0.0, 40.0)},
    })
    reasons = reasons_frame(explanation, FEATURE_CATALOG, settings)
    assert reasons.loc["small"].tolist() == ["distrito con 40% de pobreza", "", ""]
    # "recientes" only for the last year: an all-time count says "en su historial"
    assert reasons.loc["old", "reason_1"] == "tiene denuncias en su historial"
    assert reasons.loc["many"].tolist() == ["tiene varias denuncias en los últimos 3 años", "", ""]


# Every complaint-derived feature of the catalog, for the property test below.
COMPLAINT_FEATURES = sorted(name for name, spec in FEATURE_CATALOG.items()
                            if is_complaint_based(spec))


@settings(max_examples=200, deadline=None)
@given(workers=st.one_of(st.none(), st.integers(0, 19)),
       chosen=st.lists(st.sampled_from(COMPLAINT_FEATURES), min_size=1, max_size=6,
                       unique=True),
       counts=st.lists(st.integers(1, 500), min_size=6, max_size=6),
       others=st.lists(st.floats(0.0, 2.0), min_size=3, max_size=3))
def test_no_reason_on_a_small_workplace_mentions_a_complaint(workers, chosen, counts, others):
    row = {name: (1.0 + i, float(counts[i])) for i, name in enumerate(chosen)}
    row |= {"declared_workers": (others[0], np.nan if workers is None else float(workers)),
            "infractions_3y": (others[1], 1.0), "inspections_all": (0.0, 1.0),
            "district_poverty_pct": (others[2], 30.0)}
    reasons = reasons_frame(explanation_from({"w": row}), FEATURE_CATALOG, SHIPPED.reasons)
    said = " ".join(reasons.to_numpy().ravel()).lower()
    assert "denuncia" not in said and "queja" not in said


def test_workplace_evidence_comes_before_area_and_only_one_area_reason():
    explanation = explanation_from({"w": {
        "area_fl_rate_ciiu_department": (2.0, 0.069), "district_poverty_pct": (1.5, 70.0),
        "area_fl_rate_district": (1.2, 0.05), "infractions_3y": (0.3, 2.0),
        "infractions_all": (0.0, 3.0), "inspections_all": (0.0, 4.0),
        "days_since_last_inspection": (0.1, 200.0),
        "sector_risk_group": (0.4, 1.0), "ciiu_class": (-0.1, "1410"),
    }})
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons).loc["w"].tolist()
    assert reasons == [
        "4 inspecciones, la última hace 7 meses: 3 con infracción",
        "sector de riesgo medio de trabajo forzoso",
        "6,9% de las inspecciones en su actividad en el departamento hallaron trabajo forzoso",
    ]


def test_no_bare_codes_and_every_row_gets_a_reason():
    explanation = explanation_from({
        "coded": {"ciiu_class": (0.5, "1410"), "department_code": (0.4, "16"),
                  "labour_regime": (0.3, "other")},
        "unknown": {"ciiu_class": (0.5, "9999"), "is_subcontractor": (0.4, 0.0)},
    })
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons)
    assert reasons.loc["coded", "reason_1"] == SHIPPED.reasons.fallback_es
    assert reasons.loc["unknown", "reason_1"] == SHIPPED.reasons.fallback_es
    for sentence in reasons.to_numpy().ravel():
        assert not re.search(r"CIIU \d|código|grupo \d", sentence)


def test_none_privacy_rule_drops_complaint_reasons_and_unknown_modes_fail():
    explanation = explanation_of([[0.0, 0.2, 0.0, 0.9, 0.8, 0.7, 0.0]],
                                 [[0.0, 20.0, 0.0, 9.0, 6.0, 3.0, "01"]])
    none = SHIPPED.reasons.model_copy(update={"complaints": "none"})
    reasons = reasons_frame(explanation, FEATURE_CATALOG, none)
    assert reasons.loc["w0"].tolist() == ["distrito con 20% de pobreza", "", ""]
    with pytest.raises(ConfigError, match="reasons.complaints"):
        with_overrides(SHIPPED, {"reasons": {"complaints": "exact"}})


def test_reasons_for_listed_workplaces_from_a_fitted_pipeline():
    from models.training.candidates import build_candidates

    frame, label = synthetic_features(rows=500)
    grid = model_section({"hist_gradient_boosting": {"max_iter": [30]}})
    model = next(iter(build_candidates(grid, frame.dtypes, FEATURE_CATALOG).values()))
    model.fit(frame, label)
    listed = frame.index[:25]
    reasons = reasons_for_workplaces(model, frame, listed, FEATURE_CATALOG, SHIPPED.reasons,
                                     background_rows=300, seed=0)
    assert list(reasons.index) == list(listed)
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    assert (reasons["reason_1"] != "").mean() > 0.5
    said = " ".join(reasons.to_numpy().ravel())
    assert "infracciones en todo el historial" in said or "pobreza" in said


def test_one_inspection_is_told_once_with_its_age_and_result():
    explanation = explanation_from({
        "once": {"sector_risk_group": (0.9, 2.0), "ciiu_class": (0.8, "0220"),
                 "inspections_planned_all": (0.1, 1.0), "inspections_all": (0.1, 1.0),
                 "inspections_3y": (0.09, 1.0), "infractions_3y": (0.08, 1.0),
                 "infractions_all": (0.07, 1.0), "days_since_last_inspection": (0.05, 800.0)},
        "often": {"inspections_all": (0.3, 5.0), "forced_labour_found_1y": (0.9, 1.0),
                  "forced_labour_found_all": (0.1, 2.0), "fl_documents_all": (0.5, 1.0),
                  "infractions_all": (0.2, 3.0), "fines_uit_all": (0.1, 12.5),
                  "days_since_last_inspection": (0.2, 95.0)},
    })
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons)
    assert reasons.loc["once"].tolist() == [
        "1 inspección, hace 2 años: con infracción",
        "sector de riesgo alto de trabajo forzoso", "",
    ]
    # the most telling results first, at most three, one sentence for the whole history
    assert reasons.loc["often"].tolist() == [
        "5 inspecciones, la última hace 3 meses: 2 hallazgos de trabajo forzoso, "
        "1 hallazgo de retención de documentos, 3 con infracción", "", "",
    ]


def test_a_subcontractor_is_said_once_with_its_principals_findings():
    explanation = explanation_from({"w": {
        "principal_infractions": (0.6, 6.0), "is_subcontractor": (0.5, 1.0),
        "establishments_same_ruc": (0.2, 1.0),
    }})
    assert reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons).loc["w"].tolist() == [
        "subcontratista de una empresa con 6 infracciones",
        "empresa de un solo establecimiento", "",
    ]


def test_what_sets_a_workplace_apart_opens_its_reasons():
    both = {"principal_infractions": (1.0, 3.0), "inspections_all": (0.0, 2.0)}
    explanation = explanation_from({
        "w1": {**both, "same_ruc_fl_findings": (0.6, 2.0)},
        "w2": {**both, "same_ruc_fl_findings": (0.0, 0.0)},
    })
    reasons = reasons_frame(explanation, FEATURE_CATALOG, SHIPPED.reasons)
    # the principal pushes both alike; the sister sites' findings are what w1 has and w2 has not
    assert reasons.loc["w1", "reason_1"] == (
        "2 hallazgos de trabajo forzoso en otros locales de la misma empresa")
    assert reasons.loc["w2", "reason_1"] == "subcontratista de una empresa con 3 infracciones"


def test_first_reasons_stay_diverse_when_one_factor_pushes_every_listed_workplace():
    """The issue's target: no first-reason template on more than 15% of the rows."""
    others = ["fl_documents_all", "infractions_3y", "victims_all", "same_ruc_fl_findings",
              "principal_fl_findings", "complaints_3y", "fl_debt_all",
              "inspections_specialized_all", "co_contractor_fl_findings"]
    rows = {f"w{i}": {"district_poverty_pct": (1.0, 40.0), others[i % len(others)]: (0.5, 6.0),
                      "inspections_all": (0.0, 7.0), "declared_workers": (0.0, 50.0)}
            for i in range(45)}
    reasons = reasons_frame(explanation_from(rows), FEATURE_CATALOG, SHIPPED.reasons)
    share = reasons["reason_1"].map(reason_template).value_counts(normalize=True)
    assert share.iloc[0] <= 0.15, share.head(3)
    assert (reasons["reason_2"] == "distrito con 40% de pobreza").all()

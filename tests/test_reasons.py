"""Spanish reasons: rendering from the catalog, positive contributions only, privacy rule."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from test_explain import MODEL_CONFIG, synthetic_features

from features.catalog import FEATURE_CATALOG
from models.explain import Explanation
from models.reasons import reasons_for_workplaces, reasons_frame, reasons_settings, render_reason

COLUMNS = ["same_ruc_fl_findings", "district_poverty_pct", "is_subcontractor",
           "complaints_3y", "complaints_phone_1y", "days_since_last_complaint", "ciiu_division"]


def explanation_of(values: list[list[float]], data: list[list[object]]) -> Explanation:
    index = pd.Index([f"w{i}" for i in range(len(values))], name="workplace_id")
    return Explanation(
        values=pd.DataFrame(values, index=index, columns=COLUMNS), expected_value=-3.0,
        output="log_odds", data=pd.DataFrame(data, index=index, columns=COLUMNS),
    )


def test_top_three_positive_contributions_become_spanish_sentences():
    explanation = explanation_of(
        [[0.9, 0.5, 0.3, 0.0, 0.0, 0.0, 0.2]],
        [[3.0, 68.4, 1.0, 0.0, 0.0, np.nan, "07"]],
    )
    reasons = reasons_frame(explanation, FEATURE_CATALOG).loc["w0"]
    assert reasons.tolist() == [
        "3 hallazgos de trabajo forzoso en otros locales de la misma empresa",
        "distrito con 68% de pobreza",
        "subcontratista o intermediario de otra empresa",
    ]


def test_fewer_positive_contributions_give_fewer_reasons_and_zero_values_are_not_said():
    explanation = explanation_of(
        # is_subcontractor pushes up although the firm is NOT one: it must not be said
        [[-0.4, 0.5, 0.8, 0.0, 0.0, 0.0, -0.1]],
        [[0.0, 41.0, 0.0, 0.0, 0.0, np.nan, "07"]],
    )
    reasons = reasons_frame(explanation, FEATURE_CATALOG).loc["w0"]
    assert reasons.tolist() == ["distrito con 41% de pobreza", "", ""]


def test_accents_and_enye_are_rendered_in_composed_form():
    spec = FEATURE_CATALOG["fl_indicators_3y"]
    sentence = render_reason(spec, 4.0, reasons_settings(None))
    assert sentence == "4 indicadores OIT de trabajo forzoso en los últimos 3 años"
    assert sentence == unicodedata.normalize("NFC", sentence) and "ñ" in sentence
    assert render_reason(FEATURE_CATALOG["ciiu_division"], "07", reasons_settings(None)) == (
        "actividad económica de la división CIIU 07"
    )


def test_coarse_privacy_rule_hides_small_counts_dates_and_channels():
    settings = {"complaints": "coarse", "min_complaint_count": 5}
    explanation = explanation_of(
        [[0.0, 0.0, 0.0, 0.9, 0.8, 0.7, 0.0], [0.0, 0.0, 0.0, 0.9, 0.8, 0.7, 0.0]],
        [[0.0, 20.0, 0.0, 2.0, 1.0, 12.0, "01"], [0.0, 20.0, 0.0, 7.0, 6.0, 3.0, "01"]],
    )
    reasons = reasons_frame(explanation, FEATURE_CATALOG, settings)
    # two complaints: no number; the channel and the days since are never said; no duplicates
    assert reasons.loc["w0"].tolist() == ["tiene denuncias recientes", "", ""]
    # seven complaints reach the minimum; the channel (six by phone) and the days stay hidden
    assert reasons.loc["w1"].tolist() == [
        "7 denuncias en los últimos 3 años", "tiene denuncias recientes", "",
    ]


def test_none_privacy_rule_drops_complaint_reasons_and_unknown_modes_fail():
    explanation = explanation_of([[0.0, 0.2, 0.0, 0.9, 0.8, 0.7, 0.0]],
                                 [[0.0, 20.0, 0.0, 9.0, 6.0, 3.0, "01"]])
    reasons = reasons_frame(explanation, FEATURE_CATALOG, {"complaints": "none"})
    assert reasons.loc["w0"].tolist() == ["distrito con 20% de pobreza", "", ""]
    with pytest.raises(ValueError, match="reasons.complaints"):
        reasons_frame(explanation, FEATURE_CATALOG, {"complaints": "exact"})


def test_reasons_for_listed_workplaces_from_a_fitted_pipeline():
    from models.candidates import build_candidates

    frame, label = synthetic_features(rows=500)
    grid = {**MODEL_CONFIG, "families": {"hist_gradient_boosting": {"max_iter": [30]}}}
    model = next(iter(build_candidates(grid, frame.dtypes, FEATURE_CATALOG).values()))
    model.fit(frame, label)
    listed = frame.index[:25]
    reasons = reasons_for_workplaces(model, frame, listed, FEATURE_CATALOG)
    assert list(reasons.index) == list(listed)
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    assert (reasons["reason_1"] != "").mean() > 0.5
    said = " ".join(reasons.to_numpy().ravel())
    assert "infracciones en todo el historial" in said or "pobreza" in said

"""SHAP explanations: additivity per model family, raw feature names, global plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from support import EXPLAIN_ARGS, EXPLAIN_GRID, synthetic_features

from features.catalog import FEATURE_CATALOG
from models.explaining.explain import (
    explain,
    global_importance,
    model_raw_output,
    raw_feature_of_columns,
)
from models.training.candidates import build_candidates
from reporting.plots import beeswarm_figure, importance_bar_figure


@pytest.fixture(scope="module")
def fitted() -> tuple[dict, pd.DataFrame]:
    frame, label = synthetic_features()
    candidates = build_candidates(EXPLAIN_GRID, frame.dtypes, FEATURE_CATALOG)
    models = {name.split(":")[0]: model.fit(frame, label) for name, model in candidates.items()}
    return models, frame


@pytest.mark.parametrize("family, output", [
    ("logistic_regression", "log_odds"),
    ("hist_gradient_boosting", "log_odds"),
    ("random_forest", "probability"),
])
def test_shap_values_add_up_to_the_model_raw_output(fitted, family, output):
    models, frame = fitted
    rows = frame.iloc[:60]
    explanation = explain(models[family], rows, background=frame, **EXPLAIN_ARGS)
    assert explanation.output == output
    assert list(explanation.values.columns) == list(frame.columns)  # raw names, one-hot summed
    reproduced = explanation.values.sum(axis=1) + explanation.expected_value
    np.testing.assert_allclose(reproduced, model_raw_output(models[family], rows), atol=1e-6)
    if output == "log_odds":  # the raw output is really the model's log-odds
        probability = models[family].predict_proba(rows)[:, 1]
        np.testing.assert_allclose(1 / (1 + np.exp(-reproduced)), probability, atol=1e-6)


def test_one_hot_and_missing_indicator_columns_trace_back_to_their_raw_feature(fitted):
    models, _ = fitted
    mapping = raw_feature_of_columns(models["logistic_regression"][0])
    assert mapping["ciiu_division_07"] == "ciiu_division"
    assert mapping["missingindicator_district_poverty_pct"] == "district_poverty_pct"
    assert set(mapping.values()) == {"complaints_3y", "infractions_all", "district_poverty_pct",
                                     "is_subcontractor", "ciiu_division"}


def test_a_calibrated_model_is_explained_through_its_underlying_pipeline(fitted):
    models, frame = fitted
    frame_label = synthetic_features()[1]
    calibrated = CalibratedClassifierCV(FrozenEstimator(models["hist_gradient_boosting"]),
                                        method="sigmoid").fit(frame, frame_label)
    explanation = explain(calibrated, frame.iloc[:20], **EXPLAIN_ARGS)
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.expected_value,
                               models["hist_gradient_boosting"].decision_function(frame.iloc[:20]),
                               atol=1e-6)


def test_the_driving_feature_dominates_global_importance_and_plots_draw(fitted):
    models, frame = fitted
    explanation = explain(models["hist_gradient_boosting"], frame.iloc[:300], **EXPLAIN_ARGS)
    importance = global_importance(explanation)
    assert importance.index[0] in {"infractions_all", "district_poverty_pct", "ciiu_division"}
    assert importance["complaints_3y"] < importance["infractions_all"]  # complaints drive nothing
    labels = {name: FEATURE_CATALOG[name].label_es for name in frame.columns}
    bar = importance_bar_figure(explanation, labels, top=15)
    assert "Pobreza del distrito (%)" in [t.get_text() for t in bar.axes[0].get_yticklabels()]
    swarm = beeswarm_figure(explanation, labels, top=15)
    assert swarm.axes and len(swarm.axes[0].collections) >= len(frame.columns)

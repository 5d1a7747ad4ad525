"""SHAP explanations: additivity per model family, raw feature names, global plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from features.catalog import FEATURE_CATALOG
from models.candidates import build_candidates
from models.explain import (
    beeswarm_figure,
    explain,
    global_importance,
    importance_bar_figure,
    model_raw_output,
    raw_feature_of_columns,
)

MODEL_CONFIG = {
    "seed": 7,
    "families": {
        "logistic_regression": {"C": [0.5]},
        "hist_gradient_boosting": {"max_iter": [40], "max_leaf_nodes": [7]},
        "random_forest": {"n_estimators": [15], "max_depth": [5]},
    },
}


def synthetic_features(rows: int = 800, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A small raw feature frame with catalog names, NaNs, a categorical, and a driven label."""
    rng = np.random.default_rng(seed)
    index = pd.Index([f"20{i:09d}-0000" for i in range(rows)], name="workplace_id")
    frame = pd.DataFrame({
        "complaints_3y": rng.poisson(0.8, rows).astype(float),
        "infractions_all": rng.poisson(0.5, rows).astype(float),
        "district_poverty_pct": rng.uniform(2, 80, rows),
        "is_subcontractor": rng.integers(0, 2, rows).astype(float),
        "ciiu_division": pd.Categorical(rng.choice(["01", "07", "41", "56", "97"], rows)),
    }, index=index)
    frame.loc[frame.index[::9], "district_poverty_pct"] = np.nan
    logit = (-3 + 0.8 * frame["infractions_all"] + 0.6 * frame["is_subcontractor"]
             + 0.02 * frame["district_poverty_pct"].fillna(30)
             + (frame["ciiu_division"] == "07").astype(float))
    label = pd.Series((rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int), index=index)
    return frame, label


@pytest.fixture(scope="module")
def fitted() -> tuple[dict, pd.DataFrame]:
    frame, label = synthetic_features()
    candidates = build_candidates(MODEL_CONFIG, frame.dtypes, FEATURE_CATALOG)
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
    explanation = explain(models[family], rows, background=frame)
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
    explanation = explain(calibrated, frame.iloc[:20])
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.expected_value,
                               models["hist_gradient_boosting"].decision_function(frame.iloc[:20]),
                               atol=1e-6)


def test_the_driving_feature_dominates_global_importance_and_plots_draw(fitted):
    models, frame = fitted
    explanation = explain(models["hist_gradient_boosting"], frame.iloc[:300])
    importance = global_importance(explanation)
    assert importance.index[0] in {"infractions_all", "district_poverty_pct", "ciiu_division"}
    assert importance["complaints_3y"] < importance["infractions_all"]  # complaints drive nothing
    labels = {name: FEATURE_CATALOG[name].label_es for name in frame.columns}
    bar = importance_bar_figure(explanation, labels)
    assert "Pobreza del distrito (%)" in [t.get_text() for t in bar.axes[0].get_yticklabels()]
    swarm = beeswarm_figure(explanation, labels)
    assert swarm.axes and len(swarm.axes[0].collections) >= len(frame.columns)

"""Degenerate feature columns: found per training set, the grid built without them, SHAP intact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import EXPLAIN_ARGS, EXPLAIN_GRID, model_section, synthetic_features

from features.catalog import FEATURE_CATALOG
from models.explaining.explain import explain, model_raw_output
from models.training.candidates import build_grid
from models.training.degenerate import degenerate_columns, describe_dropped, drop_degenerate_columns


def with_degenerate_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """What a source without complaints and a one-department export give."""
    return frame.assign(
        complaints_1y=np.nan,                                   # all missing
        complaints_all=0.0,                                     # one value
        department_code=pd.Categorical(["15"] * len(frame)),    # one category
    )


def test_all_missing_constant_and_single_category_columns_are_found() -> None:
    frame, _ = synthetic_features(rows=50)
    dropped = degenerate_columns(with_degenerate_columns(frame))
    assert dropped == {"complaints_1y": "all missing", "complaints_all": "one value",
                       "department_code": "one category"}
    assert describe_dropped(dropped).startswith("complaints_1y (all missing), ")
    assert describe_dropped({}) == "none"


def test_a_column_with_one_value_and_missing_values_is_kept() -> None:
    """Missing or not is information (the linear model's missing indicator uses it)."""
    frame = pd.DataFrame({"x": [1.0, np.nan, 1.0]})
    assert degenerate_columns(frame) == {}


@pytest.mark.parametrize("family", ["logistic_regression", "hist_gradient_boosting",
                                    "random_forest"])
def test_models_fit_on_kept_columns_score_full_frames_and_shap_adds_up(family: str) -> None:
    frame, label = synthetic_features()
    full = with_degenerate_columns(frame)
    kept, dropped = drop_degenerate_columns(full)
    assert set(dropped) == {"complaints_1y", "complaints_all", "department_code"}
    grid = build_grid(model_section(EXPLAIN_GRID.families,
                                    baselines={"complaints_column": "complaints_all"}),
                      kept.dtypes, FEATURE_CATALOG)
    assert "baseline:most_recent_complaints" not in grid  # its column was dropped
    model = next(m for name, m in grid.items() if name.startswith(family)).fit(kept, label)
    # The scoring frame still has every column: the Pipeline selects the kept ones by name.
    np.testing.assert_allclose(model.predict_proba(full)[:, 1], model.predict_proba(kept)[:, 1])
    rows = full.iloc[:40]
    explanation = explain(model, rows, background=full, **EXPLAIN_ARGS)
    assert list(explanation.values.columns) == list(kept.columns)
    reproduced = explanation.values.sum(axis=1) + explanation.expected_value
    np.testing.assert_allclose(reproduced, model_raw_output(model, rows), atol=1e-6)

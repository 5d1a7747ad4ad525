"""Helpers shared by test modules: configuration sections for small grids, a raw feature frame.

Test modules import helpers from here (or use conftest.py fixtures), never from each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from config.schema import ModelConfig
from pipelines.config import load_config

SHIPPED = load_config()


def model_section(families: dict[str, dict[str, list[Any]]], seed: int = 7,
                  **sections: dict[str, Any]) -> ModelConfig:
    """The shipped `model:` section with only `families` as its grid (and `sections`, e.g.
    baselines, merged over the shipped ones)."""
    raw = SHIPPED.model.model_dump()
    for name, values in sections.items():
        raw[name] = {**raw[name], **values}
    return ModelConfig.model_validate({**raw, "families": families, "seed": seed})


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


EXPLAIN_GRID = model_section({
    "logistic_regression": {"C": [0.5]},
    "hist_gradient_boosting": {"max_iter": [40], "max_leaf_nodes": [7]},
    "random_forest": {"n_estimators": [15], "max_depth": [5]},
})
# `explain`'s sample arguments as a run passes them (background rows from config).
EXPLAIN_ARGS = {"background_rows": SHIPPED.explain.background_rows, "seed": 0}
# The shipped values the feature and label builders take (config `features:` and `labels:`).
PRIOR = SHIPPED.features.area_prior_strength
LABELS = {"kind": SHIPPED.labels.kind, "min_indicators": SHIPPED.labels.min_indicators}
TRAINING = {"label_kind": SHIPPED.labels.kind, "min_indicators": SHIPPED.labels.min_indicators,
            "area_prior_strength": PRIOR}

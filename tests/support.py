"""Helpers shared by test modules: config sections, small grids and frames, a tiny demo run.

Test modules import helpers from here (or use conftest.py fixtures), never from each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from demo_world.generate import generate_world
from demo_world.writing import write_world
from settings.loader import load_config
from settings.schema import ListsConfig, ModelConfig

SHIPPED = load_config()
DEFECT_SHARE = SHIPPED.demo_world.defect_share  # the shipped demo world's contract breakers


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


AS_OF = pd.Timestamp("2026-07-01")


# Lima Metropolitana, Lima Provincias (Huaral), Callao, Loreto (Iquitos), Madre de Dios
DISTRICTS = {"ILM": "150101", "15": "150601", "07": "070101", "16": "160101", "17": "170101"}


def lists_settings(**overrides) -> ListsConfig:
    settings = {
        **SHIPPED.lists.model_dump(exclude={"offices", "specialized_team"}),
        "exploration_share": 0.2, "exploration_uniform_weight": 0.5,
        "exclude_inspected_months": 6, "group_same_ruc_district": True,
        "specialized_team": {"code": "GEIT-TFI", "name_es": "GEIT-TFI", "capacity": 5},
        "offices": {code: {"name_es": f"Oficina {code}", "capacity": 10} for code in DISTRICTS},
    }
    settings.update(overrides)
    return ListsConfig.model_validate(settings)


def synthetic_world(per_office: int = 80, seed: int = 0):
    """Workplaces spread over five offices with scores, one RUC per workplace."""
    rng = np.random.default_rng(seed)
    ubigeos = np.repeat(list(DISTRICTS.values()), per_office)
    rows = len(ubigeos)
    rucs = [f"20{i:09d}" for i in range(rows)]
    workplaces = pd.DataFrame({
        "workplace_id": [f"{r}-0000" for r in rucs], "ruc": rucs, "ubigeo": ubigeos,
        "ciiu": rng.choice(["0729", "0220", "5510"], rows),
    })
    score = rng.beta(1, 15, rows)
    scores = pd.DataFrame({"workplace_id": workplaces["workplace_id"], "score": score,
                           "calibrated_probability": score / 2})
    return scores, workplaces, pd.Series(dtype="datetime64[ns]")


# The shipped grid with one small candidate per family: a user file's `model.families` is merged
# into the shipped one, so a family left out would keep its shipped, full-size candidates.
TINY_GRID = {
    "model": {"families": {
        "logistic_regression": {"C": [0.5]},
        "hist_gradient_boosting": {"max_iter": [30], "class_weight": [None]},
        "random_forest": {"n_estimators": [20], "max_depth": [4], "min_samples_leaf": [40]},
    }, "metrics": {"bootstrap_samples": 20}},
    "splits": {"test_splits": 2, "max_training_as_of_dates": 3},
    "promotion": {"bootstrap_samples": 50},
}


def tiny_run(root: Path) -> dict[str, str]:
    data = root / "data"
    write_world(generate_world(n_workplaces=1200, seed=11, start="2019-07-01", end="2026-06-30",
                               defect_share=DEFECT_SHARE),
                data)
    config = dict(TINY_GRID, mlflow={"tracking_uri": f"sqlite:///{root}/mlruns/mlflow.db",
                                     "artifact_location": str(root / "mlruns" / "artifacts")})
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return {"data_dir": str(data), "out_dir": str(root / "out"),
            "config_path": str(root / "config.yaml")}

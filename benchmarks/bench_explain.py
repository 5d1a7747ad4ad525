"""Time SHAP explanations of a HistGradientBoosting pipeline: the listed rows vs everyone.

Run: `.venv/bin/python -m benchmarks.bench_explain` (about a minute on 2 cores). The pipeline is
built by models/training/candidates.py with the configured HistGradientBoosting grid point
(max_iter 200, max_leaf_nodes 31) on a synthetic frame of 50,000 workplaces with catalog names.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from features.catalog import FEATURE_CATALOG
from models.explaining.explain import explain
from models.explaining.reasons import reasons_frame
from models.training.candidates import build_candidates
from settings.loader import load_config

WORKPLACES = 50_000
LISTED = 500


def synthetic_frame(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Twenty numeric catalog features and two categoricals, with a rare driven label."""
    rng = np.random.default_rng(seed)
    numeric = [name for name, spec in FEATURE_CATALOG.items() if spec.kind == "numeric"][:20]
    frame = pd.DataFrame(rng.poisson(0.5, (rows, len(numeric))).astype(float), columns=numeric,
                         index=pd.Index([f"20{i:09d}-0000" for i in range(rows)],
                                        name="workplace_id"))
    frame["ciiu_division"] = pd.Categorical(rng.choice(["01", "07", "41", "56", "97"], rows))
    frame["department_code"] = pd.Categorical(rng.choice([f"{d:02d}" for d in range(1, 26)], rows))
    logit = -5 + frame[numeric[:5]].sum(axis=1) * 0.4 + (frame["ciiu_division"] == "07") * 1.0
    label = pd.Series((rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int),
                      index=frame.index)
    return frame, label


def main() -> None:
    """Print fit time and explanation (and reasons) times for the listed rows and for all."""
    config = load_config()
    model_config = config.model.model_copy(update={"families": {
        "hist_gradient_boosting": config.model.families["hist_gradient_boosting"]}})
    frame, label = synthetic_frame(WORKPLACES)
    model = next(iter(build_candidates(model_config, frame.dtypes, FEATURE_CATALOG).values()))
    started = time.perf_counter()
    model.fit(frame, label)
    print(f"fit HistGradientBoosting on {WORKPLACES:,} rows: {time.perf_counter() - started:.1f} s")
    listed = frame.nlargest(LISTED, frame.columns[0]).index
    for name, rows in (("listed", frame.loc[listed]), ("all", frame)):
        started = time.perf_counter()
        explanation = explain(model, rows, background_rows=config.explain.background_rows,
                              seed=config.model.seed)
        explained = time.perf_counter() - started
        started = time.perf_counter()
        reasons_frame(explanation, FEATURE_CATALOG, config.reasons)
        print(f"{name:>6} ({len(rows):,} rows): SHAP {explained:.2f} s, "
              f"reasons {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()

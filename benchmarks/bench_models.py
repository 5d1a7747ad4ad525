"""Training time of the whole model grid over a split plan, on a synthetic frame of default size.

Default world: 50,000 workplaces x 8 training as-of dates, ~3.5% of rows labelled (only
labelled rows are fitted, so only they are generated for training), every catalog feature,
4 test splits each scored on all 50,000 workplaces with the metric table (bootstrap included).

    .venv/bin/python -m benchmarks.bench_models [--workplaces 50000] [--splits 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from features.catalog import FEATURE_CATALOG
from models.calibration import fit_calibrated
from models.candidates import build_grid
from models.metrics import score_table
from pipelines.config import lists_config, load_config, total_capacity

CATEGORY_CODES = {"ciiu_division": 80, "ciiu_class": 400, "labour_regime": 7,
                  "department_code": 25}


def synthetic_rows(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows with every catalog feature (+ department_code) and a rare outcome driven by a few."""
    columns: dict[str, np.ndarray] = {}
    for name, spec in FEATURE_CATALOG.items():
        if spec.kind == "categorical":
            codes = rng.integers(0, CATEGORY_CODES.get(name, 20), n)
            columns[name] = pd.array([f"{c:02d}" for c in codes], dtype="str")
        else:
            values = rng.poisson(0.3, n).astype(float)
            values[rng.random(n) < 0.05] = np.nan
            columns[name] = values
    codes = rng.integers(0, CATEGORY_CODES["department_code"], n)
    columns["department_code"] = pd.array([f"{c:02d}" for c in codes], dtype="str")
    frame = pd.DataFrame(columns)
    drivers = [c for c in ("fl_indicators_3y", "complaints_coercion_3y", "infractions_all")
               if c in frame]
    risk = -4.2 + sum(0.8 * frame[c].fillna(0).to_numpy() for c in drivers)
    outcome = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(float)
    return frame, outcome


def main(argv: list[str] | None = None) -> None:
    """Fit the configured grid (with calibration) per split and print timings per group."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workplaces", type=int, default=50_000)
    parser.add_argument("--splits", type=int, default=4)
    parser.add_argument("--labelled-share", type=float, default=0.035)
    args = parser.parse_args(argv)
    config = load_config()
    model_config = config["model"]
    dates_per_training = int(config["splits"]["training_as_of_dates"])
    rng = np.random.default_rng(model_config["seed"])
    labelled_per_date = int(args.workplaces * args.labelled_share)

    timings: dict[str, float] = {}
    started = time.perf_counter()
    for split in range(args.splits):
        # The labelled rows of all training dates at once: same distribution per date.
        X, y = synthetic_rows(labelled_per_date * dates_per_training, rng)
        row_as_of = np.repeat(
            [pd.Timestamp("2022-01-01") + pd.DateOffset(months=3 * (split + d))
             for d in range(dates_per_training)], labelled_per_date,
        )
        test_frame, test_outcome = synthetic_rows(args.workplaces, rng)
        test_frame.index = pd.Index([f"W{i:06d}" for i in range(args.workplaces)],
                                    name="workplace_id")
        test_labels = pd.Series(
            np.where(rng.random(args.workplaces) < args.labelled_share, test_outcome, np.nan),
            index=test_frame.index,
        )
        grid = build_grid(model_config, X.dtypes, FEATURE_CATALOG)
        for name, estimator in grid.items():
            tick = time.perf_counter()
            trained = fit_calibrated(
                estimator, X, y, row_as_of,
                calibration_as_of_dates=model_config["calibration"]["as_of_dates"],
                method=model_config["calibration"]["method"],
                min_positives=model_config["calibration"]["min_positives"],
            )
            scores = pd.Series(trained.model.predict_proba(test_frame)[:, 1],
                               index=test_frame.index)
            score_table(test_labels, scores, total_capacity(lists_config(config)),
                        n_bootstrap=model_config["metrics"]["bootstrap_samples"])
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - tick
        print(f"split {split + 1}/{args.splits}: {len(X)} labelled training rows, "
              f"{X.shape[1]} features, {time.perf_counter() - started:.1f} s so far", flush=True)
    total = time.perf_counter() - started
    for name, seconds in sorted(timings.items(), key=lambda item: -item[1]):
        print(f"{seconds:8.1f} s  {name}")
    print(f"TOTAL {total:.1f} s for {len(timings)} model groups x {args.splits} splits "
          f"({args.workplaces} workplaces, {dates_per_training} training as-of dates)")


if __name__ == "__main__":
    main()

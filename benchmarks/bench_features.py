"""Time feature building for one as-of date and for a full split plan at 50k and 500k workplaces.

Uses the seeded clean-table generator of the tests (the demo world's raw CSVs would first need
the quality gate). Run: `python -m benchmarks.bench_features [n_workplaces ...]`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from cleaning.contract import load_districts
from features.build import features_as_of, prepare_feature_inputs
from features.splits import split_plan
from settings.loader import load_config, with_overrides

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from worlds import make_clean_tables  # noqa: E402

START, END = "2018-07-01", "2026-06-30"
SPLITS = with_overrides(load_config(), {"splits": {
    "update_frequency_months": 3, "test_splits": 4, "max_training_as_of_dates": 8,
    "burn_in_months": 24, "outcome_lag_months": 0}}).splits
PRIOR = load_config().features.area_prior_strength


def bench(n_workplaces: int) -> dict[str, float]:
    """Seconds to prepare inputs, build one as-of date, and build every date of a split plan."""
    tables = make_clean_tables(n_workplaces, seed=1, start=START, end=END)
    districts = load_districts()
    plan = split_plan(SPLITS, pd.Timestamp(START), pd.Timestamp(END), 6)
    dates = sorted({t for s in plan for t in [*s.train_as_of_dates, s.test_as_of]})
    began = time.perf_counter()
    inputs = prepare_feature_inputs(tables, districts)
    prepared = time.perf_counter()
    features_as_of(inputs, plan[-1].test_as_of, PRIOR)
    one = time.perf_counter()
    for as_of in dates:
        features_as_of(inputs, as_of, PRIOR)
    done = time.perf_counter()
    return {
        "workplaces": n_workplaces,
        "inspections": len(tables["inspections"]),
        "complaints": len(tables["complaints"]),
        "prepare_s": prepared - began,
        "one_as_of_s": one - prepared,
        "one_as_of_total_s": one - began,
        "plan_dates": len(dates),
        "plan_s": (prepared - began) + (done - one),
    }


def main(sizes: list[int] | None = None) -> None:
    """Print one line of timings per world size."""
    for n in sizes or [50_000, 500_000]:
        result = bench(n)
        print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)

"""Training time of the whole model grid over the split plan: the real backtest on a demo world.

It runs exactly what `vigia run` runs between the quality gate and publishing (features, labels,
every candidate and baseline fitted, calibrated, scored and measured with bootstrap intervals on
every test split), on a freshly generated demo world, and reports the time per split and group.

    .venv/bin/python -m benchmarks.bench_models [--workplaces 50000]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from cleaning.contract import load_districts
from cleaning.ingest import load_raw_tables
from cleaning.validation import validate_tables
from demo_world.generate import generate_world
from demo_world.writing import write_world
from features.catalog import FEATURE_CATALOG
from features.splits import fit_split_plan
from features.training_set import newest_record_date, oldest_record_date, tables_known_before
from models.training.backtest import run_backtest
from models.training.candidates import build_grid
from settings.loader import load_config
from settings.schema import VigiaConfig


def clean_demo_tables(n_workplaces: int, config: VigiaConfig) -> dict[str, pd.DataFrame]:
    """A generated demo world through the loader and the contract rules (without GX docs)."""
    world_cfg = config.demo_world
    world = generate_world(n_workplaces, world_cfg.seed, world_cfg.start, world_cfg.end,
                           world_cfg.defect_share)
    with tempfile.TemporaryDirectory() as folder:
        write_world(world, Path(folder))
        raw = load_raw_tables(Path(folder))
    outcome = validate_tables({t: r.frame for t, r in raw.items()},
                              wrong_type_stop_share=config.quality.max_wrong_type_share,
                              known_ubigeos=load_districts()["inei"],
                              reference_date=date.today())
    return outcome.clean


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workplaces", type=int, default=50_000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = load_config()
    tables = clean_demo_tables(args.workplaces, config)
    planning_date = (newest_record_date(tables) + pd.Timedelta(days=1)).normalize()
    tables = tables_known_before(tables, planning_date)
    plan = fit_split_plan(config.splits, oldest_record_date(tables),
                          planning_date - pd.Timedelta(days=1),
                          label_timespan_months=config.labels.label_timespan_months).splits
    started = time.perf_counter()
    result = run_backtest(tables, load_districts(), plan,
                          lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG),
                          config.training(), config.lists.total_capacity,
                          config.promotion.metric)
    total = time.perf_counter() - started
    groups = result.metrics["model_group"].nunique()
    print(f"history from {oldest_record_date(tables).date()}, planning date "
          f"{planning_date.date()}, capacity {config.lists.total_capacity}")
    print(f"TOTAL {total:.1f} s for {groups} model groups x {len(plan)} splits "
          f"({args.workplaces} workplaces; features, fits, calibration, bootstrap metrics)")


if __name__ == "__main__":
    main()

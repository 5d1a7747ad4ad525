"""The main Prefect flow: it reads like the table of contents of a planning run.

Each task is a thin wrapper over plain functions in `features/` and `models/`; I/O, MLflow and
reports stay at the edges in `pipelines/`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from features.contract import load_districts
from pipelines.config import load_config


def newest_record_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The newest date any fact in the clean tables carries."""
    candidates = [
        tables["inspections"]["ordered_on"].max(),
        tables["inspections"]["closed_on"].max(),
        tables["complaints"]["received_on"].max(),
    ]
    return max(pd.Timestamp(c) for c in candidates if pd.notna(c))


@task(name="quality-gate")
def quality_gate(data_dir: Path, out_dir: Path, config: dict, reference_date: date | None):
    from pipelines.quality import run_quality_gate

    return run_quality_gate(data_dir, out_dir, config, reference_date)


@flow(name="vigia-run", log_prints=True)
def vigia_run(
    data_dir: str, out_dir: str, config_path: str | None = None, as_of: str | None = None
) -> dict[str, Any]:
    """Validate the inputs, backtest the model grid, pick and register a champion, write the lists."""
    logger = get_run_logger()
    config = load_config(config_path)
    data, out = Path(data_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    planning_date = date.fromisoformat(as_of) if as_of else None

    quality = quality_gate(data, out, config, planning_date)
    tables = quality.clean
    if planning_date is None:
        planning_date = (newest_record_date(tables) + pd.Timedelta(days=1)).date()
    logger.info("Planning date (as-of): %s", planning_date)
    districts = load_districts()
    raise NotImplementedError(districts)  # wired once stages land
    result = {"out": str(out)}
    create_markdown_artifact(markdown=json.dumps(result), key="vigia-run")
    return result

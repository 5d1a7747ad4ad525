"""The schedule of the whole system in one place: scheduled retraining and list production.

Schedules need a Prefect server (the ephemeral API refuses them): start one with
`prefect server start --host 127.0.0.1`, set PREFECT_API_URL to its `/api` address, then
`vigia serve --data DIR --out DIR [--config FILE]`. Three deployments are served:

- `quarterly-retrain-and-rank` (flow `vigia-run`, cron `schedule.retraining_cron`): retraining,
  the promotion gate, then the lists from the champion, so each quarter ends with its lists;
- `retrain` (flow `vigia-retrain`, on demand): retraining and the gate only;
- `rank` (flow `vigia-scheduled-rank`, cron `schedule.ranking_cron`): re-listing with the
  champion at the start of each planning period; when the planning date's data or the champion's
  scores drifted beyond config `drift:`, it retrains first (`vigia-run`) and records why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import serve

from pipelines.flow import vigia_retrain, vigia_run, vigia_scheduled_rank
from settings.loader import load_config

RETRAIN_AND_RANK = "quarterly-retrain-and-rank"
RETRAIN = "retrain"
RANK = "rank"


def deployments(data_dir: Path, out_dir: Path, config_path: Path | None) -> list[Any]:
    """The three deployments with absolute paths as their parameters."""
    schedule = load_config(config_path).schedule
    parameters = {"data_dir": str(Path(data_dir).resolve()),
                  "out_dir": str(Path(out_dir).resolve()),
                  "config_path": str(Path(config_path).resolve()) if config_path else None}
    return [
        vigia_run.to_deployment(
            name=RETRAIN_AND_RANK, cron=schedule.retraining_cron, parameters=parameters,
            description="Retrain and promote through the gate; then the quarter's lists."),
        vigia_retrain.to_deployment(
            name=RETRAIN, parameters=parameters,
            description="Retrain and pass the promotion gate (no lists)."),
        vigia_scheduled_rank.to_deployment(
            name=RANK, cron=schedule.ranking_cron, parameters=parameters,
            description="Lists for every office from the champion; retrains first on drift."),
    ]


def serve_deployments(data_dir: Path, out_dir: Path, config_path: Path | None) -> None:
    """Register the deployments with the server at PREFECT_API_URL and run them (blocks)."""
    serve(*deployments(data_dir, out_dir, config_path))

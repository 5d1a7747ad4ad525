"""The schedule of the whole system in one place: scheduled retraining and list production.

Schedules need a Prefect server (the ephemeral API refuses them): start one with
`prefect server start --host 127.0.0.1`, set PREFECT_API_URL, then
`python -m pipelines.deployments --data DIR --out DIR`.
"""

from __future__ import annotations

import argparse
import sys

from prefect import serve

from pipelines.config import load_config
from pipelines.flow import vigia_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve Vigía's scheduled flows.")
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    schedule = load_config(args.config)["schedule"]
    retraining = vigia_run.to_deployment(
        name="quarterly-retraining",
        cron=schedule["retraining_cron"],
        parameters={"data_dir": args.data, "out_dir": args.out, "config_path": args.config},
        description="Retrain, backtest and promote through the gate; produce the quarter's lists.",
    )
    serve(retraining)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The run a notebook reads: one named by the environment, or a small demo run built once.

Notebooks read a finished `vigia run`: its `--out` folder and its MLflow records.
`VIGIA_RUN_DIR` names that folder, `VIGIA_DATA_DIR` its `--data` folder and `VIGIA_CONFIG` its
`--config` file (default: config/default.yaml); relative paths are taken from the project root.
Without `VIGIA_RUN_DIR`, a small demo world is generated and run through the CLI
(`vigia demo-data`, `vigia run`) with config/demo_small.yaml, once: its folder (`VIGIA_DEMO_DIR`,
default outputs/notebook_demo) is reused by later notebooks, and a file lock lets notebooks
started together share one build.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import yaml
from mlflow import MlflowClient
from mlflow.entities import Run

from cleaning.quality import validate_inputs
from features.training_set import tables_known_before
from pipelines.environment import apply_offline_defaults
from pipelines.tracking import resolve_store
from settings import catalog
from settings.loader import load_config
from settings.paths import PROJECT_ROOT
from settings.schema import VigiaConfig

log = logging.getLogger(__name__)

DEMO_CONFIG = PROJECT_ROOT / "config" / "demo_small.yaml"
DEFAULT_DEMO_DIR = PROJECT_ROOT / "outputs" / "notebook_demo"
DEMO_PREFECT_HOME = PROJECT_ROOT / ".prefect" / "notebook_demo"
FINISHED_MARKER = "finished"


@dataclass(frozen=True)
class NotebookRun:
    """Where a finished run's inputs, outputs and configuration are."""

    out_dir: Path
    data_dir: Path
    config_path: Path | None
    config: VigiaConfig

    @property
    def planning_date(self) -> pd.Timestamp:
        return pd.Timestamp(catalog.PLANNING_DATE.path(self.out_dir).read_text().strip())


def _from_root(path: str | Path) -> Path:
    """Relative paths are taken from the project root, as in config (kernels run in notebooks/)."""
    return (PROJECT_ROOT / Path(path)).resolve()


def notebook_run(run_dir: str | Path | None = None, data_dir: str | Path | None = None,
                 config: str | Path | None = None,
                 environ: Mapping[str, str] = os.environ) -> NotebookRun:
    """The run given (arguments first, then VIGIA_RUN_DIR, VIGIA_DATA_DIR, VIGIA_CONFIG), else
    the demo run in VIGIA_DEMO_DIR."""
    apply_offline_defaults()
    run_dir = run_dir or environ.get("VIGIA_RUN_DIR")
    if not run_dir:
        return ensure_demo_run(_from_root(environ.get("VIGIA_DEMO_DIR") or DEFAULT_DEMO_DIR))
    data_dir = data_dir or environ.get("VIGIA_DATA_DIR")
    if not data_dir:
        raise ValueError(f"run folder {run_dir} given: also give its --data folder "
                         "(DATA_DIR or VIGIA_DATA_DIR)")
    config = config or environ.get("VIGIA_CONFIG")
    config_path = _from_root(config) if config else None
    run = NotebookRun(_from_root(run_dir), _from_root(data_dir), config_path,
                      load_config(config_path))
    if not catalog.PLANNING_DATE.path(run.out_dir).exists():
        raise FileNotFoundError(
            f"{run.out_dir} holds no finished run ({catalog.PLANNING_DATE.name})")
    return run


def mlflow_parent_run(run: NotebookRun) -> Run:
    """The newest MLflow parent run of the run's planning date in the run's store.

    Also points MLflow (tracking and registry) at that store, for the calls that follow.
    """
    uri, _ = resolve_store(run.config.mlflow)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(run.config.mlflow.experiment)
    found = [] if experiment is None else client.search_runs(
        [experiment.experiment_id], f"tags.planning_date = '{run.planning_date.date()}'",
        order_by=["attributes.start_time DESC"], max_results=1,
    )
    if not found:
        raise LookupError(f"no MLflow run for planning date {run.planning_date.date()} in {uri}")
    return found[0]


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (other processes wait)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _vigia(args: list[str], folder: Path) -> None:
    """One `vigia` command in a child process, with the demo's Prefect home and a log in `folder`.

    A Prefect home of its own keeps demo builds out of the project's Prefect database, which a
    run started elsewhere at the same time (the end-to-end test) may be using; it persists, so
    its database migrations run once per machine, not per build.
    """
    log_path = folder / "build.log"
    environment = {**os.environ, "PREFECT_HOME": str(DEMO_PREFECT_HOME)}
    with log_path.open("a", encoding="utf-8") as output:
        code = subprocess.run([sys.executable, "-m", "cli", *args], cwd=PROJECT_ROOT,
                              env=environment, stdout=output, stderr=subprocess.STDOUT,
                              check=False).returncode
    if code != 0:
        tail = "".join(log_path.read_text(encoding="utf-8").splitlines(True)[-20:])
        raise RuntimeError(f"vigia {args[0]} failed (exit {code}); see {log_path}:\n{tail}")


def ensure_demo_run(folder: Path) -> NotebookRun:
    """A small demo world in `folder`/data and its run in `folder`/out, built unless present.

    The MLflow store of the demo lives in `folder`/mlruns, apart from the project's store.
    """
    folder = Path(folder).resolve()
    config_path, data_dir, out_dir = folder / "config.yaml", folder / "data", folder / "out"
    with _exclusive(folder / ".lock"):
        if not (folder / FINISHED_MARKER).exists():
            log.info("Building the demo run in %s (one to three minutes)", folder)
            demo = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
            demo["mlflow"] = {"tracking_uri": f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}",
                              "artifact_location": str(folder / "mlruns" / "artifacts")}
            config_path.write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
            _vigia(["demo-data", "--out", str(data_dir), "--config", str(config_path)], folder)
            _vigia(["run", "--data", str(data_dir), "--out", str(out_dir),
                    "--config", str(config_path)], folder)
            (folder / FINISHED_MARKER).write_text(f"{date.today()}\n")
    return NotebookRun(out_dir, data_dir, config_path, load_config(config_path))


def clean_tables(run: NotebookRun) -> dict[str, pd.DataFrame]:
    """The clean tables the run worked on: its inputs through the contract rules, cut to what
    was known before its planning date."""
    outcome, _ = validate_inputs(run.data_dir, run.config, date.today())
    return tables_known_before(outcome.clean, run.planning_date)


if __name__ == "__main__":
    # Builds (or finds) the run a notebook would read; the test suite starts the demo build early.
    logging.basicConfig(level=logging.INFO)
    print(notebook_run().out_dir)

"""Scheduled retraining on a real Prefect server: start it, serve Vigía, trigger, wait, stop.

Everything runs in child processes with their own PREFECT_HOME, on a free local port; the test
talks to the server over its REST API only, and stops what it started with SIGTERM by PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from support import tiny_run

from pipelines.deployments import RANK, RETRAIN, RETRAIN_AND_RANK

pytestmark = pytest.mark.whole_runs

ROOT = Path(__file__).resolve().parent.parent
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float, what: str, step: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(step)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group this test started (the server's uvicorn child included)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict]:
    inputs = tiny_run(tmp_path)
    out = Path(inputs["out_dir"])
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    # The runner looks for runs to start every second instead of Prefect's ten: the triggered
    # run starts without waiting out a poll; the deployments and their schedules are the same.
    env.update(PREFECT_HOME=str(tmp_path / "prefect_home"), DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
               PREFECT_RUNNER_POLL_FREQUENCY="1")
    prefect = str(Path(sys.executable).with_name("prefect"))
    server = start([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                   env, tmp_path / "server.log")
    started = [server]
    try:
        wait_for(lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200, 180,
                 "Prefect server")
        serve = start([sys.executable, "-m", "cli", "serve", "--data", inputs["data_dir"],
                       "--out", inputs["out_dir"], "--config", inputs["config_path"]],
                      dict(env, PREFECT_API_URL=api), tmp_path / "serve.log")
        started.append(serve)
        yield {"api": api, "out": out, "serve": serve, "root": tmp_path}
    finally:
        for process in reversed(started):
            stop(process)


def deployment(api: str, flow: str, name: str) -> dict | None:
    response = httpx.get(f"{api}/deployments/name/{flow}/{name}", timeout=10)
    return response.json() if response.status_code == 200 else None


def test_scheduled_retraining_runs_on_a_real_server(served: dict) -> None:
    api = served["api"]
    wait_for(lambda: deployment(api, "vigia-scheduled-rank", RANK), 120, "the served deployments")
    retrain = deployment(api, "vigia-run", RETRAIN_AND_RANK)
    assert RETRAIN in retrain["name"] and deployment(api, "vigia-retrain", RETRAIN)
    crons = [s["schedule"]["cron"] for s in retrain["schedules"]]
    assert crons == [yaml.safe_load((ROOT / "config" / "default.yaml").read_text())["schedule"]
                     ["retraining_cron"]]
    run = httpx.post(f"{api}/deployments/{retrain['id']}/create_flow_run", json={},
                     timeout=10).json()
    state = wait_for(
        lambda: (lambda s: s if s and s["type"] in FINAL else None)(
            httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json().get("state")),
        600, "the triggered flow run", step=2.0)
    log = (served["root"] / "serve.log").read_text(errors="replace")[-3000:]
    assert state["type"] == "COMPLETED", log
    lists = list(served["out"].glob("lista_*/lista_priorizada.csv"))
    assert lists and (served["out"] / "scores.csv").exists()
    assert (served["out"] / "run_report.md").exists()
    assert served["serve"].poll() is None  # still serving its schedules

"""`vigia run` killed with SIGKILL at random moments of every stage, over and over (marked
`kill_loop`: `make test-kills`, which `.ci/run` runs after `make test`).

A reference run on a small demo world gives the complete outputs and how long a cold run takes.
Then, in another output root, runs are started and killed at a random moment between start and
the reference duration (a share of them in cold runs, by removing the persisted task results, so
the kills land in validation, backtest and training as well as in registration, lists, estimates
and report). After every kill, each output is either absent (never written yet), the previous
complete one or the new complete one: the list folder holds every file and its list is the
reference's, the scores file is the reference's, the list log reads whole. At the end one more
run completes and delivers the reference's list and scores, byte for byte.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support import DEFECT_SHARE

from demo_world.generate import generate_world
from demo_world.writing import write_world
from models.offpolicy.list_log import read_list_log
from settings import catalog, files

pytestmark = pytest.mark.kill_loop

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20
COLD_EVERY = 3  # every third attempt starts without persisted task results
AS_OF = "2026-01-01"
CONFIG = {
    "model": {
        "families": {"random_forest": {"n_estimators": [30], "max_depth": [6],
                                       "min_samples_leaf": [20]}},
        "metrics": {"bootstrap_samples": 30},
    },
    "splits": {"test_splits": 2, "max_training_as_of_dates": 3},
}


def run_command(data: Path, out: Path, config: Path) -> list[str]:
    return [sys.executable, "-m", "cli.main", "run", "--data", str(data), "--out", str(out),
            "--config", str(config), "--as-of", AS_OF]


def child_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), DO_NOT_TRACK="1", PYTHONPATH=str(ROOT),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    return env


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("kills")
    data = root / "data"
    write_world(generate_world(n_workplaces=1500, seed=11, start="2018-07-01",
                               end="2026-06-30", defect_share=DEFECT_SHARE), data)
    offices = yaml.safe_load((ROOT / "config" / "offices.yaml").read_text(encoding="utf-8"))
    offices["specialized_team"]["capacity"] = 4
    for office in offices["offices"].values():
        office["capacity"] = 3
    (root / "offices.yaml").write_text(yaml.safe_dump(offices, allow_unicode=True),
                                      encoding="utf-8")
    configs = {}
    for name in ("reference", "killed"):
        config = dict(CONFIG, lists={"offices_file": str(root / "offices.yaml")},
                      mlflow={"tracking_uri": f"sqlite:///{root}/{name}_mlruns/mlflow.db",
                              "artifact_location": str(root / f"{name}_mlruns" / "artifacts")})
        configs[name] = root / f"{name}.yaml"
        configs[name].write_text(yaml.safe_dump(config), encoding="utf-8")
    out = root / "reference"
    started = time.monotonic()
    done = subprocess.run(run_command(data, out, configs["reference"]), cwd=ROOT,
                          env=child_env(root / "prefect_reference"), capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"root": root, "data": data, "config": configs["killed"], "reference": out,
            "seconds": time.monotonic() - started}


def list_folder(out: Path) -> Path:
    return catalog.LIST_FOLDER.path(out, as_of=AS_OF, office="")


def delivered(out: Path) -> dict[str, bytes]:
    """The list and scores files whose bytes a run on the same input must reproduce."""
    folder = list_folder(out)
    return {"list.csv": catalog.LIST_CSV.within(folder).read_bytes(),
            "scores.csv": catalog.SCORES.path(out).read_bytes()}


def assert_old_or_new_whole(out: Path, reference: Path, seen: set[str]) -> None:
    """Every output absent (if never written yet) or complete and equal to the reference's."""
    folder = list_folder(out)
    if folder.exists():
        seen.add("lists")
        expected = sorted(p.relative_to(list_folder(reference)) for p in
                          list_folder(reference).rglob("*"))
        assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == expected
        assert (catalog.LIST_CSV.within(folder).read_bytes()
                == catalog.LIST_CSV.within(list_folder(reference)).read_bytes())
        json.loads(catalog.LIST_JSON.within(folder).read_text(encoding="utf-8"))
    else:
        assert "lists" not in seen, "the list folder vanished after a kill"
    if catalog.SCORES.path(out).exists():
        seen.add("scores")
        assert (catalog.SCORES.path(out).read_bytes()
                == catalog.SCORES.path(reference).read_bytes())
    if catalog.ESTIMATES.path(out).exists():
        json.loads(catalog.ESTIMATES.path(out).read_text(encoding="utf-8"))
    if catalog.LIST_LOG.path(out).exists():
        log = read_list_log(catalog.LIST_LOG.path(out))
        reference_log = read_list_log(catalog.LIST_LOG.path(reference))
        assert len(log) % len(reference_log) == 0  # whole lists only, one per finished listing
    if catalog.VALIDATION_JSON.path(out).exists():
        json.loads(catalog.VALIDATION_JSON.path(out).read_text(encoding="utf-8"))
    if catalog.RUN_REPORT.path(out).exists():
        assert catalog.RUN_REPORT.path(out).read_text(encoding="utf-8").strip()


def test_runs_killed_at_any_stage_leave_old_or_new_outputs_and_the_next_run_delivers_the_same(
        setup: dict) -> None:
    rng = random.Random(20261206)
    out, reference = setup["root"] / "killed", setup["reference"]
    env = child_env(setup["root"] / "prefect_killed")
    command = run_command(setup["data"], out, setup["config"])
    kills, attempts, seen, moments = 0, 0, set(), []
    while kills < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, f"only {kills} kills in {attempts} attempts"
        if attempts % COLD_EVERY == 1:
            shutil.rmtree(catalog.STEP_RESULTS.path(out), ignore_errors=True)
        moment = rng.uniform(1.0, setup["seconds"])
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            child.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
            kills += 1
            moments.append(moment)
        assert_old_or_new_whole(out, reference, seen)
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=900)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert delivered(out) == delivered(reference)
    assert_old_or_new_whole(out, reference, seen)
    assert not files.stale(out)
    print(f"{kills} kills in {attempts} attempts at {sorted(round(m) for m in moments)} s "
          f"(a cold run: {setup['seconds']:.0f} s)")
    assert max(moments) > 0.6 * setup["seconds"] and min(moments) < 0.3 * setup["seconds"]
    assert pd.Series(moments).between(0.3 * setup["seconds"], 0.6 * setup["seconds"]).any()


def test_four_rankings_at_once_on_one_store_and_output_root_each_deliver_and_log_their_list(
        setup: dict) -> None:
    """Four `vigia rank --office` processes start together on the reference run's registry and
    one new output root: all succeed, each office's folder is complete, and the list log holds
    exactly the four lists (no writer dropped another's)."""
    offices = ["16", "01", "08", "ILM"]
    out = setup["root"] / "ranks"
    config = setup["root"] / "reference.yaml"
    env = child_env(setup["root"] / "prefect_ranks")
    children = [subprocess.Popen(
        [sys.executable, "-m", "cli.main", "rank", "--data", str(setup["data"]), "--out", str(out),
         "--config", str(config), "--as-of", AS_OF, "--office", office],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for office in offices]
    outputs = [child.communicate(timeout=900)[0] for child in children]
    assert [child.returncode for child in children] == [0] * 4, outputs
    national = pd.read_csv(catalog.LIST_CSV.within(list_folder(setup["reference"])),
                           dtype={"office": str})
    log = read_list_log(catalog.LIST_LOG.path(out))
    assert sorted(log["office"].unique()) == sorted(offices)
    for office in offices:
        folder = catalog.OFFICE_LIST_FOLDER.path(out, as_of=AS_OF, office=office)
        listed = pd.read_csv(catalog.LIST_CSV.within(folder), dtype={"office": str})
        listed = listed[listed["office"] == office]
        assert len(listed) == (national["office"] == office).sum() > 0
        assert (log["office"] == office).sum() == len(listed)
    assert not files.stale(out)

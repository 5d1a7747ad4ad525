"""Every kind of user error: exit 2, one `vigia:` line, no traceback anywhere (Prefect included).

The CLI runs in a subprocess so that everything any logger prints is captured. Errors found
before Prefect starts (paths, configuration, arguments) answer in seconds; one data error found
inside the flow (a history too short for any split plan) checks Prefect's loggers stay quiet;
`--debug` brings the traceback back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from demo_world.generate import generate_world
from demo_world.writing import write_world
from settings.files import claimed

pytestmark = pytest.mark.whole_runs


@pytest.fixture(scope="module", autouse=True)
def own_prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This module's runs get a Prefect home of their own: the other test worker's flows use the
    project's, and two temporary servers on one SQLite database can lock each other, which
    Prefect's server logs with a traceback that is no user error's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect_home")))
        yield


def vigia(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=cwd, env=dict(os.environ),
                          capture_output=True, text=True, timeout=600)


def assert_user_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    lines = [line for line in output.splitlines() if line.startswith("vigia:")]
    assert len(lines) == 1 and fragment in lines[0], output
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("errors") / "data"
    write_world(generate_world(n_workplaces=300, seed=5, start="2018-07-01", end="2026-06-30",
                               defect_share=0.0), data)
    return data


def _bad_config(tmp: Path, text: str) -> Path:
    path = tmp / f"bad_{abs(hash(text))}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case,fragment", [
    ("missing data folder", "no such folder"),
    ("missing table file", "complaints.csv or complaints.parquet: file not found"),
    ("missing config", "configuration file not found"),
    ("config not YAML", "not valid YAML"),
    ("config bad splits", "splits: test_splits must be positive"),
    ("config unknown family", "model.families: unknown ['xgboost_magic']"),
    ("config unknown key", "splits.test_split: unknown key"),
    ("config wrong type", "lists.exploration_share: Input should be a valid number"),
    ("config unknown baseline column", "model.baselines.complaints_column: 'complaints_2y' is not"),
    ("office code like a path", "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_-]*$' (got "
                                "'../../escaped')"),
    ("team code like a path", "lists.specialized_team.code: String should match pattern"),
    ("capacity without office", "--capacity needs --office"),
    ("unknown office", "--office '99' is not an office"),
    ("serve missing data folder", "no such folder"),
    ("serve config bad splits", "splits: test_splits must be positive"),
])
def test_errors_found_before_prefect_starts(world: Path, tmp_path: Path, case: str,
                                            fragment: str) -> None:
    data, out = str(world), str(tmp_path / "out")
    args = {
        "missing data folder": ["run", "--data", str(tmp_path / "nowhere"), "--out", out],
        "missing table file": ["run", "--data", str(tmp_path), "--out", out],
        "missing config": ["run", "--data", data, "--out", out, "--config", "nope.yaml"],
        "config not YAML": ["run", "--data", data, "--out", out, "--config",
                            str(_bad_config(tmp_path, "splits: [unclosed"))],
        "config bad splits": ["run", "--data", data, "--out", out, "--config",
                              str(_bad_config(tmp_path, "splits: {test_splits: 0}"))],
        "config unknown family": ["run", "--data", data, "--out", out, "--config",
                                  str(_bad_config(tmp_path, "model: {families: {xgboost_magic: "
                                                            "{}}}"))],
        "config unknown key": ["run", "--data", data, "--out", out, "--config",
                               str(_bad_config(tmp_path, "splits: {test_split: 2}"))],
        "config wrong type": ["run", "--data", data, "--out", out, "--config",
                              str(_bad_config(tmp_path, "lists: {exploration_share: ten}"))],
        "config unknown baseline column": [
            "run", "--data", data, "--out", out, "--config",
            str(_bad_config(tmp_path, "model: {baselines: {complaints_column: complaints_2y}}"))],
        "office code like a path": ["run", "--data", data, "--out", out, "--config", str(
            _bad_config(tmp_path, "lists: {offices: {'../../escaped': {name_es: x, "
                                  "capacity: 3}}}"))],
        "team code like a path": ["run", "--data", data, "--out", out, "--config", str(
            _bad_config(tmp_path, "lists: {specialized_team: {code: /tmp/x, name_es: x, "
                                  "capacity: 3}}"))],
        "capacity without office": ["rank", "--data", data, "--out", out, "--capacity", "5"],
        # --department, the older spelling of --office, still works
        "unknown office": ["rank", "--data", data, "--out", out, "--department", "99"],
        "serve missing data folder": ["serve", "--data", str(tmp_path / "nowhere"), "--out", out],
        "serve config bad splits": ["serve", "--data", data, "--out", out, "--config",
                                    str(_bad_config(tmp_path, "splits: {test_splits: 0}"))],
    }[case]
    if case == "missing table file":
        for table in ("workplaces", "inspections"):
            (tmp_path / f"{table}.csv").write_text((world / f"{table}.csv").read_text())
    assert_user_error(vigia(*args, cwd=tmp_path), fragment)


def test_a_data_error_inside_the_flow_prints_no_traceback(world: Path, tmp_path: Path) -> None:
    """Two years of history cannot hold even the smallest split plan: found inside the flow,
    where Prefect's loggers would print the traceback."""
    short = tmp_path / "short"
    short.mkdir()
    for table, column in (("inspections", "ordered_on"), ("complaints", "received_on")):
        frame = pd.read_csv(world / f"{table}.csv", dtype=str, keep_default_na=False)
        frame[frame[column] >= "2024-07-01"].to_csv(short / f"{table}.csv", index=False)
    (short / "workplaces.csv").write_text((world / "workplaces.csv").read_text())
    result = vigia("run", "--data", str(short), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert_user_error(result, "history too short: records from 2024-07-")
    assert "needs about 33 months" in result.stderr


def test_debug_shows_the_traceback_of_a_user_error(world: Path, tmp_path: Path) -> None:
    result = vigia("--debug", "rank", "--data", str(world), "--out", str(tmp_path / "out"),
                   "--capacity", "5", cwd=tmp_path)
    assert result.returncode == 2
    assert "vigia: --capacity needs --office" in result.stderr
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("command", ["run", "rank"])
def test_a_second_run_on_the_same_output_root_is_refused_at_once(world: Path, tmp_path: Path,
                                                                 command: str) -> None:
    out = tmp_path / "out"
    with claimed(out, shared=False):  # a run is writing there
        result = vigia(command, "--data", str(world), "--out", str(out), cwd=tmp_path)
    assert_user_error(result, "another vigia run is writing there")
    with claimed(out, shared=True), claimed(out, shared=True):  # rankings share the root
        pass

"""Wall time and peak memory per stage at national scale (`make bench-scale`; not in `make test`).

For each size (default 50,000, 200,000 and 500,000 workplaces) the default demo world of that
size (`.bench/worlds/baseline-<seed>-<n>`, generated on first use, seed of config `demo_world`)
goes through `vigia run` (validation, backtest, selection, retraining, lists, estimates, report)
and then `vigia rank` (lists from the registered champion, no retraining), each command in a
process of its own, with a fresh output folder and MLflow store under `.bench/scale/<n>`.

- Time per stage: Prefect's task runs of that command (read back from the bench's own Prefect
  home), so a stage is what the flows call a step; the backtest's split tasks are also broken
  into feature building and the training grid from the split's log line.
- Memory: a sampler reads the resident memory (RSS) of the command's process tree every 0.2 s;
  a stage's peak is the highest sample inside its interval. A command that passes `--max-gib`
  (16 by default: the kernel's OOM killer stopped a run at 19.2 GiB of 24 before a 20 GiB guard
  saw it) is stopped (the machine has to stay usable) and the table says so.
- Growth: each stage's exponent from the smallest to the largest size, log(time ratio) /
  log(size ratio): 1 is linear.
- Feature stage reference: on the same world's clean tables, our feature stage for the planning
  date against one DuckDB query computing the same columns (benchmarks/feature_reference.py),
  in this process, after the commands.

Results: benchmarks/results/scale.{json,md} (or `--out` stem), with the machine's description.
`--flame-graphs docs/perf` also records each command with py-spy (SVG flame graphs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from benchmarks.feature_reference import reference_on_world
from benchmarks.model_quality import CACHE, RESULTS, world_folder
from pipelines.environment import apply_offline_defaults
from reporting.markdown import markdown_table
from settings.loader import load_config

SIZES = (50_000, 200_000, 500_000)
SAMPLE_SECONDS = 0.2
PREFECT_HOME = CACHE / "scale" / "prefect"
# "split 2025-01-01: features 4.1 s, grid and evaluation 31.0 s" (models/training/backtest.py)
SPLIT_LINE = re.compile(r"split (\S+): features ([\d.]+) s, grid and evaluation ([\d.]+) s")


@dataclass
class Command:
    """One `vigia` command's wall time, peak memory and stages."""

    name: str
    seconds: float = 0.0
    peak_gib: float = 0.0
    stopped: str = ""
    stages: list[dict[str, Any]] = field(default_factory=list)


class MemorySampler(threading.Thread):
    """Samples a process tree's RSS (GiB) with timestamps; kills it above `max_gib`."""

    def __init__(self, process: subprocess.Popen, max_gib: float) -> None:
        super().__init__(daemon=True)
        self.process, self.max_gib = process, max_gib
        self.samples: list[tuple[float, float]] = []
        self.stopped = ""

    def run(self) -> None:
        root = psutil.Process(self.process.pid)
        while self.process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                gib = sum(p.memory_info().rss for p in tree) / 2**30
            except psutil.NoSuchProcess:
                break
            self.samples.append((time.time(), gib))
            if gib > self.max_gib:
                self.stopped = f"stopped at {gib:.1f} GiB (limit {self.max_gib} GiB)"
                self.process.kill()
            time.sleep(SAMPLE_SECONDS)

    def peak(self, start: float, end: float) -> float:
        inside = [gib for stamp, gib in self.samples if start <= stamp <= end]
        return max(inside, default=0.0)


def task_runs(start: float, end: float) -> list[dict[str, Any]]:
    """Prefect task runs that started in [start, end] (epoch seconds), oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterStartTime
    from prefect.client.schemas.sorting import TaskRunSort

    window = TaskRunFilterStartTime(after_=datetime.fromtimestamp(start, UTC),
                                    before_=datetime.fromtimestamp(end, UTC))
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:  # the API returns at most 200 runs a call
            page = client.read_task_runs(task_run_filter=TaskRunFilter(start_time=window),
                                         sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200,
                                         offset=len(runs))
            runs += page
            if len(page) < 200:
                break
    return [{"stage": run.name.rsplit("-", 1)[0], "start": run.start_time.timestamp(),
             "end": run.end_time.timestamp()} for run in runs if run.start_time and run.end_time]


def stage_table(runs: list[dict[str, Any]], sampler: MemorySampler,
                log_text: str) -> list[dict[str, Any]]:
    """Seconds and peak GiB per stage (runs of one stage summed), the backtest split broken
    into feature building and training grid."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        row = rows.setdefault(run["stage"], {"stage": run["stage"], "runs": 0, "seconds": 0.0,
                                             "peak_gib": 0.0})
        row["runs"] += 1
        row["seconds"] += run["end"] - run["start"]
        row["peak_gib"] = max(row["peak_gib"], sampler.peak(run["start"], run["end"]))
    splits = SPLIT_LINE.findall(log_text)
    if splits and "backtest-split" in rows:
        peak = rows["backtest-split"]["peak_gib"]
        for part, index in (("features", 1), ("grid and evaluation", 2)):
            rows[f"backtest-split: {part}"] = {
                "stage": f"backtest-split: {part}", "runs": len(splits),
                "seconds": sum(float(s[index]) for s in splits), "peak_gib": peak}
    return list(rows.values())


def run_command(name: str, argv: list[str], log_file: Path, max_gib: float,
                flame_graph: Path | None = None) -> Command:
    """Run one `vigia` command, sampling its memory; its stages from Prefect afterwards. With
    `flame_graph`, py-spy records the command into that SVG (sampling slows it a little)."""
    environment = {**os.environ, "PREFECT_HOME": str(PREFECT_HOME), "OMP_NUM_THREADS": "2"}
    command = [sys.executable, "-m", "cli", *argv]
    if flame_graph is not None:
        py_spy = Path(sys.executable).with_name("py-spy")
        command = [str(py_spy), "record", "--rate", "20", "--subprocesses", "--output",
                   str(flame_graph), "--", *command]
    started = time.time()
    with log_file.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log,
                                   stderr=subprocess.STDOUT, env=environment)
        sampler = MemorySampler(process, max_gib)
        sampler.start()
        code = process.wait()
        sampler.join()
    ended = time.time()
    if code != 0 and not sampler.stopped:
        raise RuntimeError(f"{name} failed (exit {code}); see {log_file}")
    measured = Command(name, ended - started, sampler.peak(started, ended), sampler.stopped)
    measured.stages = stage_table(task_runs(started, ended), sampler,
                                  log_file.read_text(encoding="utf-8"))
    return measured


def measure_size(workplaces: int, seed: int, max_gib: float,
                 flame_graphs: Path | None) -> dict[str, Any]:
    """`vigia run` then `vigia rank` on the demo world of `workplaces`, in a fresh folder (with
    `flame_graphs`, their py-spy flame graphs go there)."""
    data = world_folder("baseline", seed, workplaces)
    folder = CACHE / "scale" / str(workplaces)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = folder / "config.yaml"
    config.write_text(json.dumps({"mlflow": {
        "tracking_uri": f"sqlite:///{folder / 'mlruns.db'}",
        "artifact_location": str(folder / "artifacts")}}), encoding="utf-8")
    common = ["--data", str(data), "--out", str(folder / "out"), "--config", str(config)]
    graphs = {name: None if flame_graphs is None
              else flame_graphs / f"vigia_{name}_{workplaces}.svg" for name in ("run", "rank")}
    run = run_command("vigia run", ["run", *common], folder / "run.log", max_gib, graphs["run"])
    rank = (run_command("vigia rank", ["rank", *common], folder / "rank.log", max_gib,
                        graphs["rank"])
            if not run.stopped else Command("vigia rank", stopped="not run"))
    reference = reference_on_world(data)
    return {"workplaces": workplaces, "commands": [asdict(run), asdict(rank)],
            "feature_reference": {k: v for k, v in reference.items() if k != "comparison"}}


def growth(results: list[dict[str, Any]]) -> dict[str, float]:
    """Per command and stage, the exponent of time growth from the smallest to the largest size."""
    finished = [r for r in results if not any(c["stopped"] for c in r["commands"])]
    if len(finished) < 2:
        return {}
    small, large = finished[0], finished[-1]
    ratio = math.log(large["workplaces"] / small["workplaces"])
    exponents = {}
    for before, after in zip(small["commands"], large["commands"], strict=True):
        total = math.log(after["seconds"] / before["seconds"]) / ratio
        exponents[f"{before['name']}: total"] = total
        times = {s["stage"]: s["seconds"] for s in before["stages"]}
        for stage in after["stages"]:
            if times.get(stage["stage"], 0) > 0.5:  # sub-second stages are noise
                exponents[f"{before['name']}: {stage['stage']}"] = (
                    math.log(stage["seconds"] / times[stage["stage"]]) / ratio)
    return exponents


def markdown(results: list[dict[str, Any]], exponents: dict[str, float], machine: str) -> str:
    """The table of the README's performance section."""
    rows = []
    for result in results:
        for command in result["commands"]:
            label = f"{result['workplaces']:,} · {command['name']}"
            rows.append({"size · command": label, "stage": "total",
                         "seconds": command["seconds"], "peak GiB": command["peak_gib"],
                         "note": command["stopped"]})
            rows += [{"size · command": label, "stage": s["stage"], "seconds": s["seconds"],
                      "peak GiB": s["peak_gib"], "note": f"{s['runs']} runs" if s["runs"] > 1
                      else ""} for s in command["stages"]]
    table = markdown_table(pd.DataFrame(rows), digits=1)
    growth_table = markdown_table(pd.DataFrame(
        [{"command: stage": k, "exponent": v} for k, v in exponents.items()]
    ), digits=2) if exponents else "(one size only)"
    reference = markdown_table(pd.DataFrame([
        {"workplaces": r["workplaces"], **{k: r["feature_reference"][k] for k in (
            "as_of", "ours_s", "duckdb_s", "ratio", "columns_compared", "columns_equal")}}
        for r in results]), digits=2)
    return (f"# Scale benchmark\n\nMachine: {machine}. Command: `make bench-scale`.\n\n{table}\n\n"
            f"## Growth exponent of wall time, smallest to largest size (1 = linear)\n\n"
            f"{growth_table}\n\n"
            "## Feature stage (one as-of date) against one DuckDB query for the same columns\n\n"
            "benchmarks/feature_reference.py; best of 2 runs each, DuckDB on one thread like "
            f"our stage; ratio = ours / DuckDB.\n\n{reference}\n")


def machine_description() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (f"{psutil.cpu_count()} cores ({platform.processor() or platform.machine()}), "
            f"{memory:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--max-gib", type=float, default=16.0,
                        help="stop a command whose memory passes this (GiB)")
    parser.add_argument("--out", default="scale", help="result file stem")
    parser.add_argument("--flame-graphs", type=Path, default=None,
                        help="folder for py-spy flame graphs of each command (e.g. docs/perf)")
    args = parser.parse_args(argv)
    os.environ["PREFECT_HOME"] = str(PREFECT_HOME)  # before Prefect is imported (task_runs)
    apply_offline_defaults()
    seed = load_config().demo_world.seed
    results = []
    for size in sorted(args.sizes):
        results.append(measure_size(size, seed, args.max_gib, args.flame_graphs))
        print(json.dumps(results[-1]), flush=True)
    exponents, machine = growth(results), machine_description()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(
        {"machine": machine, "sizes": results, "growth": exponents}, indent=2), encoding="utf-8")
    text = markdown(results, exponents, machine)
    (RESULTS / f"{args.out}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

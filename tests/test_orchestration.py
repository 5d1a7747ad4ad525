"""Orchestration: a rerun on unchanged data is served from cache, every step takes its options
from config, I/O tasks retry, lists are written whole or not at all."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from prefect import flow, task  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId  # noqa: E402
from support import AS_OF, lists_settings, synthetic_world, tiny_run  # noqa: E402

from cleaning.contract import load_districts  # noqa: E402
from models.targeting.lists import (  # noqa: E402
    WorkplaceRegistry,
    build_target_lists,
    yield_by_office,
)
from pipelines.flow import stages, vigia_retrain  # noqa: E402
from pipelines.stage import stage  # noqa: E402
from reporting.planner_report import PlannerLists, write_planning_outputs  # noqa: E402
from settings.catalog import STEP_RESULTS  # noqa: E402
from settings.loader import load_config, with_overrides  # noqa: E402

pytestmark = pytest.mark.whole_runs

CACHED_TASKS = {"quality-gate", "plan-splits", "backtest-split", "train-for-planning-date"}


async def task_states(flow_run_id) -> dict[str, str]:
    """Task name -> final state name, over a flow run and its subflow runs."""
    async with get_client() as client:
        children = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])))
        states = {}
        for run_id in [flow_run_id, *(c.id for c in children)]:
            for task_run in await client.read_task_runs(flow_run_filter=FlowRunFilter(
                    id={"any_": [run_id]})):
                states[task_run.name.rsplit("-", 1)[0]] = task_run.state.name
        return states


def test_rerun_on_unchanged_data_is_served_from_cache(tmp_path: Path) -> None:
    parameters = tiny_run(tmp_path)
    first = vigia_retrain(**parameters, return_state=True)
    assert first.is_completed()
    second = vigia_retrain(**parameters, return_state=True)
    assert second.is_completed()
    before = asyncio.run(task_states(first.state_details.flow_run_id))
    after = asyncio.run(task_states(second.state_details.flow_run_id))
    assert {before[name] for name in CACHED_TASKS} == {"Completed"}
    assert {after[name] for name in CACHED_TASKS} == {"Cached"}, sorted(after.items())
    # Registry work is never cached: the rerun registers and gates a new version.
    assert after["register-and-promote"] == "Completed"
    if first.result().gate.decision.promote:  # the same model met itself in the registry
        reason = second.result().gate.decision.reason
        # judged out of sample: no difference, or (a tiny world) too few outcomes to judge
        assert ("no difference beyond noise" in reason and "not an improvement" in reason) or (
            "not enough new evidence" in reason and not second.result().gate.decision.promote)


def test_an_io_task_that_fails_once_is_retried_and_the_flow_completes(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts.txt"

    @stage(timeout="lists", io=True, name="flaky-write")
    def flaky_write(path: Path) -> str:
        tried = int(attempts.read_text()) + 1 if attempts.exists() else 1
        attempts.write_text(str(tried))
        if tried == 1:
            raise OSError("disk briefly unavailable")
        path.write_text("ok")
        return "written"

    config = with_overrides(load_config(None), {"orchestration": {"retry_delay_seconds": 0}})

    @flow(name="retry-check")
    def retry_check() -> str:
        return flaky_write.configured(config.orchestration, tmp_path / "results")(
            tmp_path / "out.txt")

    state = retry_check(return_state=True)
    assert state.is_completed() and state.result() == "written"
    assert attempts.read_text() == "2" and (tmp_path / "out.txt").read_text() == "ok"


def test_each_step_takes_the_options_it_declares_from_config_orchestration(
        tmp_path: Path) -> None:
    config = with_overrides(load_config(None), {"orchestration": {
        "timeout_minutes": {"default": 7, "quality_gate": 11}, "io_retries": 4,
        "retry_delay_seconds": 3, "cache_days": 2}})
    steps = stages(config, tmp_path)
    gate = steps.quality_gate  # declared I/O, cached with persisted results
    assert gate.timeout_seconds == 11 * 60 and gate.retries == 4
    assert gate.retry_delay_seconds == 3 and gate.cache_expiration == timedelta(days=2)
    # its results (the cleaned tables) stay under the output root, readable by its owner only
    results = STEP_RESULTS.path(tmp_path)
    assert gate.result_storage == results
    assert results.stat().st_mode & 0o777 == 0o700
    chosen = steps.select  # no timeout key of its own, no I/O, never cached
    assert chosen.timeout_seconds == 7 * 60 and chosen.retries == 0
    assert chosen.cache_expiration is None
    with pytest.raises(AttributeError, match="no stage"):
        steps.districts_table  # a plain task, not a declared step  # noqa: B018


class BrokenFigure(Figure):
    """A figure whose rendering fails: the writer dies after some files were written."""

    def savefig(self, *args, **kwargs) -> None:
        raise KeyboardInterrupt("killed while rendering the report")


def test_a_run_killed_midway_leaves_no_half_written_list(tmp_path: Path) -> None:
    scores, workplaces, last = synthetic_world()
    districts = load_districts()
    target = build_target_lists(scores, WorkplaceRegistry(workplaces, districts, last),
                                lists_settings(), AS_OF, seed=1)
    validation = {"windows": [], "model_group": "m", "metric": "precision_at_capacity",
                  "label_timespan_months": 6}
    lists = PlannerLists(target, yield_by_office(target, 0.9), validation,
                         scores.set_index("workplace_id")["score"], {})
    broken = replace(lists, figures={"importancia_global.png": BrokenFigure()})
    with pytest.raises(KeyboardInterrupt):
        write_planning_outputs(tmp_path, AS_OF, broken, districts)
    assert list(tmp_path.iterdir()) == []  # neither the list folder nor its staging copy
    files = write_planning_outputs(tmp_path, AS_OF, lists, districts)
    assert files.list_csv.exists() and files.report_html.exists()
    assert len(pd.read_csv(files.list_csv)) == len(target)


def test_the_backtest_tells_its_progress_split_by_split() -> None:
    from pipelines.flow import gathered_with_progress

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    @task
    def split(i: int) -> int:
        return i * 10

    @flow(name="progress-check")
    def progress() -> list[int]:
        futures = [split.submit(i) for i in range(3)]
        return gathered_with_progress(futures, ["2024-01-01", "2024-07-01", "2025-01-01"])

    runs = logging.getLogger("prefect.flow_runs")  # Prefect's run loggers do not propagate
    handler = Collect()
    runs.addHandler(handler)
    try:
        assert progress() == [0, 10, 20]
    finally:
        runs.removeHandler(handler)
    said = [line for line in lines if line.startswith("backtest split")]
    assert [re.search(r"\((\d) of 3\)", line).group(1) for line in said] == ["1", "2", "3"]
    assert said[-1].endswith("about 0 s left")

"""How a flow step gets its Prefect options from config `orchestration:`, declared once per task.

A step is declared with `@stage(timeout=..., io=...)` next to its Prefect options (name, cache
policy): `timeout` is its key in `orchestration.timeout_minutes` (else `default`), `io` says it
reads or writes files or the MLflow store, so it is retried (`io_retries`, `retry_delay_seconds`).
A flow reaches its steps through `Stages(config.orchestration, module, out_dir)`:
`stages.select(...)` runs the module's `select` with its timeout, retries and, for cached tasks
whose results persist, the cache expiration (`cache_days`) and where the results go: the output
root's owner-only `.step_results` folder (settings/catalog.STEP_RESULTS), never a shared Prefect
home, because they hold the cleaned tables, complaints included. The backtest's task runner
comes from here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from prefect import Task, task
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy, CachePolicy
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.hashing import hash_objects

from settings.catalog import STEP_RESULTS
from settings.errors import InputError
from settings.schema import OrchestrationConfig


@dataclass(frozen=True)
class Stage:
    """A Prefect task and what config `orchestration:` sets on it."""

    task: Task
    timeout: str  # key in orchestration.timeout_minutes
    io: bool  # reads or writes files or the MLflow store: retried

    def configured(self, settings: OrchestrationConfig, results: Path) -> Task:
        """The task with its timeout, retries (I/O) and, for a persisted cache, its expiration
        and the folder `results` its results are stored in."""
        minutes = settings.timeout_minutes.get(self.timeout, settings.timeout_minutes["default"])
        options: dict[str, Any] = {"timeout_seconds": float(minutes) * 60}
        if self.io:
            options.update(retries=settings.io_retries,
                           retry_delay_seconds=settings.retry_delay_seconds)
        if self.task.cache_policy is not None and self.task.persist_result:
            options["cache_expiration"] = timedelta(days=settings.cache_days)
            options["result_storage"] = results  # a path: Prefect's local file system there
        return self.task.with_options(**options)


def stage(*, timeout: str, io: bool = False,
          **task_options: Any) -> Callable[[Callable[..., Any]], Stage]:
    """Declare a flow step: a Prefect task (`task_options`: name, cache policy...) with its
    timeout key and whether it does I/O."""
    def declare(function: Callable[..., Any]) -> Stage:
        return Stage(task(**task_options)(function), timeout, io)

    return declare


class Stages:
    """The stages declared in `module`, configured for one run: attribute `name` is the task of
    `module.name` with its options from `settings` (one `Stage.configured` per call), its
    persisted results under the run's `out_dir`."""

    def __init__(self, settings: OrchestrationConfig, module: ModuleType, out_dir: Path) -> None:
        self._settings = settings
        self._module = module
        self._results = private_folder(STEP_RESULTS.path(out_dir))

    def __getattr__(self, name: str) -> Task:
        declared = getattr(self._module, name, None)
        if not isinstance(declared, Stage):
            raise AttributeError(f"{self._module.__name__} declares no stage {name!r}")
        return declared.configured(self._settings, self._results)


def private_folder(folder: Path) -> Path:
    """`folder`, created if needed and readable by its owner only. Cached results are unpickled
    from it on a rerun, so one owned by someone else is refused, never read."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid():
        raise InputError(f"{folder}: cached results owned by another user; remove the folder")
    folder.chmod(0o700)
    return folder


def keyed_on(*names: str) -> CachePolicy:
    """Cache key: the task's source plus the named (small) inputs, the run fingerprint first.

    Large inputs (tables, models) are left out of the key: the fingerprint already stands for
    everything they were computed from.
    """
    def key(_context: Any, parameters: dict[str, Any]) -> str | None:
        return hash_objects(*(parameters[name] for name in names))

    return TASK_SOURCE + CacheKeyFnPolicy(cache_key_fn=key)


def split_task_runner(settings: OrchestrationConfig) -> Any:
    """The task runner of the backtest's splits (config `orchestration.split_runner`): local
    threads, or a Dask cluster through prefect-dask (an address, or a local cluster)."""
    runner = settings.split_runner
    if runner.kind == "threads":
        return ThreadPoolTaskRunner(max_workers=runner.max_workers)
    if runner.kind == "dask":
        from prefect_dask import DaskTaskRunner  # only runs that ask for Dask import it

        if runner.address:
            return DaskTaskRunner(address=runner.address)
        return DaskTaskRunner(cluster_kwargs=dict(runner.cluster_kwargs))
    raise InputError(f"config orchestration.split_runner.kind: {runner.kind!r} is not "
                     "'threads' or 'dask'")

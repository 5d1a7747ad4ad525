"""The backtest fans out one Prefect task per split and gathers the same result as the
sequential backtest, on local threads and on a local Dask cluster (prefect-dask)."""

from __future__ import annotations

import pandas as pd
import pytest
from support import tiny_run

from features.catalog import FEATURE_CATALOG
from models.training.backtest import BacktestResult, run_backtest
from models.training.candidates import build_grid
from pipelines.flow import backtest, prepare
from pipelines.stage import split_task_runner
from pipelines.tasks import Prepared, plan_splits
from settings.errors import InputError
from settings.loader import with_overrides

pytestmark = pytest.mark.whole_runs


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Prepared, list, BacktestResult]:
    prep = prepare(**tiny_run(tmp_path_factory.mktemp("splits")))
    plan = plan_splits.task.fn(prep, prep.fingerprint).splits
    config = prep.config
    sequential = run_backtest(
        prep.data.tables, prep.data.districts, plan,
        lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG), config.training(),
        config.lists.total_capacity, config.promotion.metric)
    return prep, plan, sequential


def assert_same(fanned: BacktestResult, sequential: BacktestResult) -> None:
    pd.testing.assert_frame_equal(fanned.metrics, sequential.metrics)
    pd.testing.assert_frame_equal(fanned.test_scores, sequential.test_scores)
    pd.testing.assert_frame_equal(fanned.test_labels, sequential.test_labels)
    pd.testing.assert_frame_equal(fanned.training, sequential.training)


@pytest.mark.parametrize("runner", [
    {"kind": "threads", "max_workers": 2},
    {"kind": "dask", "address": None, "cluster_kwargs": {"n_workers": 2, "processes": False}},
])
def test_splits_fanned_out_give_the_sequential_backtest(world, runner: dict) -> None:
    prep, plan, sequential = world
    assert len(plan) >= 2  # more than one split to fan out
    config = with_overrides(prep.config, {"orchestration": {"split_runner": runner}})
    # A fingerprint of its own per runner: no split may come from another test's cache.
    fanned = backtest.with_options(task_runner=split_task_runner(config.orchestration))(
        prep, plan, f"{prep.fingerprint}:{runner['kind']}")
    assert_same(fanned, sequential)
    assert (prep.out_dir / "backtest" / "metrics.csv").exists()


def test_an_unknown_runner_is_a_user_error(shipped_config) -> None:
    with pytest.raises(InputError, match="split_runner.kind"):
        split_task_runner(with_overrides(shipped_config, {"orchestration": {
            "split_runner": {"kind": "ray"}}}).orchestration)


def test_candidates_fitted_in_threads_give_the_sequential_backtest(world) -> None:
    prep, plan, sequential = world
    config = with_overrides(prep.config, {"model": {"fit_workers": 2}})
    threaded = run_backtest(
        prep.data.tables, prep.data.districts, plan,
        lambda dtypes: build_grid(config.model, dtypes, FEATURE_CATALOG), config.training(),
        config.lists.total_capacity, config.promotion.metric)
    assert_same(threaded, sequential)

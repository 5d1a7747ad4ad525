"""Test-wide settings (local, quiet and offline, as the CLI sets them) and shared fixtures."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pipelines.environment import apply_offline_defaults

apply_offline_defaults()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked `whole_runs` first, in their order: `make test` keeps each module on one
    worker (`--dist loadfile --no-loadscope-reorder`), so the long ones start at once and the
    many short ones then fill in until both workers end together."""
    items.sort(key=lambda item: item.get_closest_marker("whole_runs") is None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Prefect stops its temporary API servers at exit and logs it at INFO to the stream pytest
    captured and has closed by then ("I/O operation on closed file"): nothing of the tests is
    left to log at INFO once the session is over."""
    logging.getLogger("prefect").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def shipped_config():
    """config/default.yaml, typed (frozen: derive variants with `with_overrides`)."""
    from settings.loader import load_config

    return load_config()


@pytest.fixture(scope="session")
def calibration(shipped_config) -> dict[str, Any]:
    """`fit_calibrated`'s keyword arguments from the shipped `model.calibration`."""
    from models.training.backtest import calibration_arguments

    return calibration_arguments(shipped_config.model.calibration)


@pytest.fixture(scope="session")
def districts():
    """The INEI district table shipped in data/reference/ (cleaning.contract.load_districts)."""
    from cleaning.contract import load_districts

    return load_districts()

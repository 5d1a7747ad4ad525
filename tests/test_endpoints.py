"""Endpoints: PREFECT_API_URL wins over config; the MLflow store comes from config."""

from __future__ import annotations

import os

import pytest

from pipelines.environment import apply_endpoints
from pipelines.tracking import resolve_store
from settings.loader import load_config, with_overrides


def test_mlflow_store_comes_from_config_not_from_mlflows_own_variable(monkeypatch,
                                                                      tmp_path) -> None:
    config = load_config(None).mlflow
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/left/by/another/run.db")
    assert resolve_store(config, tmp_path)[0] == f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    served = config.model_copy(update={"tracking_uri": "http://127.0.0.1:5000"})
    assert resolve_store(served, tmp_path)[0] == "http://127.0.0.1:5000"


@pytest.mark.parametrize(("environment", "configured", "expected"), [
    (None, None, None),  # neither: Prefect's ephemeral API
    (None, "http://127.0.0.1:4200/api", "http://127.0.0.1:4200/api"),
    ("http://10.0.0.2:4200/api", "http://127.0.0.1:4200/api", "http://10.0.0.2:4200/api"),
])
def test_prefect_api_url_from_environment_then_config(monkeypatch, environment, configured,
                                                      expected) -> None:
    # Set first, so that monkeypatch records (and restores) the variable's state before the test.
    monkeypatch.setenv("PREFECT_API_URL", environment or "")
    if environment is None:
        monkeypatch.delenv("PREFECT_API_URL")
    config = with_overrides(load_config(None), {"orchestration": {"prefect_api_url": configured}})
    apply_endpoints(config)
    assert os.environ.get("PREFECT_API_URL") == expected

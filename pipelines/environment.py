"""Process-wide defaults that keep runs local, quiet and offline, set before heavy imports."""

from __future__ import annotations

import os

from settings.paths import PROJECT_ROOT
from settings.schema import VigiaConfig

OFFLINE_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
    # The ephemeral Prefect API needs 10-25 s to start on 2 cores; 20 s is too tight.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "MPLBACKEND": "Agg",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def apply_endpoints(config: VigiaConfig) -> None:
    """The Prefect API from config `orchestration.prefect_api_url` unless PREFECT_API_URL is
    already set (the environment wins); neither: Prefect's ephemeral local API. Call it before
    Prefect is imported: Prefect reads its settings once."""
    url = config.orchestration.prefect_api_url
    if url:
        os.environ.setdefault("PREFECT_API_URL", str(url))


def apply_offline_defaults() -> None:
    """Set the defaults above unless the caller's environment already chose otherwise."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)

"""Test-wide settings: local, quiet and offline, as the CLI sets them."""

from __future__ import annotations

from pipelines.environment import apply_offline_defaults

apply_offline_defaults()

"""Configuration: the default YAML shipped with the code, deep-merged with a user file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.yaml"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return `base` with `override` merged into it, recursively for nested mappings."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The default configuration, overridden by the YAML file at `path` when given."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    if path is not None:
        user = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(user, dict):
            raise ValueError(f"{path}: the configuration must be a YAML mapping")
        config = deep_merge(config, user)
    return config


def lists_config(config: dict[str, Any]) -> dict[str, Any]:
    """The `lists:` section with the offices file (capacities per office and team) merged in."""
    lists = copy.deepcopy(config["lists"])
    path = Path(lists["offices_file"])
    offices = yaml.safe_load((path if path.is_absolute() else PROJECT_ROOT / path).read_text(
        encoding="utf-8"
    ))
    return deep_merge(offices, lists)


def total_capacity(lists: dict[str, Any]) -> int:
    """Inspections in one planning period: the specialised team plus every office."""
    return int(lists["specialized_team"]["capacity"]) + sum(
        int(office["capacity"]) for office in lists["offices"].values()
    )

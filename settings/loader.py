"""Configuration: the default YAML shipped with the code, deep-merged with a user file, typed.

The result is a frozen `settings.schema.VigiaConfig`; every value comes from the YAML (the schema
holds no defaults). An unknown key, a wrong type or a missing key raises `ConfigError` naming
the key and the file it came from.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from settings.errors import InputError
from settings.paths import PROJECT_ROOT, project_path
from settings.schema import VigiaConfig

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.yaml"


class ConfigError(InputError):
    """A configuration file names an unknown key or gives a value of the wrong type."""


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return `base` with `override` merged into it, recursively for nested mappings."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_mapping(path: Path) -> dict[str, Any]:
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: the configuration must be a YAML mapping")
    return content


def _has_key(tree: Any, location: tuple) -> bool:
    for key in location:
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
    return True


def _error_line(error: dict[str, Any], files: list[tuple[Path, dict[str, Any]]]) -> str:
    """`file: section.key: what is wrong`, naming the last file that holds the key."""
    location = tuple(error["loc"])
    key = ".".join(str(part) for part in location)
    origin = next((path for path, tree in reversed(files) if _has_key(tree, location)),
                  files[-1][0])
    if error["type"] == "extra_forbidden":
        return f"{origin}: {key}: unknown key"
    if error["type"] == "missing":
        return f"{origin}: {key}: missing key"
    return f"{origin}: {key}: {error['msg']} (got {error['input']!r})"


def validated(raw: dict[str, Any], files: list[tuple[Path, dict[str, Any]]]) -> VigiaConfig:
    """The typed configuration of a merged mapping, or one `ConfigError` line."""
    try:
        return VigiaConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_error_line(exc.errors()[0], files)) from None


def load_config(path: str | Path | None = None) -> VigiaConfig:
    """The default configuration, overridden by the YAML file at `path` when given; the
    offices file named by `lists.offices_file` is merged into `lists`."""
    files = [(DEFAULT_CONFIG, _read_mapping(DEFAULT_CONFIG))]
    if path is not None:
        files.append((Path(path), _read_mapping(Path(path))))
    raw: dict[str, Any] = {}
    for _, tree in files:
        raw = deep_merge(raw, tree)
    lists = raw.get("lists")
    if isinstance(lists, dict) and isinstance(lists.get("offices_file"), str):
        offices_path = project_path(lists["offices_file"])
        offices = _read_mapping(offices_path)
        raw["lists"] = deep_merge(offices, lists)
        files.insert(0, (offices_path, {"lists": offices}))
    return validated(raw, files)


def with_overrides(config: VigiaConfig, overrides: dict[str, Any]) -> VigiaConfig:
    """`config` with `overrides` deep-merged in and validated again (tests, benchmarks)."""
    raw = deep_merge(config.model_dump(), overrides)
    return validated(raw, [(Path("<overrides>"), overrides)])

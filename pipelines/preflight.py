"""Checks that need no data, run by the CLI before Prefect starts, and quiet user errors.

A missing folder, a broken configuration or an impossible argument combination is answered in
about a second with one `vigia: ...` line, instead of after the Prefect server and the quality
gate. Errors found later inside the flow (the data itself) are `InputError`s too; Prefect's own
loggers would print their tracebacks, so `hide_user_error_tracebacks` keeps those records out.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from settings.errors import InputError
from settings.schema import VigiaConfig

# Prefect loggers that report a failed task or flow with the exception's traceback.
PREFECT_RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs", "prefect.engine")


def checked_config(path: Path | None) -> VigiaConfig:
    """The merged, typed configuration, or an `InputError` naming the file and what is wrong."""
    from settings.loader import load_config

    if path is not None and not Path(path).is_file():
        raise InputError(f"{path}: configuration file not found")
    try:
        config = load_config(path)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from exc
    _check_config(config, path)
    return config


def _check_config(config: VigiaConfig, path: Path | None) -> None:
    """Values the schema's types cannot judge: they must name what the code knows."""
    from features.catalog import FEATURE_CATALOG
    from features.labels import LABEL_KINDS
    from features.splits import check_splits
    from models.training.families import FAMILIES

    where = f"{path}: " if path else ""
    try:
        check_splits(config.splits, config.labels.label_timespan_months)
    except InputError as exc:
        raise InputError(f"{where}{exc}") from exc
    if config.labels.kind not in LABEL_KINDS:
        raise InputError(f"{where}labels.kind {config.labels.kind!r} is not one of "
                         f"{list(LABEL_KINDS)}")
    unknown = sorted(set(config.model.families) - set(FAMILIES))
    if unknown or not config.model.families:
        raise InputError(f"{where}model.families: unknown {unknown}, known {list(FAMILIES)}")
    for key, column in config.model.baselines.model_dump().items():
        if key.endswith("_column") and column not in FEATURE_CATALOG:
            raise InputError(f"{where}model.baselines.{key}: {column!r} is not a feature "
                             "(features/catalog.py)")


def check_data_dir(data_dir: Path, config: VigiaConfig) -> None:
    """The data folder exists and holds a file for every table (mapping names included)."""
    from cleaning.ingest import find_table_files, mapping_from_config

    if not Path(data_dir).is_dir():
        raise InputError(f"--data {data_dir}: no such folder")
    find_table_files(Path(data_dir), mapping_from_config(config.data))


def check_out_dir(out_dir: Path) -> None:
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a folder")


def check_office(config: VigiaConfig, office: str | None, capacity: int | None) -> None:
    """`vigia rank`: a capacity belongs to one office, which must be in the offices file."""
    if capacity is not None and office is None:
        raise InputError("--capacity needs --office (the office whose capacity it is)")
    if capacity is not None and capacity < 1:
        raise InputError(f"--capacity must be at least 1, got {capacity}")
    offices = config.lists.offices
    if office is not None and office not in offices:
        raise InputError(f"--office {office!r} is not an office; known: {sorted(offices)}")


class _DropUserErrors(logging.Filter):
    """Drops records carrying an `InputError`: the CLI prints it once, without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, InputError)


def hide_user_error_tracebacks() -> None:
    """Keep Prefect's run loggers from printing tracebacks of expected user errors."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropUserErrors) for f in logger.filters):
            logger.addFilter(_DropUserErrors())

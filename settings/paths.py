"""Where the project lives on disk, so relative paths in config resolve the same from anywhere."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_path(path: str | Path) -> Path:
    """A path from config: relative paths resolve against the project root."""
    return Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path

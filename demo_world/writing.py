"""Writing a demo world to disk: the public CSVs, the list log and the hidden truth folder.

The public tables take their file names from the input catalog (settings/inputs.py), as a
run reads them; the hidden folder's names are spelled only in the constants below, which
evaluation/truth.py reads back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from demo_world.truth_readme import render_truth_readme
from settings import catalog, inputs

if TYPE_CHECKING:
    from demo_world.generate import DemoWorld

PUBLIC_TABLES = (inputs.WORKPLACES, inputs.INSPECTIONS, inputs.COMPLAINTS)
TRUTH_FOLDER = "truth"
SCENARIO_FILE = "scenario.json"
README_FILE = "README.md"


def csv_name(table: str) -> str:
    """The file name of a hidden table."""
    return f"{table}.csv"


def write_world(world: DemoWorld, out_dir: Path) -> dict[str, Path]:
    """Write the public CSVs and the truth folder (CSV + README); return every path written."""
    out_dir = Path(out_dir)
    truth_dir = out_dir / TRUTH_FOLDER
    truth_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for table in PUBLIC_TABLES:
        paths[table.name] = _write_csv(getattr(world, table.name), out_dir / table.file_name)
    for name, frame in world.truth.items():
        paths[f"{TRUTH_FOLDER}/{name}"] = _write_csv(frame, truth_dir / csv_name(name))
    if world.list_log is not None:  # public, like the tables: the inspectorate's own lists
        paths["list_log"] = catalog.LIST_LOG.path(out_dir)  # where a run reads it back
        world.list_log.to_parquet(paths["list_log"], index=False)
    texts = {SCENARIO_FILE: json.dumps(world.scenario, indent=2) + "\n",
             README_FILE: render_truth_readme(world)}
    for file_name, text in texts.items():
        path = truth_dir / file_name
        path.write_text(text, encoding="utf-8")
        paths[f"{TRUTH_FOLDER}/{path.stem}"] = path
    return paths


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path

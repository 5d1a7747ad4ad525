"""The committed notebooks: stripped of outputs, documented up front, on the project's kernel.

They are EXECUTED by nbmake (pyproject's pytest options, notebooks/conftest.py); these checks
cover what running them cannot, plus how a notebook finds the run it reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines.notebook_run import notebook_run
from settings.catalog import PLANNING_DATE
from settings.paths import PROJECT_ROOT

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STRIP = ".venv/bin/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_explorar_datos.ipynb", "02_evaluar_modelos.ipynb", "03_explicar_y_priorizar.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_holds_no_outputs(path: Path) -> None:
    """Outputs can carry list rows and scores; strip them before committing."""
    dirty = [number for number, cell in enumerate(_cells(path)) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; run `{STRIP}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_purpose_inputs_and_duration(path: Path) -> None:
    first = _cells(path)[0]
    text = "".join(first["source"])
    assert first["cell_type"] == "markdown"
    for heading in ("What it is for", "What it reads", "How long it takes"):
        assert heading in text, f"{path.name}: the opening cell does not say {heading!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_project_kernel(path: Path) -> None:
    """`make venv` registers the kernel `vigia` inside .venv; nbmake and JupyterLab use it."""
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata["kernelspec"]["name"] == "vigia"


def test_a_run_folder_needs_its_data_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--data folder"):
        notebook_run(environ={"VIGIA_RUN_DIR": str(tmp_path)})


def test_a_run_folder_must_hold_a_finished_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no finished run"):
        notebook_run(tmp_path, tmp_path, environ={})


def test_arguments_win_over_the_environment(tmp_path: Path) -> None:
    PLANNING_DATE.path(tmp_path).write_text("2026-07-01\n")
    run = notebook_run(tmp_path, tmp_path / "data",
                       environ={"VIGIA_RUN_DIR": "/elsewhere", "VIGIA_DATA_DIR": "/elsewhere"})
    assert run.out_dir == tmp_path.resolve()
    assert run.data_dir == (tmp_path / "data").resolve()
    assert str(run.planning_date.date()) == "2026-07-01"


def test_relative_folders_are_taken_from_the_project_root(tmp_path: Path) -> None:
    """Kernels run in notebooks/, users type paths from the project root (outputs/demo)."""
    PLANNING_DATE.path(tmp_path).write_text("2026-07-01\n")
    relative = os.path.relpath(tmp_path, PROJECT_ROOT)
    run = notebook_run(environ={"VIGIA_RUN_DIR": relative, "VIGIA_DATA_DIR": relative})
    assert run.out_dir == tmp_path.resolve()

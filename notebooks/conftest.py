"""The notebooks run top to bottom under nbmake on the small demo run, built once per session.

The session's first process makes a scratch folder for the demo run (VIGIA_DEMO_DIR, inherited by
pytest-xdist workers and by every notebook kernel) and drops any VIGIA_RUN_DIR of the caller, so
the notebooks never read a developer's own run. As soon as a process has collected a notebook it
starts building the demo run in the background, while other tests run; the notebooks then find
it ready (pipelines/notebook_run.py serialises builders with a file lock).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from settings.paths import PROJECT_ROOT

RUN_VARIABLES = ("VIGIA_RUN_DIR", "VIGIA_DATA_DIR", "VIGIA_CONFIG")
_created: list[str] = []
_builders: list[subprocess.Popen] = []


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller set the environment up
    for name in RUN_VARIABLES:
        os.environ.pop(name, None)
    folder = tempfile.mkdtemp(prefix="vigia-notebooks-")
    _created.append(folder)
    os.environ["VIGIA_DEMO_DIR"] = folder


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.path.suffix == ".ipynb" for item in session.items):
        _builders.append(subprocess.Popen(
            [sys.executable, "-m", "pipelines.notebook_run"], cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))


def pytest_unconfigure(config: pytest.Config) -> None:
    for builder in _builders:
        if builder.poll() is None:
            builder.terminate()
        builder.wait()
    for folder in _created:
        shutil.rmtree(folder, ignore_errors=True)

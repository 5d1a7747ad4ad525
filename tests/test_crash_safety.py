"""Outputs survive SIGKILL at any moment: each file is the previous complete one or the new one.

A child process rewrites a run's outputs in a loop through the real writers (scores and planning
date, estimates, the quarantine and validation summary, the list log, a list folder), alternating
between two versions of different sizes; the test kills it with SIGKILL at random moments, many
times, and after each kill reads every output back whole: a folder once written is never missing
and never mixes versions. What the kills left behind is removed by the next exclusive claim.
The loop takes about a minute, so it is marked `kill_loop` with the whole-run kills
(`make test-kills`, which `.ci/run` runs after `make test`); the swap test below stays quick.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from models.offpolicy.list_log import read_list_log
from settings import catalog, files

ROOT = Path(__file__).resolve().parent.parent
KILLS = 24
SIZES = (60_000, 90_000)  # rows of scores.csv in the two alternating versions

WRITER = """
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cleaning.quality import write_summary
from models.offpolicy.list_log import append_list_log
from reporting.estimates import write_estimates
from reporting.lists import write_scores
from settings.files import replaced_folder

out, sizes = Path(sys.argv[1]), [int(n) for n in sys.argv[2:]]
print("ready", flush=True)
turn = 0
while True:
    rows = sizes[turn % 2]
    ids = [f"W{i:07d}" for i in range(rows)]
    write_scores(pd.DataFrame({"workplace_id": ids, "score": np.linspace(1, 0, rows)}),
                 pd.Timestamp("2026-01-01"), out)
    write_estimates({"rows": rows, "pad": "x" * rows * 20}, out)
    write_summary({"reference_date": "2026-01-01", "tables": {}, "rule_meanings": {},
                   "rows": rows}, out)
    append_list_log(out / "list_log.parquet", pd.DataFrame({
        "planning_date": pd.Timestamp("2026-01-01"), "office": f"{turn % 7:02d}",
        "workplace_id": ids[:500], "establishments": ids[:500], "selection": "modelo",
        "selection_probability": 1.0, "period_end": pd.Timestamp("2026-07-01"),
        "model_version": str(turn)}))
    with replaced_folder(out / "lista") as staging:
        for name in ("a.csv", "b.csv", "c.csv"):
            pd.DataFrame({"workplace_id": ids}).to_csv(staging / name, index=False)
    turn += 1
"""


def _kill_at_random(out: Path, rng: random.Random) -> None:
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(out), *map(str, SIZES)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 1.2))
    assert child.poll() is None, "the writer stopped before the kill: it failed, see stderr"
    child.send_signal(signal.SIGKILL)
    child.wait()


def _assert_whole(out: Path, folder_seen: bool) -> bool:
    """Every output whole; returns whether the list folder exists (once written, it must)."""
    folder = out / "lista"
    assert folder.exists() or not folder_seen, "the list folder vanished"
    if folder.exists():
        lengths = {len(pd.read_csv(folder / name)) for name in ("a.csv", "b.csv", "c.csv")}
        assert len(lengths) == 1 and lengths <= set(SIZES), lengths
    _assert_files_whole(out)
    return folder.exists()


def _assert_files_whole(out: Path) -> None:
    scores_path = catalog.SCORES.path(out)
    if not scores_path.exists():  # killed before the first write finished
        return
    scores = pd.read_csv(scores_path)
    assert len(scores) in SIZES and scores["rank"].tolist() == list(range(1, len(scores) + 1))
    assert catalog.PLANNING_DATE.path(out).read_text() == "2026-01-01\n"
    if catalog.ESTIMATES.path(out).exists():
        estimates = json.loads(catalog.ESTIMATES.path(out).read_text(encoding="utf-8"))
        assert estimates["rows"] in SIZES and len(estimates["pad"]) == 20 * estimates["rows"]
    if catalog.VALIDATION_JSON.path(out).exists():
        summary = json.loads(catalog.VALIDATION_JSON.path(out).read_text(encoding="utf-8"))
        assert summary["rows"] in SIZES
    if (out / "list_log.parquet").exists():
        log = read_list_log(out / "list_log.parquet")
        assert len(log) % 500 == 0 and log.groupby("office").size().eq(500).all()


@pytest.mark.kill_loop
def test_outputs_are_old_or_new_whole_after_any_number_of_sigkills(tmp_path: Path) -> None:
    rng = random.Random(20261205)
    out = tmp_path / "out"
    folder_seen = False
    for _ in range(KILLS):
        _kill_at_random(out, rng)
        folder_seen = _assert_whole(out, folder_seen)
    assert catalog.SCORES.path(out).exists(), "no kill let a whole version through"
    assert folder_seen, "no kill let a whole list folder through"
    left = files.stale(out)
    with files.claimed(out, shared=False):
        assert not files.stale(out)
    assert left, "no kill landed mid-write: the test did not test the cleanup"


def test_a_folder_is_swapped_whole_or_left_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "lista"
    with files.replaced_folder(folder) as staging:
        (staging / "old.txt").write_text("old")
    try:
        with files.replaced_folder(folder) as staging:
            (staging / "new.txt").write_text("new")
            raise RuntimeError("writer failed")
    except RuntimeError:
        pass
    assert [p.name for p in folder.iterdir()] == ["old.txt"]
    with files.replaced_folder(folder) as staging:
        (staging / "new.txt").write_text("new")
    assert [p.name for p in folder.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["lista"]

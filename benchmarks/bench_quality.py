"""Time and peak memory of the quality gate on synthetic canonical worlds (50k and 500k workplaces).

Run: `.venv/bin/python -m benchmarks.bench_quality [--sizes 50000 500000]`. The inputs come from a
simple vectorised generator of valid rows (not the demo world: only shape and size matter here),
with 0.5% of rows broken so the quarantine path is exercised too. Peak memory is the process's
ru_maxrss (includes the ~0.5 GB of imported libraries); run one size per process for a clean peak.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from cleaning.contract import (
    CHANNELS,
    FL_INDICATORS,
    LABOUR_REGIMES,
    ORIGINS,
    RUC_WEIGHTS,
    SIZE_BANDS,
    SUBJECTS,
    TEAMS,
    TOPICS,
    load_districts,
)

REFERENCE_DATE = date(2026, 6, 30)
BROKEN_SHARE = 0.005


def _rucs(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid RUCs with prefix 20, check digit computed vectorised."""
    body = rng.choice(10**8, size=n, replace=False)
    digits = np.column_stack([np.full(n, 2), np.zeros(n, int)]
                             + [(body // 10**k) % 10 for k in range(7, -1, -1)])
    r = 11 - (digits @ RUC_WEIGHTS) % 11
    check = np.where(r == 10, 0, np.where(r == 11, 1, r))
    return np.array(["".join(map(str, row)) for row in np.column_stack([digits, check])])


def _codes(rng: np.random.Generator, codes: tuple[str, ...], n: int) -> np.ndarray:
    """List values: none, one or two codes joined by ';'."""
    first = rng.choice(codes, n)
    second = rng.choice(codes, n)
    count = rng.integers(0, 3, n)
    return np.where(count == 0, "", np.where(count == 1, first,
                                             np.char.add(np.char.add(first, ";"), second)))


def _dates(rng: np.random.Generator, n: int, start: str = "2018-07-01", days: int = 2900):
    return pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")


def synthetic_world(n_workplaces: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Valid canonical tables (~0.8 inspections and ~0.8 complaints per workplace), 0.5% broken."""
    rng = np.random.default_rng(seed)
    rucs = _rucs(rng, n_workplaces)
    ids = np.char.add(rucs, "-0000")
    ubigeos = load_districts()["inei"].to_numpy()
    workplaces = pd.DataFrame({
        "workplace_id": ids, "ruc": rucs, "name": "EMPRESA S.A.C.",
        "ciiu": rng.choice(["0729", "0220", "1410", "5610", "4100"], n_workplaces),
        "ubigeo": rng.choice(ubigeos, n_workplaces),
        "size_band": rng.choice(SIZE_BANDS, n_workplaces),
        "declared_workers": rng.integers(0, 500, n_workplaces),
        "activity_start": _dates(rng, n_workplaces, "2000-01-01", 6000).strftime("%Y-%m-%d"),
        "labour_regime": rng.choice(LABOUR_REGIMES, n_workplaces),
        "contractor_of": np.where(rng.random(n_workplaces) < 0.05,
                                  rng.choice(rucs, n_workplaces), ""),
    })
    n_insp = int(0.8 * n_workplaces)
    ordered = _dates(rng, n_insp)
    closed = ordered + pd.to_timedelta(rng.integers(0, 200, n_insp), unit="D")
    inspections = pd.DataFrame({
        "inspection_id": [f"OI-{i:08d}" for i in range(n_insp)],
        "workplace_id": rng.choice(ids, n_insp),
        "ordered_on": ordered.strftime("%Y-%m-%d"),
        "closed_on": np.where(rng.random(n_insp) < 0.1, "", closed.strftime("%Y-%m-%d")),
        "origin": rng.choice(ORIGINS, n_insp), "team": rng.choice(TEAMS, n_insp),
        "subjects": _codes(rng, SUBJECTS, n_insp),
        "workers_covered": rng.integers(0, 300, n_insp),
        "infraction_found": rng.choice(["true", "false"], n_insp),
        "fl_indicators": _codes(rng, FL_INDICATORS, n_insp),
        "forced_labour_found": rng.choice(["true", "false"], n_insp, p=[0.01, 0.99]),
        "child_labour_found": rng.choice(["true", "false"], n_insp, p=[0.01, 0.99]),
        "victims_identified": rng.integers(0, 3, n_insp),
        "fine_uit": rng.gamma(1.0, 2.0, n_insp).round(2),
    })
    n_comp = int(0.8 * n_workplaces)
    complaints = pd.DataFrame({
        "complaint_id": [f"D-{i:08d}" for i in range(n_comp)],
        "workplace_id": rng.choice(ids, n_comp),
        "received_on": _dates(rng, n_comp).strftime("%Y-%m-%d"),
        "channel": rng.choice(CHANNELS, n_comp), "topics": _codes(rng, TOPICS, n_comp),
        "anonymous": rng.choice(["true", "false"], n_comp),
        "complainant_name": "NOMBRE APELLIDO", "complainant_doc": "00000000",
    })
    for frame, column, bad in ((workplaces, "ubigeo", "999999"),
                               (inspections, "fine_uit", -1.0),
                               (complaints, "channel", "fax")):
        rows = rng.choice(len(frame), int(BROKEN_SHARE * len(frame)), replace=False)
        frame[column] = frame[column].astype(object)
        frame.loc[rows, column] = bad
    return {"workplaces": workplaces, "inspections": inspections, "complaints": complaints}


def measure(n_workplaces: int) -> dict[str, float]:
    """Write a synthetic world, run the gate on it, return seconds and peak RSS."""
    from pipelines.quality import run_quality_gate

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        for table, frame in synthetic_world(n_workplaces).items():
            frame.to_csv(data / f"{table}.csv", index=False)
        start = time.perf_counter()
        result = run_quality_gate(data, Path(folder) / "out", {}, REFERENCE_DATE)
        seconds = time.perf_counter() - start
    rows = result.accounting
    return {
        "workplaces": n_workplaces,
        "rows_in": int(rows["rows_in"].sum()),
        "rows_quarantined": int(rows["rows_quarantined"].sum()),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> None:
    """Print one line of figures per world size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 500_000])
    args = parser.parse_args(argv)
    import great_expectations  # noqa: F401  (import time is not the gate's time)

    for size in args.sizes:
        print(measure(size), flush=True)


if __name__ == "__main__":
    main()

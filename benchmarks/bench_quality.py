"""Time and peak memory of the quality gate on synthetic canonical worlds (50k and 500k workplaces).

Run: `.venv/bin/python -m benchmarks.bench_quality [--sizes 50000 500000]`. The inputs are the
demo world at that size (the one world builder of tests and benchmarks) with 0.5% of rows
broken, so the quarantine path is exercised too. Peak memory is the process's
ru_maxrss (includes the ~0.5 GB of imported libraries); run one size per process for a clean peak.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from demo_world.generate import generate_world
from demo_world.writing import write_world
from settings.loader import load_config

REFERENCE_DATE = date(2026, 6, 30)
BROKEN_SHARE = 0.005


def measure(n_workplaces: int) -> dict[str, float]:
    """Write a demo world, run the gate on it, return seconds and peak RSS."""
    from cleaning.quality import run_quality_gate

    config = load_config()
    world = generate_world(n_workplaces, config.demo_world.seed, config.demo_world.start,
                           config.demo_world.end, defect_share=BROKEN_SHARE)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        write_world(world, data)
        start = time.perf_counter()
        result = run_quality_gate(data, Path(folder) / "out", config, REFERENCE_DATE)
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

"""Only evaluation code may read the demo world's hidden truth: no pipeline, feature or model module opens it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARDED_PACKAGES = ("pipelines", "features", "models")
TRUTH_REFERENCE = re.compile(r"""["'/]truth\b|\btruth_dir\b|\bevaluation\b|load_truth""")


def _python_files() -> list[Path]:
    return [p for pkg in GUARDED_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def test_guarded_packages_exist() -> None:
    assert len(_python_files()) >= 5


def test_no_pipeline_module_references_truth() -> None:
    offenders = []
    for path in _python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if TRUTH_REFERENCE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "modules outside evaluation/ refer to the hidden truth:\n" + "\n".join(
        offenders
    )

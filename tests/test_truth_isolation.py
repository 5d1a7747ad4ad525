"""Only evaluation code may read the hidden truth: no pipeline, feature or model module opens it.

This static check covers every module; the end-to-end test also audits, at run time, every file a
real `vigia run` opens.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every package but `evaluation/` (which reads the truth), `demo_world/` (which writes it) and
# `cli/` (which only dispatches to both); `vigia run` is also audited at run time by the
# end-to-end test.
GUARDED_PACKAGES = ("pipelines", "cleaning", "features", "models", "settings", "reporting")


def _python_files() -> list[Path]:
    return [p for pkg in GUARDED_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""]
            found += [f"imports {n}" for n in names if n.split(".")[0] in {"evaluation",
                                                                            "demo_world"}]
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings and "truth" in node.value.lower()):
            found.append(f"string {node.value!r}")
    return [f"{path.relative_to(root)}:{o}" for o in found]


def test_guarded_packages_exist() -> None:
    assert len(_python_files()) >= 10


def test_no_pipeline_module_reaches_for_the_truth() -> None:
    offences = [o for path in _python_files() for o in _offences(path)]
    assert not offences, "modules outside evaluation/ reach for the hidden truth:\n" + "\n".join(
        offences
    )


def test_the_check_catches_an_offence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""Docstrings may mention the truth."""\nimport evaluation.truth\n'
                   'open("data/truth/fl_spells.csv")\n')
    assert len(_offences(bad, tmp_path)) == 2

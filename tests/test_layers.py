"""The package layout holds: who may import whom, and functions short enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
SHORT_FUNCTION_PACKAGES = ("pipelines", "cleaning", "features", "models", "evaluation",
                           "reporting", "settings")
# Packages each package must not import (the stages below the flows know nothing of them).
FORBIDDEN_IMPORTS = {
    "evaluation": {"pipelines", "cli"},
    # reporting draws what features/ and models/ computed; pipelines and evaluation use it
    "reporting": {"pipelines", "evaluation", "demo_world", "cli"},
    "settings": {"pipelines", "cleaning", "features", "models", "evaluation", "demo_world", "cli"},
    "cleaning": {"pipelines", "models", "evaluation", "demo_world", "cli"},
    "features": {"pipelines", "models", "evaluation", "demo_world", "cli"},
    "models": {"pipelines", "evaluation", "demo_world", "cli"},
    "pipelines": {"evaluation", "demo_world", "cli"},
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (length := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES]


@pytest.mark.parametrize("package", sorted(FORBIDDEN_IMPORTS))
def test_packages_import_only_what_their_layer_may(package: str) -> None:
    offences = [f"{path.relative_to(ROOT)} imports {name}" for path in _modules(package)
                for name in sorted(_imported_packages(path) & FORBIDDEN_IMPORTS[package])]
    assert not offences, "\n".join(offences)


def test_no_function_is_longer_than_sixty_lines() -> None:
    offences = [o for package in SHORT_FUNCTION_PACKAGES for path in _modules(package)
                for o in long_functions(path)]
    assert not offences, "functions over 60 lines:\n" + "\n".join(offences)


def test_the_length_check_catches_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    module = tmp_path / "long.py"
    module.write_text(f"def too_long():\n{body}\n", encoding="utf-8")
    assert long_functions(module, tmp_path) == ["long.py:1 too_long (61 lines)"]

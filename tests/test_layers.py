"""The package layout holds: who may import whom, and functions short enough to read at once
that take few enough parameters to call without a list at hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
# Parameters that travel together go in a frozen dataclass named for what they are.
MAX_PARAMETERS = 8
SHORT_FUNCTION_PACKAGES = ("pipelines", "cleaning", "features", "models", "evaluation",
                           "reporting", "settings", "demo_world", "cli", "benchmarks")
# Packages each package must not import (the stages below the flows know nothing of them).
FORBIDDEN_IMPORTS = {
    "settings": {"pipelines", "cleaning", "features", "models", "reporting", "evaluation",
                 "demo_world", "cli"},
    "cleaning": {"pipelines", "features", "models", "reporting", "evaluation", "demo_world",
                 "cli"},
    "features": {"pipelines", "models", "reporting", "evaluation", "demo_world", "cli"},
    # models compute; reporting writes what they computed
    "models": {"pipelines", "reporting", "evaluation", "demo_world", "cli"},
    # reporting draws what features/ and models/ computed; pipelines and evaluation use it
    "reporting": {"pipelines", "evaluation", "demo_world", "cli"},
    "pipelines": {"evaluation", "demo_world", "cli"},
    "evaluation": {"pipelines", "cli"},
    # the simulated inspectorate may follow Vigía-style lists (MODELS_THE_DEMO_WORLD_MAY_USE),
    # nothing else of the pipeline: a world shaped by the model would flatter it
    "demo_world": {"pipelines", "features", "reporting", "evaluation", "cli"},
}
MODELS_THE_DEMO_WORLD_MAY_USE = {"models.targeting.lists", "models.offpolicy.list_log"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _imported_packages(path: Path) -> set[str]:
    return {module.split(".")[0] for module in _imported_modules(path)}


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (length := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES]


def many_parameters(path: Path, root: Path = ROOT) -> list[str]:
    """Functions with more than MAX_PARAMETERS parameters (positional, keyword-only, *args,
    **kwargs; not self or cls)."""
    offences = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        names = [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                 arguments.vararg, arguments.kwarg] if a is not None]
        count = len([name for name in names if name not in ("self", "cls")])
        if count > MAX_PARAMETERS:
            offences.append(f"{path.relative_to(root)}:{node.lineno} {node.name} "
                            f"({count} parameters)")
    return offences


@pytest.mark.parametrize("package", sorted(FORBIDDEN_IMPORTS))
def test_packages_import_only_what_their_layer_may(package: str) -> None:
    offences = [f"{path.relative_to(ROOT)} imports {name}" for path in _modules(package)
                for name in sorted(_imported_packages(path) & FORBIDDEN_IMPORTS[package])]
    assert not offences, "\n".join(offences)


def test_the_demo_world_uses_only_the_listing_rules_of_models() -> None:
    offences = [f"{path.relative_to(ROOT)} imports {module}" for path in _modules("demo_world")
                for module in sorted(_imported_modules(path))
                if module.split(".")[0] == "models" and module not in MODELS_THE_DEMO_WORLD_MAY_USE]
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


def test_no_function_takes_more_than_eight_parameters() -> None:
    offences = [o for package in SHORT_FUNCTION_PACKAGES for path in _modules(package)
                for o in many_parameters(path)]
    assert not offences, "functions over 8 parameters:\n" + "\n".join(offences)


def test_the_parameter_check_catches_a_function_with_nine(tmp_path: Path) -> None:
    module = tmp_path / "wide.py"
    module.write_text("class Plan:\n"
                      "    def fits(self, a, b, c, d, e, f, g, h):\n        pass\n\n"
                      "    def wide(self, a, b, /, c, *d, e, f=1, **g):\n        pass\n\n\n"
                      "def wider(a, b, c, d, e, f, g, h, *, i):\n    pass\n", encoding="utf-8")
    assert many_parameters(module, tmp_path) == ["wide.py:9 wider (9 parameters)"]

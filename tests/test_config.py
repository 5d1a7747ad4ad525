"""Typed configuration: values only in the YAML; unknown keys and wrong types name the file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel

from settings import schema
from settings.loader import DEFAULT_CONFIG, ConfigError, load_config, with_overrides


def _sections() -> list[type[BaseModel]]:
    return [value for value in vars(schema).values()
            if isinstance(value, type) and issubclass(value, schema.Section)
            and value is not schema.Section]


def test_no_field_has_a_default_in_code() -> None:
    """Every value comes from config/default.yaml: a default here could disagree with it."""
    with_defaults = [f"{section.__name__}.{name}" for section in _sections()
                     for name, field in section.model_fields.items() if not field.is_required()]
    assert with_defaults == []


ROOT = Path(__file__).resolve().parent.parent
STAGE_PACKAGES = ("cleaning", "features", "models", "evaluation", "reporting", "pipelines",
                  "demo_world")
# Parameters that share a name with a config key but are not that key.
NOT_CONFIG_KEYS = {
    ("features/catalog.py", "_spec", "kind"),  # a feature's kind, not labels.kind
    ("features/catalog.py", "_spec", "monotonic"),  # a feature's direction, not the model's
    ("reporting/plots.py", "plot_audit", "metric"),  # an audit column, not promotion.metric
}


def _config_keys(tree: object) -> set[str]:
    if not isinstance(tree, dict):
        return set()
    return set(tree) | {key for value in tree.values() for key in _config_keys(value)}


def _defaulted_parameters(path: Path) -> list[tuple[str, str, str]]:
    """(file, function, parameter) of every parameter with a default other than None."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            positional = arguments.args[len(arguments.args) - len(arguments.defaults):]
            pairs = [*zip(positional, arguments.defaults, strict=True),
                     *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)]
            found += [(path.relative_to(ROOT).as_posix(), node.name, argument.arg)
                      for argument, default in pairs if default is not None
                      and not (isinstance(default, ast.Constant) and default.value is None)]
    return found


def test_no_config_key_has_a_default_in_the_code() -> None:
    """A function default named like a config key (seed, confidence, bins, ...) could disagree
    with config/default.yaml; the value must come from the caller, who has the config."""
    keys = _config_keys(load_config().model_dump())
    offences = [found for package in STAGE_PACKAGES for path in sorted((ROOT / package).rglob(
        "*.py")) for found in _defaulted_parameters(path)
        if found[2] in keys and found not in NOT_CONFIG_KEYS]
    assert offences == []


def test_the_shipped_files_load_frozen() -> None:
    config = load_config()
    assert config.splits.max_training_as_of_dates == 20
    assert config.lists.total_capacity > 0 and "ILM" in config.lists.offices
    with pytest.raises(Exception, match="frozen"):
        config.splits.test_splits = 1  # type: ignore[misc]
    assert load_config(DEFAULT_CONFIG.parent / "demo_small.yaml").splits.test_splits == 3


@pytest.mark.parametrize("text, message", [
    ("splits: {test_splits: 2, bogus: 1}\n", "splits.bogus: unknown key"),
    ("typo_section: {a: 1}\n", "typo_section: unknown key"),
    ("splits: {test_splits: six}\n", "splits.test_splits: Input should be a valid integer"),
    ("drift: {retrain_on_drift: 1}\n", "drift.retrain_on_drift: Input should be a valid boolean"),
    ("reasons: {complaints: exact}\n", "reasons.complaints: Input should be 'coarse' or 'none'"),
    ("lists: {offices: {ILM: {capacity: many}}}\n", "lists.offices.ILM.capacity: Input should"),
])
def test_unknown_keys_and_wrong_types_name_the_key_and_the_file(tmp_path: Path, text: str,
                                                                message: str) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: {message}")
    assert "\n" not in str(raised.value)


def test_a_renamed_key_is_refused_not_ignored(tmp_path: Path) -> None:
    """`splits.training_as_of_dates` became `max_training_as_of_dates`: an old file says so."""
    path = tmp_path / "old.yaml"
    path.write_text("splits: {training_as_of_dates: 4}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="splits.training_as_of_dates: unknown key"):
        load_config(path)


def test_overrides_are_validated_like_a_file() -> None:
    config = with_overrides(load_config(), {"splits": {"test_splits": 2}})
    assert config.splits.test_splits == 2 and config.splits.burn_in_months == 24
    with pytest.raises(ConfigError, match="splits.test_splits"):
        with_overrides(config, {"splits": {"test_splits": "2"}})

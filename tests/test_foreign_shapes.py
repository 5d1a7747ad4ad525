"""Real exports do not look like the demo world: small worlds of foreign shapes, run end to end.

Each world is the demo world's output (demo_world.generate) transformed into a shape a real
export has: a short history, no complaints, one region, same-day closures, no recent positives,
an all-missing feature column, ids that lost their leading zeros, unseen CIIU classes and
districts at scoring time, timestamps where dates are expected, a registry history. Shapes that
do not hide each other share a world (a module fixture) to keep the module fast; each world runs
through `vigia run` (in process, so Prefect starts once) with a trimmed grid. The module is one
file, so `--dist loadfile` keeps it on one worker.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cleaning.contract import load_districts
from cli.main import main as cli_main
from demo_world.generate import generate_world

pytestmark = pytest.mark.whole_runs

ROOT = Path(__file__).resolve().parent.parent
END = pd.Timestamp("2026-06-30")
TINY_GRID = {
    "model": {
        "families": {
            "logistic_regression": {"C": [0.5]},
            "hist_gradient_boosting": {"learning_rate": [0.1], "max_iter": [30],
                                       "max_leaf_nodes": [7], "min_samples_leaf": [20],
                                       "l2_regularization": [1.0]},
            "random_forest": {"n_estimators": [20], "max_depth": [4], "min_samples_leaf": [20]},
        },
        "metrics": {"bootstrap_samples": 20},
    },
    "splits": {"test_splits": 2},
    "explain": {"background_rows": 200},
}


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    generated = generate_world(n_workplaces=2500, seed=11, start="2018-07-01", end=str(END.date()),
                               defect_share=0.0)
    return {name: getattr(generated, name) for name in ("workplaces", "inspections", "complaints")}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("foreign")


def _config(root: Path, **extra: dict) -> Path:
    """The tiny grid, small office capacities, a private MLflow store; `extra` merged on top."""
    offices = yaml.safe_load((ROOT / "config" / "offices.yaml").read_text(encoding="utf-8"))
    offices["specialized_team"]["capacity"] = 5
    for office in offices["offices"].values():
        office["capacity"] = 3
    offices_path = root / "offices.yaml"
    offices_path.write_text(yaml.safe_dump(offices, allow_unicode=True), encoding="utf-8")
    config = copy.deepcopy(TINY_GRID) | {
        "lists": {"offices_file": str(offices_path)},
        "mlflow": {"tracking_uri": f"sqlite:///{root}/mlruns/mlflow.db",
                   "artifact_location": str(root / "mlruns" / "artifacts")},
    }
    config.update(extra)
    path = root / f"config_{len(list(root.glob('config_*')))}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _run(root: Path, name: str, tables: dict[str, pd.DataFrame], **extra: dict) -> Path:
    data, out = root / name / "data", root / name / "out"
    data.mkdir(parents=True)
    for table, frame in tables.items():
        frame.to_csv(data / f"{table}.csv", index=False, encoding="utf-8", lineterminator="\n")
    code = cli_main(["run", "--data", str(data), "--out", str(out),
                     "--config", str(_config(root / name, **extra))])
    assert code == 0
    return out


def _report(out: Path) -> str:
    return (out / "run_report.md").read_text(encoding="utf-8")


def _quarantined(out: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(out / "quarantine" / f"{table}.csv", dtype=str)


@pytest.fixture(scope="module")
def short_one_region(world, root) -> dict:
    """Three years of history, dates written as timestamps, every inspection closed the day it
    was ordered; every workplace in one department (Lima's districts), and those never inspected
    carry a CIIU class and a district no training row has."""
    tables = copy.deepcopy(world)
    start = END - pd.DateOffset(years=3) + pd.Timedelta(days=1)
    ins = tables["inspections"]
    ins = ins[pd.to_datetime(ins["ordered_on"]) >= start].copy()
    ins["closed_on"] = ins["ordered_on"].where(ins["closed_on"].notna())
    ins["ordered_on"] = ins["ordered_on"] + " 00:00:00"
    ins["closed_on"] = ins["closed_on"] + "T16:45:00"
    com = tables["complaints"]
    tables["complaints"] = com[pd.to_datetime(com["received_on"]) >= start]
    tables["inspections"] = ins
    wp = tables["workplaces"]
    districts = load_districts()
    lima = sorted(districts.loc[districts["inei"].str.startswith("15"), "inei"])
    wp["ubigeo"] = [lima[i % (len(lima) - 1)] for i in range(len(wp))]
    unseen = ~wp["workplace_id"].isin(set(ins["workplace_id"]))
    wp.loc[unseen, "ciiu"] = "0510"
    wp.loc[unseen, "ubigeo"] = lima[-1]
    out = _run(root, "short_one_region", tables,
               splits={"test_splits": 4, "max_training_as_of_dates": 8})
    return {"out": out, "workplaces": wp, "unseen": wp.loc[unseen, "workplace_id"]}


def test_short_history_with_timestamps_and_same_day_closures(short_one_region, world) -> None:
    """The plan shrinks and says so, no date is quarantined."""
    out = short_one_region["out"]
    report = _report(out)
    assert "Split plan shrunk to fit the history: test_splits 4 -> 2" in report
    rules = ";".join(_quarantined(out, "inspections")["rule"])
    assert "bad_type" not in rules and "date_order" not in rules
    scored = len(pd.read_csv(out / "scores.csv"))
    assert scored + len(_quarantined(out, "workplaces")) == len(world["workplaces"])


def test_one_region_with_unseen_classes_and_districts_at_scoring(short_one_region) -> None:
    """Workplaces of a class and a district no training row has are scored like the others."""
    out, wp = short_one_region["out"], short_one_region["workplaces"]
    assert "department_code (one category)" in _report(out)
    scores = pd.read_csv(out / "scores.csv", dtype={"workplace_id": str})
    quarantined = set(_quarantined(out, "workplaces")["workplace_id"])
    assert set(scores["workplace_id"]) == set(wp["workplace_id"]) - quarantined
    assert scores["workplace_id"].isin(short_one_region["unseen"]).sum() > 100
    assert np.isfinite(scores["score"]).all()


def test_no_complaints_and_ubigeo_without_leading_zeros(world, root) -> None:
    """A source without complaints (header only) and a spreadsheet that dropped the leading
    zeros of UBIGEO codes, restored by the mapping; complaint features are dropped as all
    missing or constant, HistGradientBoosting included."""
    tables = copy.deepcopy(world)
    tables["complaints"] = tables["complaints"].iloc[0:0]
    tables["workplaces"]["ubigeo"] = tables["workplaces"]["ubigeo"].str.lstrip("0")
    stripped = tables["workplaces"]["ubigeo"].str.len().lt(6).sum()
    assert stripped > 100
    mapping = root / "zeros.yaml"
    mapping.write_text(yaml.safe_dump({"tables": {"workplaces": {"zero_pad": {"ubigeo": 6}}}}))
    out = _run(root, "no_complaints", tables, data={"mapping": str(mapping)})
    report = _report(out)
    assert "No complaints in the input" in report
    assert "days_since_last_complaint (all missing)" in report
    # Restored by the mapping: only the demo world's own few defective rows stay quarantined.
    rules = _quarantined(out, "workplaces")["rule"]
    assert rules.str.contains("unknown_ubigeo").sum() < 5
    training = pd.read_csv(out / "backtest" / "training.csv")
    assert training["dropped_columns"].str.contains("complaints_3y").all()
    assert training["model_group"].str.startswith("hist_gradient_boosting").any()


@pytest.fixture(scope="module")
def registry_without_recent_positives(world, root) -> dict:
    """No forced labour found in inspections ordered in the last 15 months, and a registry
    history (`registry_periods`): each closed inspection starts a period the day after, and two
    broken rows follow them."""
    tables = copy.deepcopy(world)
    ins = tables["inspections"]
    recent = pd.to_datetime(ins["ordered_on"]) >= pd.Timestamp("2025-04-01")
    ins.loc[recent, "forced_labour_found"] = "false"
    ins.loc[recent, "fl_indicators"] = ""
    ins.loc[recent, "victims_identified"] = "0"
    closed = ins.dropna(subset=["closed_on"])
    period = (pd.to_datetime(closed["closed_on"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    periods = pd.DataFrame({"workplace_id": closed["workplace_id"].to_numpy(),
                            "period": period.to_numpy(),
                            "declared_workers": closed["workers_covered"].to_numpy(),
                            "size_band": "pequena"}).drop_duplicates(["workplace_id", "period"])
    broken = pd.DataFrame({"workplace_id": ["20999999999-0000", periods["workplace_id"].iloc[0]],
                           "period": ["2020-01-01", "2020-01-02"],
                           "declared_workers": ["4", "-1"], "size_band": ["micro", "micro"]})
    tables["registry_periods"] = pd.concat([periods, broken], ignore_index=True)
    out = _run(root, "registry_no_recent_positives", tables)
    return {"out": out, "periods": len(periods)}


def test_no_recent_positives(registry_without_recent_positives) -> None:
    """The test windows have no positives, their precision is zero or undefined, the run still
    writes its lists (the planning model learns from the older positives)."""
    out = registry_without_recent_positives["out"]
    metrics = pd.read_csv(out / "backtest" / "metrics.csv")
    precision = metrics.loc[metrics["metric"] == "precision_at_capacity", "value"]
    assert len(precision) and (precision.fillna(0) == 0).all()
    assert next(out.glob("lista_*/lista_priorizada.csv")).exists()


def test_registry_history_is_read_as_of_each_date(registry_without_recent_positives) -> None:
    """The two broken rows are quarantined with their rule and the run says the registry
    fields are as of each date."""
    out, periods = (registry_without_recent_positives[key] for key in ("out", "periods"))
    assert "declared_workers, size_band_ordinal are as of each date, from registry_periods" in (
        _report(out))
    # besides the two broken rows, only periods of the world's own quarantined workplaces
    quarantined = _quarantined(out, "registry_periods").set_index("source_row")["rule"]
    assert quarantined.loc[[str(periods + 1), str(periods + 2)]].tolist() == [
        "orphan_workplace", "negative_value"]
    assert set(quarantined.iloc[:-2]) <= {"quarantined_workplace"}
    summary = yaml.safe_load((out / "validation_summary.json").read_text(encoding="utf-8"))
    accounting = summary["tables"]["registry_periods"]
    assert accounting["rows_in"] == periods + 2
    assert accounting["rows_clean"] + accounting["rows_quarantined"] == periods + 2

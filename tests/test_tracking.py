"""MLflow round trip in a tmp store: log, register, alias, load the champion, same scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import model_section

from models.metrics import calibration_table, score_table
from models.selection.promotion import PromotionDecision
from models.training.calibration import fit_calibrated, underlying_pipeline
from models.training.candidates import build_candidates
from pipelines import tracking
from reporting.plots import plot_calibration
from settings.loader import with_overrides

GRID = model_section({"hist_gradient_boosting": {"max_iter": [20], "max_leaf_nodes": [7]},
                      "logistic_regression": {"C": [1.0]}}, seed=3)


def small_frame(seed: int = 0, n: int = 400, dates: int = 2):
    """Stacked rows for two as-of dates: two numerics, one categorical, NaN labels."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "infractions_all": rng.poisson(0.6, n * dates).astype(float),
        "district_poverty_pct": rng.uniform(0, 60, n * dates),
        "ciiu_division": pd.array(rng.choice(["01", "07", "47"], n * dates), dtype="str"),
    }, index=pd.Index([f"W{i % n:04d}" for i in range(n * dates)], name="workplace_id"))
    risk = -3 + 1.2 * X["infractions_all"].to_numpy()
    y = np.where(rng.random(n * dates) < 0.5,
                 (rng.random(n * dates) < 1 / (1 + np.exp(-risk))).astype(float), np.nan)
    as_of = np.repeat(pd.to_datetime(["2024-01-01", "2024-04-01"]), n)
    return X, y, as_of


@pytest.fixture()
def config(shipped_config):
    return with_overrides(shipped_config, {"mlflow": {
        "tracking_uri": "sqlite:///mlruns/mlflow.db", "artifact_location": "mlruns/artifacts",
        "experiment": "vigia-test", "registered_model": "vigia-risk-test"}})


def test_store_paths_resolve_against_the_given_root(tmp_path: Path, config) -> None:
    uri, artifacts = tracking.resolve_store(config.mlflow, tmp_path)
    assert uri == f"sqlite:///{tmp_path.resolve()}/mlruns/mlflow.db"
    assert artifacts == (tmp_path / "mlruns" / "artifacts").resolve().as_uri()


def test_round_trip_register_promote_and_load_champion(calibration: dict, tmp_path: Path,
                                                       config) -> None:
    X, y, as_of = small_frame()
    inputs = tmp_path / "workplaces.csv"
    inputs.write_text("workplace_id\nW0001\n", encoding="utf-8")
    models = build_candidates(GRID, X.dtypes, {})
    newest = X.iloc[-400:]
    versions = {}
    with tracking.pipeline_run(config.mlflow, "test run", [inputs], root=tmp_path,
                               params={"model": GRID.model_dump()}) as parent:
        for name, pipeline in models.items():
            trained = fit_calibrated(pipeline, X, y, as_of, **{**calibration, "min_positives": 1,
                                                              "calibration_as_of_dates": 1})
            assert trained.calibrated
            with tracking.child_run(name, "2024-04-01", {"note": trained.note}):
                scores = pd.Series(trained.model.predict_proba(newest)[:, 1], index=newest.index)
                labels = pd.Series(y[-400:], index=newest.index)
                tracking.log_metric_table(score_table(
                    labels, scores, 50, top_percents=[1], n_bootstrap=20, seed=0, confidence=0.9))
                tracking.log_figure(plot_calibration(calibration_table(labels, scores, 5)),
                                    "calibration.png")
                versions[name] = (tracking.log_and_register_model(
                    trained.model, newest, config.mlflow, tags={"model_group": name}
                ), trained.model)
    first_name, second_name = list(versions)
    first_version, first_model = versions[first_name]
    second_version, _ = versions[second_name]
    tracking.apply_promotion(config.mlflow, first_version, PromotionDecision(True, "first"))
    tracking.apply_promotion(config.mlflow, second_version, PromotionDecision(False, "worse"))

    loaded, info = tracking.load_champion(config, root=tmp_path)
    assert info.version == str(first_version.version) and info.tags["model_group"] == first_name
    assert info.tags["promotion_reason"] == "first"
    np.testing.assert_array_equal(loaded.predict_proba(newest), first_model.predict_proba(newest))
    assert underlying_pipeline(loaded)[:-1].get_feature_names_out() is not None
    assert tracking.alias_version(config.mlflow, "challenger").version == second_version.version

    import mlflow

    run = mlflow.get_run(parent.info.run_id)
    assert run.data.tags["git_commit"]
    assert run.data.tags["input_sha256.workplaces.csv"] == tracking.file_sha256(inputs)
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 2
    assert "metrics.precision_at_capacity" in children.columns

    tracking.apply_promotion(config.mlflow, second_version, PromotionDecision(True, "better"))
    _, info = tracking.load_champion(config, root=tmp_path)
    assert info.version == str(second_version.version)
    assert tracking.alias_version(config.mlflow, "challenger") is None


def test_load_champion_without_one_raises(tmp_path: Path, config) -> None:
    with pytest.raises(LookupError):
        tracking.load_champion(config, root=tmp_path)

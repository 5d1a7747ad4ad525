"""Score drift and the scheduled re-listing: beyond config `drift:` it retrains first, says why."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from support import SHIPPED, tiny_run

from models.monitoring.drift import (
    ListingDrift,
    drift_table,
    listing_drift,
    retraining_reasons,
    score_profile,
)
from pipelines.flow import vigia_retrain, vigia_scheduled_rank
from reporting.drift import drift_check_markdown
from settings.loader import load_config

THRESHOLDS = load_config(None).drift

BINS = SHIPPED.drift.bins


def test_scores_of_the_same_distribution_raise_no_reason() -> None:
    rng = np.random.default_rng(0)
    profile = score_profile(rng.beta(1, 20, 5000), BINS)
    same = pd.DataFrame({"score": rng.beta(1, 20, 3000)})
    assert retraining_reasons(None, drift_table(profile, same), THRESHOLDS) == []


def test_shifted_scores_are_a_reason_to_retrain() -> None:
    rng = np.random.default_rng(0)
    profile = score_profile(rng.beta(1, 20, 5000), BINS)
    shifted = pd.DataFrame({"score": rng.beta(3, 10, 3000)})
    reasons = retraining_reasons(None, drift_table(profile, shifted), THRESHOLDS)
    assert len(reasons) == 1 and reasons[0].startswith("champion's score PSI")


def test_a_listing_drift_keeps_what_was_measured_and_its_check_says_why() -> None:
    rng = np.random.default_rng(0)
    profile = score_profile(rng.beta(1, 20, 5000), BINS)
    scores = pd.DataFrame({"workplace_id": [f"W{i}" for i in range(3000)],
                           "score": rng.beta(3, 10, 3000)})
    drift = listing_drift(None, profile, pd.DataFrame(index=scores["workplace_id"]), scores)
    assert drift.features is None and list(drift.tables()) == ["scores"]
    reasons = drift.reasons(THRESHOLDS)
    check = drift_check_markdown(drift, reasons)
    assert check.startswith("Beyond the `drift:` thresholds: champion's score PSI")
    assert "`scores` (all rows in MLflow `drift/scores.csv`)" in check
    assert drift_check_markdown(ListingDrift(None, None), []) == (
        "Within the `drift:` thresholds.\n\nNot measured: the champion was registered without "
        "planning-date profiles.")


def drift_world(data_dir: Path) -> None:
    """Every workplace now declares fifty times the workers it did: a real shift of the data."""
    path = data_dir / "workplaces.csv"
    workplaces = pd.read_csv(path, dtype=str, keep_default_na=False)
    workplaces["declared_workers"] = (workplaces["declared_workers"].astype(int) * 50 + 50) \
        .astype(str)
    workplaces.to_csv(path, index=False)


def test_scheduled_relisting_retrains_only_when_the_data_drifted(tmp_path: Path) -> None:
    parameters = tiny_run(tmp_path)
    assert vigia_retrain(**parameters, return_state=True).is_completed()

    steady = vigia_scheduled_rank(**parameters)
    assert steady.run is None and steady.retrain_reason is None and steady.list_csv.exists()

    drift_world(Path(parameters["data_dir"]))
    drifted = vigia_scheduled_rank(**parameters)
    reason = drifted.retrain_reason
    assert reason and "declared_workers" in reason, reason
    run = mlflow.get_run(drifted.run.mlflow_run_id)
    assert run.data.tags["retrain_reason"] == reason
    assert reason in drifted.run.run_report.read_text(encoding="utf-8")
    assert "scores.csv" in {Path(a.path).name for a in
                            mlflow.MlflowClient().list_artifacts(run.info.run_id, "drift")}

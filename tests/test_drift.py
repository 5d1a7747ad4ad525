"""Drift against a training profile and the drift check of the promotion gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import SHIPPED

from models.monitoring.drift import DriftProfile, drift_failures, drift_table, feature_profile
from models.selection.gate import drift_check
from models.training.planning import Contender
from settings.loader import load_config

THRESHOLDS = load_config(None).drift

BINS = SHIPPED.drift.bins


def frame(seed: int, n: int = 4000, shift: float = 0.0, missing: float = 0.0,
          sectors: tuple[str, ...] = ("01", "14", "47")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(1.0 + shift, n).astype(float)
    counts[rng.random(n) < missing] = np.nan
    return pd.DataFrame({
        "complaints_3y": counts,
        "workers": rng.lognormal(2.0 + shift, 1.0, n),
        "ciiu_division": pd.Series(rng.choice(sectors, n), dtype=object),
    })


@pytest.fixture(scope="module")
def profile() -> DriftProfile:
    # Round trip through JSON, as `tracking.log_json` stores it and `load_training_profile` reads
    # it back.
    return DriftProfile(json.loads(json.dumps(dict(feature_profile(frame(0), BINS)))))


def test_same_process_does_not_drift(profile: DriftProfile) -> None:
    table = drift_table(profile, frame(1))
    assert table["psi"].max() < 0.02
    assert drift_failures(table, THRESHOLDS) == []


def test_strong_shift_missing_values_and_new_categories_are_named(profile: DriftProfile) -> None:
    table = drift_table(profile, frame(1, shift=1.5, missing=0.3, sectors=("01", "99")))
    failures = " | ".join(drift_failures(table, THRESHOLDS))
    assert "workers PSI" in failures and "complaints_3y PSI" in failures
    assert "complaints_3y missing share 0.0% -> 3" in failures
    assert "ciiu_division new categories" in failures


def test_an_area_rate_whose_large_area_moves_a_little_is_shown_not_failed() -> None:
    """One province holds 40% of workplaces: its rate moving from 0.050 to 0.048 crosses a
    decile edge and the PSI reads a real shift; an area rate only shows it (config
    drift.psi_report_only), the same values under another name still fail."""
    rng = np.random.default_rng(0)
    areas = rng.integers(0, 60, 4000)
    rates = rng.uniform(0.0, 0.1, 60)
    rates[0] = 0.050
    areas[:1600] = 0
    then = pd.DataFrame({"area_infraction_rate_province": rates[areas]})
    rates[0] = 0.048
    now = pd.DataFrame({"area_infraction_rate_province": rates[areas]})
    table = drift_table(feature_profile(then, BINS), now)
    assert table["psi"].iloc[0] > THRESHOLDS.max_psi
    assert drift_failures(table, THRESHOLDS) == []
    renamed = table.assign(feature="infraction_rate_own")
    assert "infraction_rate_own PSI" in " | ".join(drift_failures(renamed, THRESHOLDS))


def test_a_feature_gone_from_the_data_fails(profile: DriftProfile) -> None:
    table = drift_table(profile, frame(1).drop(columns=["workers"]))
    assert "workers is missing from the new data" in drift_failures(table, THRESHOLDS)


def test_the_drift_check_fails_on_drift_and_when_it_cannot_measure(profile: DriftProfile) -> None:
    config, champion = load_config(None), Contender("model", pd.Timestamp("2025-01-01"), "g")
    drifted = drift_table(profile, frame(1, shift=1.5))
    ok, failures = drift_check(drifted, champion, config)
    assert ok is False and any("PSI" in f for f in failures)
    assert drift_check(drift_table(profile, frame(2)), champion, config) == (True, [])
    ok, failures = drift_check(None, champion, config)
    assert ok is False and "not measurable" in failures[0]
    assert drift_check(drifted, None, config) == (None, [])


def test_profile_against_profile_matches_the_frame_comparison(profile: DriftProfile) -> None:
    """The next run compares profiles only; its PSI stays close to the exact one."""
    for newer in (frame(1), frame(1, shift=1.5, missing=0.3, sectors=("01", "99"))):
        exact = drift_table(profile, newer).set_index("feature")
        approx = drift_table(profile, feature_profile(newer, BINS)).set_index("feature")
        assert ((approx["psi"] - exact["psi"]).abs() <= 0.02 + 0.1 * exact["psi"]).all()
        assert approx["missing_now"].equals(exact["missing_now"])
        assert (approx["new_category_share"] - exact["new_category_share"]).abs().max() < 1e-9
        named = [sorted(f.split(" ")[0] for f in drift_failures(t.reset_index(), THRESHOLDS))
                 for t in (approx, exact)]
        assert named[0] == named[1]

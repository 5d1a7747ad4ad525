"""The one-pass weighted binning gives HistGradientBoosting the library's thresholds exactly."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting import binning as library_binning

from models.training import binning


def columns(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Continuous, tied, rate-like and missing-heavy columns, weighted like the training rows
    (0.2 / 1), with zero weights, and unweighted."""
    n = 3000
    out = []
    for values in (rng.normal(size=n), np.round(rng.exponential(size=n), 2),
                   rng.integers(0, 400, size=n).astype(float),
                   np.where(rng.uniform(size=n) < 0.4, np.nan, rng.uniform(size=n)),
                   np.repeat(rng.uniform(size=n // 10), 10)):
        for weights in (np.where(rng.uniform(size=n) < 0.7, 0.2, 1.0),
                        np.where(rng.uniform(size=n) < 0.1, 0.0, rng.uniform(0.5, 3, size=n)),
                        None):
            out.append((values, weights))
    return out


@pytest.mark.skipif(sklearn.__version__ != binning.COPIED_FROM, reason="copies 1.9.1 only")
@pytest.mark.parametrize("max_bins", [255, 64, 3])
def test_thresholds_equal_the_librarys(max_bins: int) -> None:
    for values, weights in columns(np.random.default_rng(max_bins)):
        expected = binning.LIBRARY_FIND_BINNING_THRESHOLDS(values, max_bins, weights)
        got = binning.find_binning_thresholds(values, max_bins, weights)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(sklearn.__version__ != binning.COPIED_FROM, reason="copies 1.9.1 only")
def test_a_weighted_fit_is_the_same_model_with_either_binning(monkeypatch) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 6))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(float)
    weights = np.where(y == 0, 0.2, 1.0)

    def fitted_probabilities() -> np.ndarray:
        model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
        return model.fit(X, y, sample_weight=weights).predict_proba(X)[:, 1]

    assert binning.install()
    assert library_binning._find_binning_thresholds is binning.find_binning_thresholds
    ours = fitted_probabilities()
    monkeypatch.setattr(library_binning, "_find_binning_thresholds",
                        binning.LIBRARY_FIND_BINNING_THRESHOLDS)
    np.testing.assert_array_equal(ours, fitted_probabilities())

"""The sorted weighted bootstrap gives random forests the library's trees exactly."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.ensemble import _forest as library_forest

from models.training import forest_sampling

pytestmark = pytest.mark.skipif(sklearn.__version__ != forest_sampling.COPIED_FROM,
                                reason="copies 1.9.1 only")


@pytest.mark.parametrize("draws", [3000, 1200])
def test_each_tree_draws_the_librarys_rows_as_often(draws: int) -> None:
    rng = np.random.default_rng(draws)
    n = 3000
    for weights in (np.where(rng.uniform(size=n) < 0.7, 0.2, 1.0),
                    np.where(rng.uniform(size=n) < 0.1, 0.0, rng.uniform(0.5, 3, size=n)),
                    np.r_[np.zeros(n - 1), 1.0]):
        for seed in (0, 1, 2**31 - 1):
            expected = forest_sampling.LIBRARY_GENERATE_SAMPLE_INDICES(seed, n, draws, weights)
            got = forest_sampling.generate_sample_indices(seed, n, draws, weights)
            assert got.dtype == expected.dtype == np.int32
            np.testing.assert_array_equal(np.bincount(got, minlength=n),
                                          np.bincount(expected, minlength=n))
            assert (np.diff(got) >= 0).all()
    unweighted = forest_sampling.generate_sample_indices(5, n, draws, None)
    np.testing.assert_array_equal(
        unweighted, forest_sampling.LIBRARY_GENERATE_SAMPLE_INDICES(5, n, draws, None))
    with pytest.raises(ValueError, match="non-negative"):
        forest_sampling.generate_sample_indices(5, n, draws, np.r_[-1.0, np.ones(n - 1)])


@pytest.mark.parametrize("class_weight", [None, "balanced_subsample"])
def test_a_weighted_forest_is_the_same_model_with_either_draw(monkeypatch,
                                                              class_weight: str | None) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 6))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(float)
    weights = np.where(y == 0, 0.2, 1.0)

    def fitted_probabilities() -> np.ndarray:
        model = RandomForestClassifier(n_estimators=20, max_depth=6, min_samples_leaf=5,
                                       class_weight=class_weight, random_state=0)
        return model.fit(X, y, sample_weight=weights).predict_proba(X)[:, 1]

    assert forest_sampling.install()
    assert library_forest._generate_sample_indices is forest_sampling.generate_sample_indices
    ours = fitted_probabilities()
    monkeypatch.setattr(library_forest, "_generate_sample_indices",
                        forest_sampling.LIBRARY_GENERATE_SAMPLE_INDICES)
    np.testing.assert_array_equal(ours, fitted_probabilities())

"""The median imputation on present values gives SimpleImputer the library's medians exactly."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.impute import _base as library_impute

from models.training import imputation

pytestmark = pytest.mark.skipif(sklearn.__version__ != imputation.COPIED_FROM,
                                reason="copies 1.9.1 only")


def awkward_matrix(dtype: type) -> np.ndarray:
    """Odd and even counts of present values, ties, a column with no value, one with all."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1001, 6)).round(1).astype(dtype)
    X[rng.random(X.shape) < 0.3] = np.nan
    X[:, 3] = np.nan
    X[::2, 4] = np.nan  # 500 present values: the mean of the two middle ones
    X[:, 5] = rng.normal(size=1001)
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("keep_empty_features", [True, False])
def test_the_imputer_learns_and_fills_what_the_library_does(
        monkeypatch: pytest.MonkeyPatch, dtype: type, keep_empty_features: bool) -> None:
    X = awkward_matrix(dtype)

    def fitted() -> SimpleImputer:
        return SimpleImputer(strategy="median", add_indicator=True,
                             keep_empty_features=keep_empty_features).fit(X)

    assert imputation.install()
    assert library_impute.SimpleImputer._dense_fit is imputation.dense_fit
    ours = fitted()
    monkeypatch.setattr(library_impute.SimpleImputer, "_dense_fit", imputation.LIBRARY_DENSE_FIT)
    library = fitted()
    assert ours.statistics_.dtype == library.statistics_.dtype
    np.testing.assert_array_equal(ours.statistics_, library.statistics_)
    np.testing.assert_array_equal(ours.transform(X), library.transform(X))
    np.testing.assert_array_equal(ours.indicator_.features_, library.indicator_.features_)


def test_other_strategies_keep_the_librarys_fit() -> None:
    X = awkward_matrix(np.float64)
    assert imputation.install()
    for strategy in ("mean", "most_frequent"):
        np.testing.assert_array_equal(
            SimpleImputer(strategy=strategy, keep_empty_features=True).fit(X).statistics_,
            imputation.LIBRARY_DENSE_FIT(SimpleImputer(strategy=strategy,
                                                       keep_empty_features=True),
                                         X, strategy, np.nan, 0))

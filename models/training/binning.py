"""HistGradientBoosting's weighted binning with every bin edge found in one pass.

Fitting with sample weights (the training weights of `model.regular_negative_weight`, the
inverse propensities of `offpolicy.weighted_training`), scikit-learn 1.9.1's
`_find_binning_thresholds` calls `_weighted_percentile` once per bin edge (254 per feature),
each call sorting the column again: 11% of all samples of a 50,000-workplace `vigia run`
(docs/perf/). `_weighted_percentile` takes the 254 ranks at once, on one sort and one
cumulative sum, and loops over them exactly as the single calls do, so the thresholds are the
same numbers (tests/test_binning.py compares them with the library's function). scikit-learn
fixed this upstream after 1.9.1 (pull request #34248); the copy below is installed only on
1.9.1, the version whose function it copies, and differs from it only in that one call.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sklearn
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble._hist_gradient_boosting import binning
from sklearn.ensemble._hist_gradient_boosting.common import ALMOST_INF, X_DTYPE
from sklearn.utils.stats import _weighted_percentile

COPIED_FROM = "1.9.1"


def find_binning_thresholds(col_data: np.ndarray, max_bins: int,
                            sample_weight: np.ndarray | None = None) -> np.ndarray:
    """scikit-learn 1.9.1's `_find_binning_thresholds`, the weighted percentiles in one call."""
    missing_mask = np.isnan(col_data)
    any_missing = missing_mask.any()
    if any_missing:
        col_data = col_data[~missing_mask]
    if sample_weight is not None:
        if any_missing:
            sample_weight = sample_weight[~missing_mask]
        nnz_sw = sample_weight != 0
        col_data = col_data[nnz_sw]
        sample_weight = sample_weight[nnz_sw]
    sort_idx = np.argsort(col_data)
    col_data = col_data[sort_idx]
    if sample_weight is not None:
        sample_weight = sample_weight[sort_idx]
    distinct_values = np.unique(col_data).astype(X_DTYPE)
    if len(distinct_values) == 1:
        return np.asarray([])
    percentiles = np.linspace(0, 100, num=max_bins + 1)[1:-1]
    if len(distinct_values) <= max_bins:
        bin_thresholds = sliding_window_view(distinct_values, 2).mean(axis=1)
    elif sample_weight is None:
        bin_thresholds = np.percentile(col_data, percentiles, method="averaged_inverted_cdf")
    else:
        bin_thresholds = np.asarray(
            _weighted_percentile(col_data, sample_weight, percentiles, average=True)
        ).reshape(-1)
    unique_bin_values = np.unique(bin_thresholds)
    if unique_bin_values.shape[0] != bin_thresholds.shape[0]:
        bin_thresholds = unique_bin_values
    np.clip(bin_thresholds, a_min=None, a_max=ALMOST_INF, out=bin_thresholds)
    return bin_thresholds


LIBRARY_FIND_BINNING_THRESHOLDS: Callable[..., np.ndarray] = binning._find_binning_thresholds


def install() -> bool:
    """Use `find_binning_thresholds` in HistGradientBoosting on scikit-learn 1.9.1 (True when
    installed; any other version keeps its own)."""
    if sklearn.__version__ != COPIED_FROM:
        return False
    binning._find_binning_thresholds = find_binning_thresholds
    return True

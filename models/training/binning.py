"""HistGradientBoosting's weighted binning with every bin edge found in one pass.

Fitting with sample weights (the training weights of `model.regular_negative_weight`, the
inverse propensities of `offpolicy.weighted_training`), scikit-learn 1.9.1's
`_find_binning_thresholds` calls `_weighted_percentile` once per bin edge (254 per feature),
each call sorting the column again: 11% of all samples of a 50,000-workplace `vigia run`
(docs/perf/). Even given the 254 ranks at once, `_weighted_percentile` loops over them in
Python, a dozen array-API calls per rank: 55 ms a feature whatever the rows, most of a small
world's binning. `_averaged_weighted_percentiles` does the same arithmetic for every rank in
one vectorised pass (one sort, one cumulative sum, one `searchsorted`), so the thresholds are
the same numbers (tests/test_binning.py compares them with the library's function).
scikit-learn fixed the repeated sort upstream after 1.9.1 (pull request #34248); the copy below
is installed only on 1.9.1, the version whose function it copies, and differs from it only in
how the weighted percentiles are computed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sklearn
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble._hist_gradient_boosting import binning
from sklearn.ensemble._hist_gradient_boosting.common import ALMOST_INF, X_DTYPE

COPIED_FROM = "1.9.1"


def _averaged_weighted_percentiles(values: np.ndarray, weights: np.ndarray,
                                   ranks: np.ndarray) -> np.ndarray:
    """`_weighted_percentile(values, weights, ranks, average=True)` of scikit-learn 1.9.1 for
    one column without missing values, positive weights and ranks strictly inside (0, 100)
    (what the binning passes): the library's steps, every rank at once."""
    order = np.argsort(values)
    cdf = np.cumsum(weights[order])
    last = len(values) - 1
    adjusted = ranks / 100 * cdf[-1]
    below = np.clip(np.searchsorted(cdf, adjusted), 0, last)
    fraction_above = cdf[below] - adjusted
    lower = values[order[below]]
    upper = values[order[np.clip(below + 1, 0, last)]]
    return np.where(fraction_above > np.finfo(np.float64).eps, lower, (lower + upper) / 2)


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
        bin_thresholds = _averaged_weighted_percentiles(
            col_data, sample_weight.astype(np.float64), percentiles)
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

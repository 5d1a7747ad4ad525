"""Feature columns that carry nothing in a training set, dropped before the grid is built.

Real exports have them: a source without complaints leaves every complaint count missing or
zero, a field never filled is all missing, a country-wide table may hold one department.
HistGradientBoosting crashes inside its binning on an all-missing column, and a constant
column only adds noise to SHAP and the reasons. The grid is built from the kept columns
(`models.training.candidates.build_grid` on the kept dtypes), so every Pipeline's preprocessing
names
only them and SHAP explains only them; a frame scored later may hold the dropped columns too,
the Pipelines select theirs by name.
"""

from __future__ import annotations

import pandas as pd

ALL_MISSING = "all missing"
CONSTANT = "one value"
SINGLE_CATEGORY = "one category"


def degenerate_columns(X: pd.DataFrame) -> dict[str, str]:
    """Column -> why it is degenerate in `X`: all missing, or one value (missing counts as one)."""
    reasons = {}
    for column in X.columns:
        values = X[column]
        if values.isna().all():
            reasons[str(column)] = ALL_MISSING
        elif values.nunique(dropna=False) == 1:
            numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
            reasons[str(column)] = CONSTANT if numeric else SINGLE_CATEGORY
    return reasons


def drop_degenerate_columns(X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """`X` without its degenerate columns, and the dropped columns with their reasons."""
    dropped = degenerate_columns(X)
    return X.drop(columns=list(dropped)), dropped


def describe_dropped(dropped: dict[str, str]) -> str:
    """`complaints_1y (all missing), department_code (one category)`, or `none`."""
    return ", ".join(f"{c} ({why})" for c, why in dropped.items()) or "none"

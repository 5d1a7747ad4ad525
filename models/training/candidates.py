"""The model grid from config: every candidate a Pipeline that scores the raw feature frame.

Families (config `model.families`, each key a list of values; the grid is their product):

- `logistic_regression`: the transparent reference. Median imputation with missing
  indicators, standard scaling, one-hot categoricals; class_weight="balanced".
- `hist_gradient_boosting`: numerics pass through (NaN handled natively), categoricals
  ORDINAL-encoded inside the pipeline (shap 0.51 gives silently wrong values with native
  `categorical_features`), monotonic constraints from the catalog.
- `random_forest`: median imputation, ordinal categoricals, the same monotonic constraints.

Class imbalance is handled with class weights (never oversampling); probabilities are
calibrated afterwards on a later slice of the training history (models/training/calibration.py).
Preprocessing keeps original feature names (`verbose_feature_names_out=False`), so
`pipeline[:-1].get_feature_names_out()` names what SHAP explains; the trees' preprocessing
outputs pandas, the logistic regression's one array (what its solver reads).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from features.catalog import FeatureSpec
from models.training import binning, forest_sampling, imputation
from models.training.baselines import build_baselines, required_columns
from models.training.calibration import final_step
from models.training.families import FAMILIES
from settings.schema import ModelConfig

log = logging.getLogger(__name__)
binning.install()  # weighted HistGradientBoosting fits bin in one pass (same thresholds)
forest_sampling.install()  # weighted forests draw their bootstraps sorted (same rows)
imputation.install()  # median imputation partitions each column (same medians)
# One BLAS thread in the whole process. OpenBLAS splits L-BFGS's matrix products across its
# threads in an order that depends on their number, so a logistic regression's coefficients
# depended on the machine's cores (1e-4 apart on one and two threads, 500,000-workplace world);
# on one thread the fit is also faster (10.9 s against 16.3 s, 11 CPU-s against 26) and leaves
# the other core to the grid's second candidate (`model.fit_workers`).
threadpool_limits(limits=1, user_api="blas")


def split_columns(feature_dtypes: pd.Series,
                  catalog: Mapping[str, FeatureSpec]) -> tuple[list[str], list[str]]:
    """Numeric and categorical feature columns: categorical by catalog kind or non-numeric dtype."""
    numeric, categorical = [], []
    for column, dtype in feature_dtypes.items():
        spec = catalog.get(str(column))
        if (spec is not None and spec.kind == "categorical") or not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        ):
            categorical.append(str(column))
        else:
            numeric.append(str(column))
    return numeric, categorical


def monotonic_constraints(numeric_columns: list[str],
                          catalog: Mapping[str, FeatureSpec]) -> dict[str, int]:
    """+1/-1 per numeric feature whose catalog entry says the domain is clear about direction."""
    return {
        column: catalog[column].monotonic
        for column in numeric_columns
        if column in catalog and catalog[column].monotonic != 0
    }


def _categorical_ordinal() -> OrdinalEncoder:
    return OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )


def _preprocessor(numeric: list[str], categorical: list[str], family: str) -> ColumnTransformer:
    """Column preprocessing per family; the output keeps the raw feature names."""
    if family == "logistic_regression":
        numeric_steps = Pipeline([
            ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                     keep_empty_features=True)),
            ("scale", StandardScaler()),
        ])
        categorical_step = OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=20, sparse_output=False
        )
    elif family == "random_forest":
        numeric_steps = SimpleImputer(strategy="median", keep_empty_features=True)
        categorical_step = _categorical_ordinal()
    else:  # hist_gradient_boosting handles NaN natively
        numeric_steps = "passthrough"
        categorical_step = _categorical_ordinal()
    transformer = ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", categorical_step, categorical)],
        verbose_feature_names_out=False,
    )
    # The logistic regression's solver reads one float array: stacked as an array here, not a
    # frame it would copy into one again (0.44 GiB more per fit at 500,000 workplaces).
    return transformer if family == "logistic_regression" else transformer.set_output(
        transform="pandas")


def _estimator(family: str, params: dict[str, Any], numeric: list[str], categorical: list[str],
               constraints: dict[str, int], seed: int) -> BaseEstimator:
    """The family's estimator; grid keys override its defaults, `monotonic: false` drops the
    catalog's constraints."""
    params = dict(params)
    if not params.pop("monotonic", True):
        constraints = {}
    if family == "logistic_regression":
        return LogisticRegression(**{
            "class_weight": "balanced", "max_iter": 2000, "random_state": seed, **params})
    if family == "hist_gradient_boosting":
        return HistGradientBoostingClassifier(**{
            "class_weight": "balanced", "categorical_features": None,
            "monotonic_cst": constraints or None, "random_state": seed, **params})
    if family == "random_forest":
        # Column order after preprocessing: numerics, then the ordinal categoricals.
        ordered = [constraints.get(c, 0) for c in numeric] + [0] * len(categorical)
        return RandomForestClassifier(**{
            "class_weight": "balanced_subsample", "n_jobs": 1, "random_state": seed,
            "monotonic_cst": ordered if constraints else None, **params})
    raise ValueError(f"unknown model family {family!r}; known: {FAMILIES}")


def forest_fit_threads(estimator: BaseEstimator, threads: int) -> BaseEstimator:
    """`estimator`, a random forest (last step) building its trees on `threads` threads: the
    same trees as on one, each seeded before they start (`fit_calibrated` predicts on one)."""
    forest = final_step(estimator)
    if isinstance(forest, RandomForestClassifier):
        forest.set_params(n_jobs=threads)
    return estimator


def expand_grid(family_grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of a family's parameter lists (scalars count as one-value lists)."""
    keys = sorted(family_grid)
    values = [v if isinstance(v, list) else [v] for v in (family_grid[k] for k in keys)]
    return [dict(zip(keys, combination, strict=True)) for combination in itertools.product(*values)]


def model_group_name(family: str, params: Mapping[str, Any]) -> str:
    """Readable, stable name of a grid point, e.g. `random_forest:max_depth=8,n_estimators=100`."""
    return f"{family}:" + ",".join(f"{k}={params[k]}" for k in sorted(params))


def build_candidates(model_config: ModelConfig, feature_dtypes: pd.Series,
                     catalog: Mapping[str, FeatureSpec]) -> dict[str, Pipeline]:
    """One unfitted Pipeline per grid point of `model.families`, named by `model_group_name`.

    `feature_dtypes` is `feature_frame.dtypes`; the catalog decides categorical kinds and
    monotonic constraints.
    """
    numeric, categorical = split_columns(feature_dtypes, catalog)
    constraints = monotonic_constraints(numeric, catalog)
    seed = model_config.seed
    candidates: dict[str, Pipeline] = {}
    for family, family_grid in model_config.families.items():
        for params in expand_grid(family_grid or {}):
            candidates[model_group_name(family, params)] = Pipeline([
                ("preprocess", _preprocessor(numeric, categorical, family)),
                ("model", _estimator(family, params, numeric, categorical, constraints, seed)),
            ])
    return candidates


def build_grid(model_config: ModelConfig, feature_dtypes: pd.Series,
               catalog: Mapping[str, FeatureSpec]) -> dict[str, BaseEstimator]:
    """Models and baselines together, so both go through the same training and the same tables.

    A baseline whose feature columns are not in the frame (dropped as degenerate: e.g. no
    complaint at all) is left out with a warning; a column the catalog does not know is a
    configuration error, found before the run (pipelines/preflight.py).
    """
    grid: dict[str, BaseEstimator] = dict(build_candidates(model_config, feature_dtypes, catalog))
    available = set(map(str, feature_dtypes.index))
    baselines = build_baselines(model_config.baselines, model_config.seed)
    for name, baseline in baselines.items():
        missing = [c for c in required_columns(baseline) if c not in available]
        if missing:
            log.warning("baseline %s left out: no feature column(s) %s", name, missing)
        else:
            grid[name] = baseline
    return grid

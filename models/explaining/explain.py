"""SHAP explanations of a fitted Vigía pipeline, expressed in RAW feature names.

The registered model is a scikit-learn `Pipeline` [ColumnTransformer preprocessing -> estimator].
SHAP runs on the estimator over the preprocessed columns, then the columns that one raw feature
produced (one-hot levels, missing indicators) are summed back into that raw feature, so reasons
and plots talk about features a planner can read. Summing keeps additivity: for every row,
`values.sum(axis=1) + expected_value` equals the model's raw output:

- HistGradientBoosting: TreeExplainer, output in log-odds (`decision_function`);
- RandomForest: TreeExplainer, output is the probability of class 1 (`predict_proba[:, 1]`);
- LogisticRegression: LinearExplainer against a background sample, output in log-odds.

Only the rows passed in are explained (RandomForest TreeExplainer costs about 30 s per 1,000
rows at depth 10), so callers explain the listed workplaces, not the whole registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # before shap: no GUI backend on a server
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shap  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from models.training.calibration import underlying_pipeline  # noqa: E402


@dataclass(frozen=True)
class Explanation:
    """SHAP values per raw feature for some workplaces, and the base they add up from.

    `values` and `data` share the index of the explained rows and the raw feature columns;
    `output` names the scale of `values.sum(axis=1) + expected_value` ("log_odds" or
    "probability").
    """

    values: pd.DataFrame
    expected_value: float
    output: str
    data: pd.DataFrame


def fitted_pipeline(model: object) -> Pipeline:
    """The fitted Pipeline inside a calibrated model (models/training/calibration.py) or the
    model."""
    inner = underlying_pipeline(model)
    if not isinstance(inner, Pipeline):
        raise TypeError(f"expected a fitted sklearn Pipeline, got {type(inner).__name__}")
    return inner


def raw_feature_of_columns(preprocess: ColumnTransformer) -> dict[str, str]:
    """Map every output column of the preprocessing to the raw feature it came from.

    Within one transformer an output column belongs to the raw input whose name it equals, starts
    with (one-hot `ciiu_division_01`) or ends with (`missingindicator_complaints_1y`); the
    longest such name wins, so `complaints_1y_x` never goes to a shorter `complaints` column.
    """
    output_names = preprocess.get_feature_names_out()
    mapping: dict[str, str] = {}
    for name, _, columns in preprocess.transformers_:
        if name == "remainder" or name not in preprocess.output_indices_:
            continue
        inputs = [str(c) for c in np.atleast_1d(columns)]
        for out in output_names[preprocess.output_indices_[name]]:
            matches = [c for c in inputs if out == c or out.startswith(f"{c}_")
                       or out.endswith(f"_{c}")]
            if not matches:
                raise ValueError(f"cannot trace output column {out!r} to a raw feature")
            mapping[str(out)] = max(matches, key=len)
    return mapping


def _preprocessed(preprocess: Pipeline, X: pd.DataFrame) -> pd.DataFrame:
    """`X` through the pipeline's preprocessing, as a frame of its output columns (the logistic
    regression's preprocessing outputs an array, candidates.py)."""
    transformed = preprocess.transform(X)
    if isinstance(transformed, pd.DataFrame):
        return transformed
    return pd.DataFrame(transformed, index=X.index,
                        columns=preprocess[-1].get_feature_names_out())


def _background(transformed: pd.DataFrame, background: pd.DataFrame | None,
                preprocess: Pipeline, rows: int, seed: int) -> pd.DataFrame:
    """A sample of at most `rows` preprocessed rows that stands for the population."""
    if background is not None and len(background) > rows:
        background = background.sample(rows, random_state=seed)
    frame = transformed if background is None else _preprocessed(preprocess, background)
    return frame.sample(rows, random_state=seed) if len(frame) > rows else frame


def explain(model: object, X: pd.DataFrame, background: pd.DataFrame | None = None, *,
            background_rows: int, seed: int) -> Explanation:
    """SHAP values of `model` for the rows of `X`, summed back onto the raw feature columns.

    `background` (raw features, e.g. the whole scored registry) sets the reference of the linear
    model, so a contribution means "compared with a typical workplace"; trees use the training
    cover stored in the trees and ignore it.
    """
    pipeline = fitted_pipeline(model)
    preprocess, estimator = pipeline[:-1], pipeline[-1]
    transformer = preprocess[-1]
    if not isinstance(transformer, ColumnTransformer):
        raise TypeError("the pipeline's preprocessing must end in a ColumnTransformer")
    transformed = _preprocessed(preprocess, X)
    matrix = transformed.to_numpy(dtype=float)

    if isinstance(estimator, HistGradientBoostingClassifier):
        explainer = shap.TreeExplainer(estimator)
        values, base, output = explainer.shap_values(matrix), explainer.expected_value, "log_odds"
    elif isinstance(estimator, RandomForestClassifier):
        explainer = shap.TreeExplainer(estimator)
        values = explainer.shap_values(matrix, check_additivity=False)[:, :, 1]
        base, output = np.atleast_1d(explainer.expected_value)[1], "probability"
    elif isinstance(estimator, LogisticRegression):
        reference = _background(transformed, background, preprocess, background_rows, seed)
        reference = reference.to_numpy(dtype=float)
        explainer = shap.LinearExplainer(estimator, shap.maskers.Independent(reference))
        values, base, output = explainer.shap_values(matrix), explainer.expected_value, "log_odds"
    else:
        raise TypeError(f"no SHAP explainer wired for {type(estimator).__name__}")

    per_column = pd.DataFrame(np.asarray(values, dtype=float), index=X.index,
                              columns=transformed.columns)
    raw_of = raw_feature_of_columns(transformer)
    raw_values = per_column.T.groupby(per_column.columns.map(raw_of), sort=False).sum().T
    raw_columns = [c for c in X.columns if c in raw_values.columns]
    return Explanation(
        values=raw_values[raw_columns], expected_value=float(np.ravel(base)[0]), output=output,
        data=X[raw_columns],
    )


def model_raw_output(model: object, X: pd.DataFrame) -> np.ndarray:
    """The uncalibrated output an Explanation adds up to: log-odds, or probability for forests."""
    pipeline = fitted_pipeline(model)
    if isinstance(pipeline[-1], RandomForestClassifier):
        return pipeline.predict_proba(X)[:, 1]
    return pipeline.decision_function(X)


def global_importance(explanation: Explanation) -> pd.Series:
    """Mean |SHAP| per raw feature, largest first: what drives the list overall."""
    return explanation.values.abs().mean().sort_values(ascending=False)



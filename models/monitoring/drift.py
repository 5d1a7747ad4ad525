"""Input drift against a model's training data: a compact profile, PSI, missing and new categories.

A registered model carries a `feature_profile` of the frame it was trained on (stored as a JSON
artifact of its run). A later run compares its own frame, or its own profile, with that profile,
feature by feature:

- numeric features: shares in the training deciles (edges from the profile; repeated edges
  merge, so a mostly-zero count gets one bin for its zeros), plus a bin for missing values.
  Profile against profile, the newer shares come from its `QUANTILE_POINTS` quantiles counted
  in the older bins (a resolution of 0.5% of rows per edge), so no run has to keep the older
  training frame, and the cached training of a rerun does not depend on the champion;
- categorical features: shares of the training categories, plus one bin for categories the
  training data never held ("new categories") and one for missing values;
- population stability index PSI = sum (a - e) * ln(a / e) over those bins, with shares floored
  at `SHARE_FLOOR` so an empty bin does not make it infinite. Rules of thumb: < 0.1 stable,
  0.1-0.25 moderate, > 0.25 a real shift.

The profile holds shares and bin edges only (no rows, no identifiers), so it is safe to store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

import numpy as np
import pandas as pd

from settings.schema import DriftConfig

SHARE_FLOOR = 1e-4
QUANTILE_POINTS = 201
MISSING = "__missing__"
NEW_CATEGORY = "__new__"


class DriftProfile(Mapping[str, Any]):
    """A `feature_profile` (read like the dict it holds: `rows`, `features`) that Prefect passes as
    one value: Prefect visits every element of a task's dict, list and dataclass parameters to
    find upstream results, and a profile of 110 features holds tens of thousands of numbers
    (0.8 s per retraining at 1,200 workplaces, before the tasks ran). `dict(profile)` for JSON."""

    def __init__(self, content: Mapping[str, Any]) -> None:
        self._content = dict(content)

    def __getitem__(self, key: str) -> Any:
        return self._content[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._content)

    def __len__(self) -> int:
        return len(self._content)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _numeric_shares(values: pd.Series, edges: list[float]) -> dict[str, float]:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    present = numbers[~np.isnan(numbers)]
    inner = np.asarray(edges[1:-1], dtype=float)
    counts = np.bincount(np.searchsorted(inner, present, side="right"), minlength=len(edges) - 1)
    shares = {f"bin_{i}": float(c) / max(len(numbers), 1) for i, c in enumerate(counts)}
    shares[MISSING] = float(np.isnan(numbers).sum()) / max(len(numbers), 1)
    return shares


def _category_shares(values: pd.Series, known: list[str] | None) -> dict[str, float]:
    total = max(len(values), 1)
    text = values.astype("string")
    counts = text.dropna().value_counts()
    shares = {str(k): float(v) / total for k, v in counts.items()}
    if known is not None:
        new = sum(v for k, v in shares.items() if k not in known)
        shares = {k: shares.get(k, 0.0) for k in known}
        shares[NEW_CATEGORY] = new
    shares[MISSING] = float(text.isna().sum()) / total
    return shares


def feature_profile(frame: pd.DataFrame, bins: int) -> DriftProfile:
    """Shares per bin (numeric deciles) or category of every column, for later comparison."""
    profile: dict[str, Any] = {"rows": int(len(frame)), "features": {}}
    for column in frame.columns:
        values = frame[column]
        if _is_numeric(values):
            present = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
            quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)) if len(present) else []
            edges = [-np.inf, *sorted(set(float(q) for q in quantiles[1:-1])), np.inf]
            points = np.quantile(present, np.linspace(0, 1, QUANTILE_POINTS)) \
                if len(present) else np.array([])
            profile["features"][column] = {
                "kind": "numeric", "edges": [float(e) for e in edges],
                "shares": _numeric_shares(values, edges),
                "points": [float(p) for p in points],
            }
        else:
            shares = _category_shares(values, None)
            profile["features"][column] = {"kind": "categorical", "shares": shares}
    return DriftProfile(profile)


def population_stability_index(expected: Mapping[str, float], actual: Mapping[str, float]) -> float:
    """PSI between two share distributions over the same bins (floored, see module docstring)."""
    keys = sorted(set(expected) | set(actual))
    e = np.maximum([expected.get(k, 0.0) for k in keys], SHARE_FLOOR)
    a = np.maximum([actual.get(k, 0.0) for k in keys], SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _shares_from_profile(spec: Mapping[str, Any], newer: Mapping[str, Any]) -> dict[str, float]:
    """A newer profile's shares of one feature in the older profile's bins or categories."""
    then, missing = spec["shares"], newer["shares"].get(MISSING, 0.0)
    if spec["kind"] == "numeric":
        points = pd.Series(newer.get("points", []), dtype=float)
        shares = _numeric_shares(points, spec["edges"]) if len(points) else {}
        shares = {k: v * (1.0 - missing) for k, v in shares.items() if k != MISSING}
    else:
        known = [k for k in then if k != MISSING]
        shares = {k: newer["shares"].get(k, 0.0) for k in known}
        shares[NEW_CATEGORY] = sum(v for k, v in newer["shares"].items()
                                   if k not in then and k != MISSING)
    shares[MISSING] = missing
    return shares


def _shares_from_frame(spec: Mapping[str, Any], values: pd.Series) -> dict[str, float]:
    if spec["kind"] == "numeric":
        return _numeric_shares(values, spec["edges"])
    return _category_shares(values, [k for k in spec["shares"] if k != MISSING])


def drift_table(profile: Mapping[str, Any],
                newer: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    """Per feature: PSI, missing share then and now, share of new categories; worst PSI first.

    `newer` is a frame or a `feature_profile`. Features absent from it get PSI NaN (the model
    cannot score them).
    """
    columns = newer.columns if isinstance(newer, pd.DataFrame) else newer["features"]
    rows = []
    for column, spec in profile["features"].items():
        then = spec["shares"]
        if column not in columns:
            rows.append({"feature": column, "psi": np.nan, "missing_then": then.get(MISSING, 0.0),
                         "missing_now": 1.0, "new_category_share": 0.0})
            continue
        now = (_shares_from_frame(spec, newer[column]) if isinstance(newer, pd.DataFrame)
               else _shares_from_profile(spec, newer["features"][column]))
        rows.append({
            "feature": column, "psi": population_stability_index(then, now),
            "missing_then": then.get(MISSING, 0.0), "missing_now": now.get(MISSING, 0.0),
            "new_category_share": now.get(NEW_CATEGORY, 0.0),
        })
    table = pd.DataFrame(rows, columns=["feature", "psi", "missing_then", "missing_now",
                                        "new_category_share"])
    return table.sort_values("psi", ascending=False, na_position="first", ignore_index=True)


def drift_failures(table: pd.DataFrame, thresholds: DriftConfig) -> list[str]:
    """Why the drift is too strong (one English phrase per breached rule); empty when it is not.

    thresholds: max_psi, max_missing_increase (share points), max_new_category_share, and
    psi_report_only: glob patterns of features whose PSI is shown but never fails (area rates:
    every workplace of an area holds the same value, so a small change of one large area moves
    a whole decile and the PSI says "real shift" where the population did not move).
    """
    failures = []
    max_psi = thresholds.max_psi
    missing_feature = table["psi"].isna()
    for row in table[missing_feature].itertuples():
        failures.append(f"{row.feature} is missing from the new data")
    judged = ~table["feature"].map(lambda name: any(
        fnmatch(name, pattern) for pattern in thresholds.psi_report_only))
    for row in table[judged & (table["psi"] > max_psi)].itertuples():
        failures.append(f"{row.feature} PSI {row.psi:.3f} > {max_psi:g}")
    increase = table["missing_now"] - table["missing_then"]
    max_missing = thresholds.max_missing_increase
    for row, rise in zip(table.itertuples(), increase, strict=True):
        if not np.isnan(row.psi) and rise > max_missing:
            failures.append(f"{row.feature} missing share {row.missing_then:.1%} -> "
                            f"{row.missing_now:.1%}")
    max_new = thresholds.max_new_category_share
    for row in table[table["new_category_share"] > max_new].itertuples():
        failures.append(f"{row.feature} new categories in {row.new_category_share:.1%} of rows")
    return failures


SCORE_COLUMN = "score"


def score_profile(scores: Any, bins: int) -> DriftProfile:
    """Profile of a model's scores: a feature profile of one numeric column, `score`."""
    return feature_profile(pd.DataFrame({SCORE_COLUMN: np.asarray(scores, dtype=float)}), bins)


def retraining_reasons(features: pd.DataFrame | None, scores: pd.DataFrame | None,
                       thresholds: DriftConfig) -> list[str]:
    """Why the champion should be retrained before listing (empty: it should not).

    `features` and `scores` are `drift_table`s of the current data and of the champion's scores
    on it against those at its newest training as-of date; `thresholds` is config `drift:`
    (max_score_psi for the scores, the feature rules otherwise). A missing table (no stored
    profile) raises nothing.
    """
    reasons = drift_failures(features, thresholds) if features is not None else []
    if scores is not None:
        limits = thresholds.model_copy(update={"max_psi": thresholds.max_score_psi})
        reasons += [f"champion's {reason}" for reason in drift_failures(scores, limits)]
    return reasons


@dataclass(frozen=True)
class ListingDrift:
    """The planning date's features and the champion's scores on them against every workplace at
    the champion's newest training as-of date (`drift_table`s; None: registered without that
    profile)."""

    features: pd.DataFrame | None
    scores: pd.DataFrame | None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The measured tables by name (their MLflow file `drift/<name>.csv`)."""
        named = {"features_at_planning_date": self.features, "scores": self.scores}
        return {name: table for name, table in named.items() if table is not None}

    def reasons(self, thresholds: DriftConfig) -> list[str]:
        """Why the champion should be retrained before listing (`retraining_reasons`)."""
        return retraining_reasons(self.features, self.scores, thresholds)


def listing_drift(scoring_profile: Mapping[str, Any] | None,
                  score_profile: Mapping[str, Any] | None, features: pd.DataFrame,
                  scores: pd.DataFrame) -> ListingDrift:
    """The planning date's `features` and the champion's `scores` on them against the profiles
    the champion was registered with."""
    return ListingDrift(
        None if scoring_profile is None else drift_table(scoring_profile, features),
        None if score_profile is None else drift_table(score_profile, scores[[SCORE_COLUMN]]))

"""Reasons in plain Spanish: the top positive SHAP contributions of a workplace as sentences.

Each listed workplace gets up to `top` sentences (default 3) from the features that RAISE its
risk most, rendered from the catalog's `reason_es` with the workplace's own value, e.g.
"3 hallazgos de trabajo forzoso en otros locales de la misma empresa" or
"distrito con 68% de pobreza". When fewer features raise the risk (or can be said), the
workplace gets fewer reasons; the empty slots stay "" rather than inventing one.

A contribution is only said when its value means something in words: a missing value, or a zero
(no complaints, not a subcontractor) that happens to push the score up, is skipped, because
"0 denuncias" or "subcontratista" for a firm that is not one would mislead a planner.

Privacy (config `reasons.complaints`): complaint-derived features must never single out a
complainant.
- `coarse` (default): channels and the days since the last complaint are never said; counts
  of complaints (total or by topic) below `reasons.min_complaint_count` become the generic
  `reasons.complaint_phrase_es` ("tiene denuncias recientes"), with no number, date or channel;
  counts at or above it are said with the catalog sentence.
- `none`: complaint-derived features never become reasons.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.catalog import FeatureSpec
from features.contract import CHANNELS
from models.explain import DEFAULT_BACKGROUND_ROWS, Explanation, explain

log = logging.getLogger(__name__)

COMPLAINT_MODES = ("coarse", "none")
DEFAULT_REASONS_CONFIG: dict[str, Any] = {
    "top": 3,
    "complaints": "coarse",
    "min_complaint_count": 5,
    "complaint_phrase_es": "tiene denuncias recientes",
}


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _is_zero(value: object) -> bool:
    return not isinstance(value, str) and pd.api.types.is_number(value) and value == 0


def _complaint_sentence(spec: FeatureSpec, value: float, settings: Mapping[str, Any]) -> str | None:
    """What the privacy rule lets a list say about a complaint-derived feature."""
    if settings["complaints"] == "none":
        return None
    phrase = str(settings["complaint_phrase_es"])
    is_count = "{value" in spec.reason_es and not spec.name.startswith("days_since")
    is_channel = any(spec.name.startswith(f"complaints_{c}_") for c in CHANNELS)
    if not is_count or is_channel or float(value) < float(settings["min_complaint_count"]):
        return phrase
    return spec.reason_es.format(value=value)


def render_reason(spec: FeatureSpec, value: object, settings: Mapping[str, Any]) -> str | None:
    """One Spanish sentence for a feature and the workplace's value; None if it cannot be said."""
    if _is_missing(value) or _is_zero(value):
        return None
    if spec.complaint_derived:
        sentence = _complaint_sentence(spec, float(value), settings)
    elif spec.kind == "categorical":
        sentence = spec.reason_es.format(value=str(value))
    else:
        sentence = spec.reason_es.format(value=float(value))
    return None if sentence is None else unicodedata.normalize("NFC", sentence)


def reasons_settings(config_reasons: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `reasons:` config over the defaults, with the privacy mode checked."""
    settings = {**DEFAULT_REASONS_CONFIG, **(config_reasons or {})}
    if settings["complaints"] not in COMPLAINT_MODES:
        raise ValueError(
            f"reasons.complaints must be one of {COMPLAINT_MODES}, got {settings['complaints']!r}"
        )
    return settings


def workplace_reasons(contributions: pd.Series, values: pd.Series,
                      catalog: Mapping[str, FeatureSpec], settings: Mapping[str, Any]) -> list[str]:
    """Up to `settings["top"]` distinct sentences from the largest positive contributions."""
    sentences: list[str] = []
    for feature, contribution in contributions.sort_values(ascending=False).items():
        if contribution <= 0 or len(sentences) == int(settings["top"]):
            break
        spec = catalog.get(str(feature))
        if spec is None:
            continue
        sentence = render_reason(spec, values[feature], settings)
        if sentence is not None and sentence not in sentences:
            sentences.append(sentence)
    return sentences


def reasons_frame(explanation: Explanation, catalog: Mapping[str, FeatureSpec],
                  config_reasons: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """reason_1..reason_3 per explained workplace ("" where fewer reasons can be said)."""
    settings = reasons_settings(config_reasons)
    uncatalogued = [c for c in explanation.values.columns if c not in catalog]
    if uncatalogued:
        log.warning("features without a catalog entry never become reasons: %s", uncatalogued)
    rows = {
        workplace: workplace_reasons(explanation.values.loc[workplace],
                                     explanation.data.loc[workplace], catalog, settings)
        for workplace in explanation.values.index
    }
    columns = [f"reason_{i + 1}" for i in range(int(settings["top"]))]
    return pd.DataFrame(
        [sentences + [""] * (len(columns) - len(sentences)) for sentences in rows.values()],
        index=explanation.values.index, columns=columns,
    )


def reasons_for_workplaces(model: object, features: pd.DataFrame, workplace_ids: pd.Index,
                           catalog: Mapping[str, FeatureSpec],
                           config_reasons: Mapping[str, Any] | None = None,
                           background_rows: int = DEFAULT_BACKGROUND_ROWS,
                           seed: int = 0) -> pd.DataFrame:
    """Explain only the listed workplaces (SHAP is costly) against the whole frame as background."""
    explanation = explain(model, features.loc[workplace_ids], background=features,
                          background_rows=background_rows, seed=seed)
    return reasons_frame(explanation, catalog, config_reasons)

"""The feature catalog: every feature's meaning, source, window and the Spanish words planners read.

Reasons on the lists are rendered from `reason_es`, so a feature without a catalog entry cannot
reach a planner. `docs/FEATURES.md` is generated from this catalog.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """One feature as documented for data scientists (English) and planners (Spanish).

    - `reason_es` is a format string with `{value}` (the workplace's own value), e.g.
      "{value:.0f} hallazgos de retención de documentos en los últimos 3 años".
    - `monotonic` is +1 when the domain says more of it never lowers risk, -1 for the reverse,
      0 when the domain is silent; tree models may use it as a monotonic constraint.
    - `complaint_derived` marks features computed from complaints, whose rendering in reasons is
      limited by the privacy rule in config so that no complainant can be singled out.
    """

    name: str
    meaning: str
    source: str  # workplaces, inspections, complaints, districts, network, area_rates
    window: str  # e.g. "1y", "3y", "all", "static"
    label_es: str
    reason_es: str
    kind: str = "numeric"  # numeric or categorical
    monotonic: int = 0
    complaint_derived: bool = False


FEATURE_CATALOG: dict[str, FeatureSpec] = {}

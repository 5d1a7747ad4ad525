"""Drift in words: the run report's drift sections and the Prefect artifact of a drift check
(the tables come from models/monitoring/drift.py)."""

from __future__ import annotations

import pandas as pd

from models.monitoring.drift import ListingDrift
from reporting.markdown import markdown_table
from settings import inputs


def drift_section(drift: pd.DataFrame | None, rows: int = 10) -> str:
    """The most drifted features (PSI first) or why drift was not measured."""
    if drift is None:
        return ("Not measured: no champion yet, or the champion was registered without a "
                "training-data profile.")
    return (f"Population stability index, missing share and share of new categories of the "
            f"{rows} most shifted features (all of them in MLflow "
            f"`{inputs.DRIFT_FEATURES.name}`):\n\n"
            + markdown_table(drift.head(rows), digits=3))


def listing_drift_section(drift: ListingDrift, retrain_reason: str | None) -> str:
    """Score and feature drift of the planning date's data, and why the run retrained (if so)."""
    why = (f"This run retrained before listing because the data drifted: {retrain_reason}."
           if retrain_reason else "")
    tables = drift.tables()
    if not tables:
        return why or ("Not measured: the champion was registered without training-population "
                       "profiles.")
    parts = [why] if why else []
    for name, table in tables.items():
        parts.append(f"`{name}` (all rows in MLflow `{inputs.DRIFT_TABLE.path(name=name)}`):\n\n"
                     + markdown_table(table.head(5), digits=3))
    return "\n\n".join(parts)


def drift_check_markdown(drift: ListingDrift, reasons: list[str]) -> str:
    """The drift check of a listing, for its Prefect artifact."""
    verdict = ("Beyond the `drift:` thresholds: " + "; ".join(reasons)) if reasons else \
        "Within the `drift:` thresholds."
    return f"{verdict}\n\n{listing_drift_section(drift, None)}"

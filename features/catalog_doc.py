"""Render docs/FEATURES.md from the feature catalog, so the document cannot drift from the code.

Run `python -m features.catalog_doc` to rewrite docs/FEATURES.md; a test checks it is current.
"""

from __future__ import annotations

from pathlib import Path

from features.catalog import FEATURE_CATALOG, FeatureSpec

FEATURES_DOC = Path(__file__).resolve().parent.parent / "docs" / "FEATURES.md"

HEADER = """# Features

Generated from `features/catalog.py` by `python -m features.catalog_doc`; do not edit by hand.

Every feature for as-of date t uses only facts known strictly before t: complaints from
`received_on`, an inspection's existence from `ordered_on`, its outcome from `closed_on < t`.
History windows (1y, 3y, all) are placed on `ordered_on` / `received_on`. `days_since_*` are NaN
when there is no event. District values missing in the INEI table are imputed from the province,
then department, then national mean. Area rates are leave-one-out (the workplace's own
inspections are excluded) and smoothed toward the parent area with an additive prior
(`features.area_prior_strength`). Registry fields that inspections can change (column
`snapshot`: declared workers, size band, establishments, contractor links) are today's values at
every past as-of date unless the optional `registry_periods` table is given: with it, declared
workers and size band are as of each date (the latest period starting before t, else today's
value); establishments and contractor links have no history and stay today's values. The run
report says which holds; without the history a backtest may see what an inspection caused.

`monotonic`: +1 more never lowers risk, -1 the reverse, 0 silent. `complaint`: derived from
complaints (limited in reasons by the privacy rule).

"""

COLUMNS = ("name", "source", "window", "kind", "monotonic", "complaint", "snapshot", "meaning",
           "label_es", "reason_es")


def _cell(text: str) -> str:
    """Escape a value for a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _row(spec: FeatureSpec) -> str:
    monotonic = f"{spec.monotonic:+d}" if spec.monotonic else "0"
    values = (f"`{spec.name}`", spec.source, spec.window, spec.kind, monotonic,
              "yes" if spec.complaint_derived else "",
              "yes" if spec.registry_snapshot else "", spec.meaning, spec.label_es, spec.reason_es)
    return "| " + " | ".join(_cell(v) for v in values) + " |"


def render_features_doc(catalog: dict[str, FeatureSpec] = FEATURE_CATALOG) -> str:
    """The Markdown text of docs/FEATURES.md: a header and one table row per feature."""
    lines = [
        HEADER + f"{len(catalog)} features.\n",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *(_row(spec) for spec in catalog.values()),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Rewrite docs/FEATURES.md from the catalog."""
    FEATURES_DOC.write_text(render_features_doc(), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Markdown tables for the reports data scientists read (run report, truth evaluation)."""

from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A small DataFrame as a Markdown table: floats rounded to `digits`, missing values blank."""
    columns = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        cells = [
            "" if pd.isna(v) else f"{v:.{digits}f}" if isinstance(v, float) else str(v)
            for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

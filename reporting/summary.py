"""The first printed page of a planner's report: what is needed to decide, on one A4 page.

Visits, new against follow-up, expected findings with their interval, the map, the first ten
rows and what changed since the previous list in the list log (or that this is the first). The
rest of the report prints after it, one office per page run.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from models.targeting.lists import FOLLOW_UP, NEW
from reporting.planner_words import CASE_ES
from reporting.workbook import findings_line_es

FIRST_ROWS = 10
REASON_CHARACTERS = 120  # the first reason, cut so ten rows fit on the page


@dataclass(frozen=True)
class Summary:
    """What one summary page shows."""

    title: str
    rows: pd.DataFrame  # every visit counted
    first: pd.DataFrame  # the rows shown, in the order they are read
    findings: Mapping[str, Any]  # a yield_by_office row
    map_html: str
    changes: str
    extra_html: str  # links and context (workbook, specialised team); already escaped


def previous_list(log: pd.DataFrame, planning_date: pd.Timestamp) -> pd.DataFrame:
    """The latest list in the log published before this planning date (empty if none)."""
    earlier = log[pd.to_datetime(log["planning_date"]) < planning_date]
    if earlier.empty:
        return earlier
    return earlier[earlier["planning_date"] == earlier["planning_date"].max()]


def changes_sentence(rows: pd.DataFrame, previous: pd.DataFrame) -> str:
    """How this list differs from the previous one of the same offices, in one sentence."""
    before = previous[previous["office"].isin(rows["office"].unique())]
    if before.empty:
        return ("Es la primera lista en el registro de listas: no hay una anterior con qué "
                "compararla.")
    date = pd.Timestamp(before["planning_date"].iloc[0]).strftime("%d/%m/%Y")
    now, then = set(rows["workplace_id"]), set(before["workplace_id"])
    return (f"Cambios desde la lista del {date}: {len(now & then)} centros siguen, "
            f"{len(now - then)} entran y {len(then - now)} salen.")


def _counts(rows: pd.DataFrame) -> str:
    cases = rows["case"].value_counts() if "case" in rows else pd.Series(dtype=int)
    return (f"{len(rows)} visitas: {int(cases.get(NEW, 0))} {CASE_ES[NEW].lower()}s (sin hallazgo "
            f"previo) y {int(cases.get(FOLLOW_UP, 0))} de {CASE_ES[FOLLOW_UP].lower()} de casos "
            "ya documentados.")


def _first_rows(rows: pd.DataFrame) -> str:
    """The first ten visits: priority, follow-up or new, employer, district, first reason."""
    body = []
    for _, row in rows.head(FIRST_ROWS).iterrows():
        reason = str(row.get("reason_1") or "")
        if len(reason) > REASON_CHARACTERS:
            reason = reason[:REASON_CHARACTERS - 1].rstrip() + "…"
        who = row.get("name") or row["workplace_id"]
        cells = (row["rank"], CASE_ES.get(str(row.get("case", "")), ""), who, row["district"],
                 reason)
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return ('<table class="primeras"><thead><tr><th>Prioridad</th><th>Tipo</th>'
            "<th>Empleador</th><th>Distrito</th><th>Primer motivo</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def summary_html(summary: Summary) -> str:
    """The one-page summary section, ending with a page break in print."""
    return (
        f'<section class="resumen"><h2>{html.escape(summary.title)}</h2>'
        f'<div class="resumen-fila"><figure class="resumen-mapa">{summary.map_html}</figure>'
        f"<div><p><strong>{html.escape(_counts(summary.rows))}</strong></p>"
        f"<p><strong>{html.escape(findings_line_es(summary.findings))}</strong></p>"
        f"<p>{html.escape(summary.changes)}</p>{summary.extra_html}</div></div>"
        f"<h3>Primeras {min(FIRST_ROWS, len(summary.first))} visitas</h3>"
        f"{_first_rows(summary.first)}</section>"
    )


SUMMARY_STYLE = """
section.resumen h2{margin-top:0}
.resumen-fila{display:flex;gap:1.5em;align-items:flex-start}
figure.resumen-mapa{flex:0 0 300px;margin:0}
figure.resumen-mapa svg.mapa{max-height:45vh}
table.primeras td:last-child{min-width:20em}
@media print{
 section.resumen{break-after:page;font-size:8.5pt}
 .resumen-fila{display:flex}
 figure.resumen-mapa{flex:0 0 8cm}
 figure.resumen-mapa svg.mapa{height:7.5cm;width:8cm}
 table.primeras{font-size:7.5pt}
}
"""

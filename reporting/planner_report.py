"""The files a planner opens on Monday: Excel, CSV, JSON and a self-contained HTML report.

All of them go into one dated folder `<out>/lista_<as-of>/`, written into a temporary folder
first and renamed into place, so a reader never sees half a list. Every file is marked
CONFIDENCIAL. Excel (reporting/workbook.py) and HTML speak Spanish, with words shared through
reporting/planner_words.py; CSV (UTF-8 with BOM, so Excel keeps Ñ and accents)
and JSON keep the stable English column names that other systems and the planners' scripts read.

- national, for headquarters: `lista_priorizada.{csv,json,xlsx}` and `reporte.html`;
- per office: `lista_<office>.xlsx` and `reporte_<office>.html` with that office's rows only,
  plus the GEIT-TFI visits in its territory as context.

Employer identity (name, address) is joined into the xlsx and html files only: the CSV and JSON
are also archived in MLflow, where personal data must never go (CONTRACT.md, Personal data).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.offpolicy.list_log import read_list_log
from models.targeting.lists import (
    CALIBRATED_ESTIMATE,
    EXPLORATION,
    TEAM_ESTIMATE,
    UNCALIBRATED_ESTIMATE,
    office_of,
)
from reporting.planner_words import (
    CASE_ES,
    CONFIDENTIAL,
    EXPLORATION_NOTE_ES,
    METHOD_ES,
    SELECTION_ES,
    address_or_fallback,
    decimal_es,
    inert_frame,
)
from reporting.summary import SUMMARY_STYLE, Summary, changes_sentence, previous_list, summary_html
from reporting.workbook import write_workbook
from settings import catalog, files

CLASSIFICATION_COLUMN = "clasificacion"
IDENTITY_COLUMNS = ["name", "address"]

# Map projection: degrees scaled to SVG units (north up); the viewBox zooms to each office.
DEGREE = 100.0
LON_MIN, LAT_MAX = -82.0, 0.5


def _with_identity(target: pd.DataFrame, identity: pd.DataFrame | None) -> pd.DataFrame:
    """The list with the employer's name and address of each visit's leading establishment;
    a missing address says why and how to find the place instead."""
    if identity is None:
        return target
    joined = identity.reindex(target["workplace_id"])[IDENTITY_COLUMNS]
    addresses = [address_or_fallback(a, r, d) for a, r, d in zip(
        joined["address"], target["ruc"], target["district"], strict=True)]
    return target.assign(name=joined["name"].fillna("").to_numpy(), address=addresses)


def _png_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (lon - LON_MIN) * DEGREE, (LAT_MAX - lat) * DEGREE


def _view_box(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """The points' bounding box, padded by 8% and at least a third of a degree wide."""
    low_x, high_x, low_y, high_y = x.min(), x.max(), y.min(), y.max()
    side = max(high_x - low_x, high_y - low_y, DEGREE / 3)
    pad = 0.08 * side
    width, height = max(high_x - low_x, side / 2) + 2 * pad, max(high_y - low_y, side / 2) + 2 * pad
    return ((low_x + high_x) / 2 - width / 2, (low_y + high_y) / 2 - height / 2, width, height)


def _visit_groups(located: pd.DataFrame) -> pd.DataFrame:
    """Listed visits grouped by district (they share its coordinates): count and selection mix."""
    grouped = located.groupby("ubigeo", sort=False)
    return pd.DataFrame({
        "x": grouped["x"].first(), "y": grouped["y"].first(),
        "district": grouped["district"].first(), "count": grouped.size(),
        "exploration": grouped["selection"].agg(lambda s: int((s == EXPLORATION).sum())),
        "ranks": grouped["rank"].agg(lambda r: ", ".join(str(v) for v in r)),
    })


def _office_map(rows: pd.DataFrame, territory: pd.DataFrame, coordinates: pd.DataFrame) -> str:
    """Responsive inline SVG zoomed to the office: its districts grey, visits grouped per district.

    Red = visits chosen by risk, blue = exploration, red with a blue ring = both; the number is
    how many visits share the district's point.
    """
    located = rows.join(coordinates, on="ubigeo").dropna(subset=["longitude", "latitude"])
    located["x"], located["y"] = _xy(located["longitude"].to_numpy(float),
                                     located["latitude"].to_numpy(float))
    tx, ty = _xy(territory["longitude"].to_numpy(float), territory["latitude"].to_numpy(float))
    box = _view_box(np.concatenate([tx, located["x"]]), np.concatenate([ty, located["y"]]))
    unit = max(box[2], box[3]) / 60
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{unit * 0.3:.2f}"/>'
                   for a, b in zip(tx, ty, strict=True))
    points, groups = [], _visit_groups(located)
    names = _name_labels(groups, unit)
    for group in groups.itertuples():
        kind = ("exploracion" if group.exploration == group.count
                else "mixto" if group.exploration else "modelo")
        radius = unit * (1.0 + 0.35 * min(group.count - 1, 6))
        label = (f'<text x="{group.x:.1f}" y="{group.y + radius * 0.4:.1f}" '
                 f'font-size="{radius * 1.1:.1f}">{group.count}</text>' if group.count > 1 else "")
        points.append(
            f'<g class="listed {kind}" data-count="{group.count}"><title>'
            f"{html.escape(str(group.district))}: {group.count} visita(s), prioridad "
            f"{group.ranks}</title><circle cx=\"{group.x:.1f}\" cy=\"{group.y:.1f}\" "
            f'r="{radius:.2f}"/>{label}</g>'
        )
    points.append(f'<g class="nombres" font-size="{unit * 1.5:.2f}">{names}</g>')
    return (f'<svg class="mapa" viewBox="{box[0]:.1f} {box[1]:.1f} {box[2]:.1f} {box[3]:.1f}" '
            f'preserveAspectRatio="xMidYMid meet" role="img" '
            f'aria-label="Mapa de los centros de trabajo listados" style="--u:{unit:.2f}">'
            f'<g class="territorio">{dots}</g>{"".join(points)}</svg>')


def _name_labels(groups: pd.DataFrame, unit: float) -> str:
    """Each district's name and the priorities of its visits, printed right of its bubble and
    moved down, greedily, until it overlaps no label placed before it."""
    placed = np.empty((0, 3))  # x from, x to, baseline of each label placed
    labels, height = [], unit * 1.6
    for group in groups.sort_values(["y", "x"]).itertuples():
        text = f"{group.district} ({group.ranks})"
        x0 = group.x + unit * (1.4 + 0.35 * min(group.count - 1, 6))
        x1, y = x0 + len(text) * unit * 0.8, group.y + unit * 0.5
        beside = placed[(placed[:, 0] < x1) & (x0 < placed[:, 1]), 2]
        while (np.abs(beside - y) < height).any():
            y += height
        placed = np.vstack([placed, (x0, x1, y)])
        labels.append(f'<text class="nombre" x="{x0:.1f}" y="{y:.1f}">{html.escape(text)}'
                      "</text>")
    return "".join(labels)


def _district_table(rows: pd.DataFrame) -> str:
    """Visits per district beside an office's summary map, so a count hidden under another
    bubble, or a label moved away from it, is read here."""
    grouped = rows.groupby("district", sort=True)["rank"]
    body = "".join(f"<tr><td>{html.escape(str(d))}</td><td>{len(r)}</td>"
                   f"<td>{html.escape(', '.join(str(v) for v in sorted(r)))}</td></tr>"
                   for d, r in grouped)
    return ('<table class="distritos"><thead><tr><th>Distrito</th><th>Visitas</th>'
            f"<th>Prioridad</th></tr></thead><tbody>{body}</tbody></table>")


LEGEND = (
    '<ul class="leyenda"><li><span class="punto modelo"></span>visita elegida por riesgo</li>'
    '<li><span class="punto exploracion"></span>visita de exploración (sorteo)</li>'
    '<li><span class="punto mixto"></span>ambas en el mismo distrito</li>'
    "<li><b>7</b> = visitas en el mismo distrito; junto al punto, el distrito y la prioridad "
    "de sus visitas</li>"
    '<li><span class="punto territorio"></span>distritos de la oficina</li></ul>'
)
TABLE_HEADERS_ES = ["Prioridad", "Selección", "Centro de trabajo", "Ubicación", "Actividad",
                    "Probabilidad estimada de hallazgo", "Última inspección", "Razones"]


def _lines(*parts: object) -> str:
    """Escaped non-empty parts, one per line."""
    return "<br>".join(html.escape(p) for p in parts if isinstance(p, str) and p)


def _row_cells(row: pd.Series) -> list[tuple[str, str]]:
    """(css class, inner html) of one visit: compact, so reasons stay in view at 1024 px."""
    exploring = row["selection"] == EXPLORATION
    principal = row.get("principal_ruc", "")
    name = row.get("name", "")
    workplace = (f"<strong>{html.escape(name)}</strong><br>" if name else "") + _lines(
        row["workplace_id"], row.get("address", ""),
        f"subcontratista de RUC {principal}" if principal else "")
    if row["n_establishments"] > 1:
        workplace += html.escape(f" (+{row['n_establishments'] - 1} establecimientos)")
    reasons = "".join(f"<li>{html.escape(str(row[c]))}</li>"
                      for c in ("reason_1", "reason_2", "reason_3") if row[c])
    return [
        ("rank", str(row["rank"])),
        ("selection", _lines(f"Exploración ({row.get('chance', '')})" if exploring
                             else SELECTION_ES.get(str(row["selection"]), ""),
                             CASE_ES.get(str(row.get("case", "")), ""))),
        ("centro", workplace),
        ("ubicacion", _lines(row["district"], row["province"])),
        ("actividad", _lines(row.get("activity", ""), f"CIIU {row['ciiu']}")),
        ("probabilidad", f"{float(row['probability']):.1%}"),
        ("inspeccion", _lines(row.get("last_inspection_on", ""),
                              row.get("last_inspection_result", ""))),
        ("razon", f"<ol>{reasons}</ol>"),
    ]


CONTEXT_CELLS = ("rank", "centro", "ubicacion", "actividad", "probabilidad", "inspeccion")


def _table_html(rows: pd.DataFrame, css_class: str = "lista") -> str:
    """The list as a table; the team's visits shown as context keep only who, where, what."""
    keep = [css_class == "lista" or cell in CONTEXT_CELLS
            for cell, _ in _row_cells(rows.iloc[0])] if len(rows) else []
    head = "".join(f"<th>{html.escape(h)}</th>"
                   for h, kept in zip(TABLE_HEADERS_ES, keep, strict=True) if kept)
    body = []
    for _, row in rows.iterrows():
        cells = "".join(f'<td class="{c}">{inner}</td>'
                        for (c, inner), kept in zip(_row_cells(row), keep, strict=True) if kept)
        marker = ' class="exploracion"' if row["selection"] == EXPLORATION else ""
        body.append(f"<tr{marker}>{cells}</tr>")
    return (f'<div class="tabla"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _yield_sentence(row: Mapping[str, Any]) -> str:
    uncalibrated = row.get("estimate") == UNCALIBRATED_ESTIMATE
    return (
        ("Estimación sin calibrar (la cifra no es una probabilidad; sirve para comparar, no "
         "para contar): " if uncalibrated else "")
        + f"Hallazgos de trabajo forzoso esperados: {decimal_es(row['expected_findings'])} "
        f"(intervalo del {row['confidence']:.0%}: {row['low']:.0f} a {row['high']:.0f}) en "
        f"{row['visits']:.0f} visitas; una lista al azar del mismo tamaño: "
        f"{decimal_es(row['random_list_expected_findings'])}."
        + (_case_sentence(row) if "new_visits" in row else "")
        + _includes_sentence(row)
    )


def _includes_sentence(row: Mapping[str, Any]) -> str:
    """What the interval includes, in one sentence (models.targeting.lists.estimate_text)."""
    if row.get("estimate") == TEAM_ESTIMATE:
        return (" El intervalo incluye el error de calibración medido en ventanas pasadas y la "
                "tasa de detección del equipo que visita.")
    if row.get("estimate") == CALIBRATED_ESTIMATE:
        return (" El intervalo solo cuenta el azar de las visitas: no hay ventanas pasadas con "
                "hallazgos para medir el error de la estimación.")
    return ""


def _case_sentence(row: Mapping[str, Any]) -> str:
    """New targets apart from follow-up visits of documented cases."""
    return (
        f" De ellas, {row['new_visits']:.0f} son centros nuevos (sin hallazgo previo), con "
        f"{decimal_es(row['new_expected_findings'])} hallazgos esperados ({row['new_low']:.0f} a "
        f"{row['new_high']:.0f}), y {row['follow_up_visits']:.0f} "
        f"({row['follow_up_share']:.0%}) son de seguimiento de casos ya documentados "
        f"({decimal_es(row['follow_up_expected_findings'])} esperados)."
    )


# What each validation metric (models/metrics.py, config promotion.metric) means, in Spanish:
# (name in the table header, what was measured) and whether it reads as a percentage.
METRICS_ES: dict[str, tuple[str, str, bool]] = {
    "precision": ("Precisión", "la proporción de inspecciones con trabajo forzoso documentado "
                  "entre los centros de la lista que sí fueron inspeccionados", True),
    "offpolicy_precision": ("Precisión corregida por selección", "la proporción estimada de "
                            "centros de la lista con trabajo forzoso documentable, corrigiendo "
                            "que solo se conoce el resultado de los centros inspeccionados", True),
    "recall": ("Cobertura", "la proporción de todos los hallazgos de trabajo forzoso documentados "
               "que estaban en la lista", True),
    "lift": ("Veces mejor que al azar", "cuántas veces la precisión de la lista supera la de "
             "una lista al azar", False),
    "average_precision": ("Precisión promedio", "la precisión a lo largo de todo el "
                          "ordenamiento, no solo en la lista", True),
    "brier_score": ("Puntaje de Brier (menor es mejor)", "el error cuadrático de la "
                    "probabilidad estimada frente al resultado de cada inspección", False),
}
SCOPES_ES = {"capacity": "a capacidad", "top": "en el tope"}


def metric_es(metric: str) -> tuple[str, str, bool]:
    """Spanish header, meaning and percent format of a metric named as in the result tables
    (`precision_at_capacity`, `recall_at_top_1pct`, `average_precision`, ...)."""
    base, _, scope = metric.partition("_at_")
    name, meaning, percent = METRICS_ES[base]
    if scope == "capacity":
        name += " a capacidad"
    elif scope.startswith("top_"):
        name += f" en el {scope.removeprefix('top_').removesuffix('pct')} % superior"
    return name, meaning, percent


def _validation_html(validation: Mapping[str, Any]) -> str:
    name, meaning, percent = metric_es(validation["metric"])
    show = "{:.1%}".format if percent else "{:.3f}".format
    rows = "".join(
        f"<tr><td>{w['as_of']}</td><td>{show(w['value'])}</td>"
        f"<td>{show(w['ci_low'])} a {show(w['ci_high'])}</td><td>{w['labelled_in_list']}</td></tr>"
        if not pd.isna(w["value"]) else
        f"<tr><td>{w['as_of']}</td><td>sin datos</td><td></td><td>0</td></tr>"
        for w in validation["windows"]
    )
    capacity = validation["windows"][0]["capacity"] if validation["windows"] else 0
    return (
        "<h2>Cómo se comprobó la lista</h2>"
        f"<p>En cada fecha histórica se entrenó solo con lo conocido antes de ella y se midió su "
        f"{name.lower()} (lista nacional de {capacity} visitas): {meaning}, en los "
        f"{validation['label_timespan_months']} meses siguientes.</p>"
        f'<table class="validacion"><thead><tr><th>Fecha</th><th>{name}</th>'
        "<th>Intervalo (bootstrap)</th><th>Centros inspeccionados en la lista</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _score_histogram(scores: pd.Series, cut: float) -> str:
    """Inline SVG histogram of all scores (log counts), with the list's lowest score marked."""
    values = np.log10(np.clip(scores.to_numpy(float), 1e-6, 1.0))
    counts, edges = np.histogram(values, bins=40)
    width, height = 420, 140
    top = np.log10(counts.max() + 1)
    bars = "".join(
        f'<rect x="{i * width / 40:.1f}" y="{height - np.log10(c + 1) / top * height:.1f}" '
        f'width="{width / 40 - 1:.1f}" height="{np.log10(c + 1) / top * height:.1f}"/>'
        for i, c in enumerate(counts)
    )
    x_cut = (np.log10(max(cut, 1e-6)) - edges[0]) / (edges[-1] - edges[0]) * width
    return (
        f'<svg class="histograma" width="{width}" height="{height + 20}" role="img" '
        'aria-label="Distribución del riesgo estimado">'
        f'<g fill="#5d6d7e">{bars}</g><line x1="{x_cut:.1f}" x2="{x_cut:.1f}" y1="0" '
        f'y2="{height}" stroke="#b03a2e" stroke-width="2"/>'
        f'<text x="0" y="{height + 15}" font-size="11">riesgo estimado (escala log, de '
        f'{10 ** edges[0]:.4f} a {10 ** edges[-1]:.2f}); línea roja: menor riesgo listado'
        "</text></svg>"
    )


STYLE = """
body{font-family:Arial,Helvetica,sans-serif;margin:1.5em;color:#222}
.confidencial{background:#b03a2e;color:#fff;font-weight:bold;padding:.4em .8em;letter-spacing:.1em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}
td.razon{min-width:16em}
td.razon ol{margin:0;padding-left:1.2em}
td.centro{min-width:11em}
tr.exploracion td{background:#d6eaf8}
tr.exploracion td.selection{font-weight:bold;color:#1a5276}
.nota-exploracion{border-left:5px solid #2e86c1;background:#eaf2f8;padding:.4em .8em}
section.oficina{border-top:3px solid #b03a2e;margin-top:2em;padding-top:.5em}
.fila{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
figure.mapa-fig{flex:0 1 340px;margin:0;max-width:100%}
svg.mapa{display:block;width:100%;height:auto;max-height:75vh;background:#fbfbfb;
 border:1px solid #ddd}
svg.mapa .territorio{fill:#c8c8c8}
svg.mapa .listed circle{fill:#b03a2e;fill-opacity:.85;stroke:#fff;stroke-width:calc(var(--u)*.15)}
svg.mapa .listed.exploracion circle{fill:#2e86c1}
svg.mapa .listed.mixto circle{stroke:#2e86c1;stroke-width:calc(var(--u)*.45)}
svg.mapa text{fill:#fff;font-weight:bold;text-anchor:middle}
svg.mapa text.nombre{fill:#222;font-weight:normal;text-anchor:start;paint-order:stroke;
 stroke:#fbfbfb;stroke-width:calc(var(--u)*.3)}
table.distritos{font-size:11px}
.tabla{flex:1 1 520px;min-width:0;overflow-x:auto}
@media (max-width:1280px){.fila{display:block}figure.mapa-fig{max-width:520px}}
ul.leyenda{list-style:none;padding:0;font-size:12px;margin:.4em 0}
ul.leyenda li{display:inline-block;margin-right:1em}
.punto{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.3em;
 vertical-align:middle;background:#b03a2e}
.punto.exploracion{background:#2e86c1}.punto.mixto{border:3px solid #2e86c1;width:.5em;height:.5em}
.punto.territorio{background:#c8c8c8;width:.5em;height:.5em}
@media print{
 @page{size:A4 landscape;margin:10mm;@top-right{content:"CONFIDENCIAL";color:#b03a2e}}
 body{margin:0;font-size:9pt}
 .confidencial,.resumen-grafico,.una-oficina h1,.una-oficina .metodo{display:none}
 section.oficina{break-before:page;border-top:none;margin-top:0;padding-top:0}
 .una-oficina section.oficina{break-before:auto}
 section.oficina h2::before{content:"CONFIDENCIAL - ";color:#b03a2e}
 .fila{display:block}
 figure.mapa-fig{max-width:none}
 svg.mapa{width:auto;max-width:100%;height:7cm;max-height:none}
 ul.leyenda{margin-bottom:.2em}
 .tabla{overflow:visible}
 table{font-size:7.5pt;break-inside:auto}
 thead{display:table-header-group}
 tr{break-inside:avoid}
 tr.exploracion td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def _page(title: str, body: str, single_office: bool = False) -> str:
    """A self-contained Spanish page marked CONFIDENCIAL at both ends (and on printed pages).

    Printed, every office starts a page of its own; an office's own report prints just its
    section, so its pages are the same as in the national report.
    """
    return (
        '<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{CONFIDENTIAL} - {html.escape(title)}</title><style>{STYLE}{SUMMARY_STYLE}</style>"
        "</head>"
        f'<body class="{"una-oficina" if single_office else "nacional"}">'
        f'<div class="confidencial">{CONFIDENTIAL} - uso exclusivo de SUNAFIL</div>'
        f'{body}<div class="confidencial">{CONFIDENTIAL}</div></body></html>'
    )


def _territory_maps(target: pd.DataFrame, districts: pd.DataFrame) -> dict[str, str]:
    """Each list's map of its visits over its districts (a list with no territory: the
    country), under "" the national map of every visit: drawn once, though the national report,
    the office's report and its first page each show it."""
    coordinates = districts.set_index("inei")[["longitude", "latitude"]]
    located = districts.dropna(subset=["longitude", "latitude"])
    located_offices = office_of(located["inei"])
    maps = {"": _office_map(target, located, coordinates)}
    for office, rows in target.groupby("office", sort=False):
        in_office = located_offices == office
        maps[str(office)] = _office_map(rows, located[in_office] if in_office.any() else located,
                                        coordinates)
    return maps


def _office_section(office: str, rows: pd.DataFrame, yields: pd.DataFrame, map_html: str,
                    team_rows: pd.DataFrame | None) -> str:
    """One office's list: expected yield, exploration note, map and legend, table, team context."""
    parts = [
        f'<section class="oficina" id="of-{html.escape(office)}">'
        f"<h2>{html.escape(str(rows['office_name'].iloc[0]))}</h2>"
        f"<p>{html.escape(_yield_sentence(yields.loc[office]))}</p>"
    ]
    if (rows["selection"] == EXPLORATION).any():
        parts.append(f'<p class="nota-exploracion">{html.escape(EXPLORATION_NOTE_ES)}</p>')
    parts.append(f'<div class="fila"><figure class="mapa-fig">'
                 f"{map_html}{LEGEND}</figure>"
                 f"{_table_html(rows)}</div>")
    if team_rows is not None and len(team_rows):
        team = str(team_rows["office_name"].iloc[0])
        parts.append(
            f"<h3>Contexto: {len(team_rows)} visitas del {html.escape(team)} en su territorio</h3>"
            "<p>No cuentan en la capacidad de esta oficina; conviene coordinarlas.</p>"
            f'{_table_html(team_rows, "contexto")}'
        )
    parts.append("</section>")
    return "".join(parts)


def _national_summary(target: pd.DataFrame, yields: pd.DataFrame) -> str:
    """Headquarters' table: visits, exploration and expected findings per list."""
    rows = "".join(
        f'<tr><td><a href="#of-{html.escape(str(o))}">{html.escape(str(r["office_name"].iloc[0]))}'
        f"</a></td><td>{len(r)}</td><td>{int((r['selection'] == EXPLORATION).sum())}</td>"
        f"<td>{decimal_es(yields.loc[o, 'expected_findings'])}</td></tr>"
        for o, r in target.groupby("office", sort=False)
    )
    return ('<table class="resumen indice"><thead><tr><th>Lista</th><th>Visitas</th>'
            "<th>Exploración</th><th>Hallazgos esperados</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _html(target: pd.DataFrame, yields: pd.DataFrame, validation: Mapping[str, Any],
          maps: Mapping[str, str], scores: pd.Series, figures: Mapping[str, Figure],
          as_of: str, front: str) -> str:
    """The national report for headquarters: the one-page summary (`front`), method,
    validation, every list."""
    images = "".join(
        f'<img alt="{html.escape(name)}" src="{_png_data_uri(figure)}"/>'
        for name, figure in figures.items()
    )
    cut = float(target.loc[target["selection"] == "modelo", "score"].min()) if len(target) else 0
    sections = "".join(  # the team's own section replaces its context in each office here
        _office_section(str(office), rows, yields, maps[str(office)], None)
        for office, rows in target.groupby("office", sort=False)
    )
    return _page(f"Lista priorizada {as_of}", (
        f"<h1>Lista priorizada de inspección - planificación {as_of}</h1>{front}"
        f"<p>{html.escape(METHOD_ES)}</p>"
        f"<p><strong>{html.escape(_yield_sentence(yields.loc['TOTAL']))}</strong></p>"
        f'<div class="resumen-grafico">{_validation_html(validation)}'
        f"<h2>Distribución del riesgo estimado</h2>{_score_histogram(scores, cut)}"
        f"<h2>Qué pesa en el riesgo</h2>{images}</div>"
        f"<h2>Oficinas</h2>{_national_summary(target, yields)}{sections}"
    ))


def _team_rows_in(target: pd.DataFrame, team_code: str | None, office: str) -> pd.DataFrame:
    """The specialised team's visits inside an office's territory (none for the team itself)."""
    if team_code is None or office == team_code:
        return target.iloc[0:0]
    team = target[target["office"] == team_code]
    return team[office_of(team["ubigeo"]) == office]


def _office_html(office: str, rows: pd.DataFrame, team_rows: pd.DataFrame,
                 yields: pd.DataFrame, map_html: str, as_of: str, front: str) -> str:
    name = str(rows["office_name"].iloc[0])
    return _page(f"{name} {as_of}", (
        f"<h1>{html.escape(name)}: lista priorizada de inspección - planificación {as_of}</h1>"
        f'{front}<p class="metodo">{html.escape(METHOD_ES)}</p>'
        f"{_office_section(office, rows, yields, map_html, team_rows)}"
    ), single_office=True)


def _office_front(office: str, rows: pd.DataFrame, team_rows: pd.DataFrame,
                  findings: pd.Series, map_html: str, previous: pd.DataFrame) -> str:
    """An office's first page: its summary, a link to its workbook, the team in its territory."""
    workbook = catalog.OFFICE_XLSX.within(".", office=office).name
    extra = (f'<p>Lista para imprimir y llenar en campo: <a href="{html.escape(workbook)}">'
             f"{html.escape(workbook)}</a></p>")
    if len(team_rows):
        team = str(team_rows["office_name"].iloc[0])
        extra += (f"<p>{html.escape(team)} visitará {len(team_rows)} centros en su territorio "
                  f"(prioridad {html.escape(', '.join(str(r) for r in team_rows['rank']))} de su "
                  "lista; detalle al final): conviene coordinarlas.</p>")
    extra += _district_table(rows)
    return summary_html(Summary(str(rows["office_name"].iloc[0]), rows, rows, findings, map_html,
                                changes_sentence(rows, previous), extra))


def _national_front(target: pd.DataFrame, yields: pd.DataFrame, map_html: str,
                    previous: pd.DataFrame, team_code: str | None) -> str:
    """The national first page; its first rows are the specialised team's (the country's
    highest risks), or the highest estimated probabilities when there is no team."""
    first = (target[target["office"] == team_code] if team_code in set(target["office"])
             else target.sort_values("probability", ascending=False))
    workbook = catalog.LIST_XLSX.within(".").name
    extra = (f'<p>Listas por oficina para imprimir: <a href="{html.escape(workbook)}">'
             f"{html.escape(workbook)}</a> y los archivos lista_&lt;oficina&gt;.xlsx.</p>")
    return summary_html(Summary("Resumen nacional", target, first, yields.loc["TOTAL"],
                                map_html,
                                changes_sentence(target, previous), extra))


def _write_office_files(staging: Path, target: pd.DataFrame, yields: pd.DataFrame,
                        maps: Mapping[str, str], as_of: str, team_code: str | None,
                        previous: pd.DataFrame) -> None:
    """lista_<office>.xlsx and reporte_<office>.html: that office's rows, team visits as context."""
    for office, rows in target.groupby("office", sort=False):
        office = str(office)
        team_rows = _team_rows_in(target, team_code, office)
        sheets = {office: rows}
        if len(team_rows):
            sheets[f"{team_code} en su territorio"] = team_rows
        write_workbook(sheets, catalog.OFFICE_XLSX.within(staging, office=office), as_of, yields)
        front = _office_front(office, rows, team_rows, yields.loc[office], maps[office],
                              previous)
        catalog.OFFICE_HTML.within(staging, office=office).write_text(
            _office_html(office, rows, team_rows, yields, maps[office], as_of, front),
            encoding="utf-8")


@dataclass(frozen=True)
class PlannerLists:
    """What the planners' files show: the lists, their expected yield, how the listing model was
    validated, every workplace's score (the histogram) and the figures."""

    target: pd.DataFrame  # models.targeting.lists.build_target_lists, with context columns
    yields: pd.DataFrame  # models.targeting.lists.yield_by_office
    validation: Mapping[str, Any]  # reporting.backtest.validation_for_planners
    scores: pd.Series  # by workplace_id
    figures: Mapping[str, Figure]


@dataclass(frozen=True)
class ListFiles:
    """The national files of a written list folder."""

    list_csv: Path
    list_json: Path
    list_xlsx: Path
    report_html: Path

    def paths(self) -> list[Path]:
        return [getattr(self, f.name) for f in fields(self)]


def write_planning_outputs(out_dir: Path, planning_date: pd.Timestamp, lists: PlannerLists,
                           districts: pd.DataFrame, *, office: str | None = None,
                           identity: pd.DataFrame | None = None,
                           team_code: str | None = None) -> ListFiles:
    """Write the dated list folder (`lista_<as-of>[_<office>]`) atomically; return its paths.

    `identity` (employer name and address by workplace_id) goes into the xlsx and html only.
    """
    target, yields = lists.target, lists.yields
    as_of = f"{planning_date.date()}"
    folder = catalog.OFFICE_LIST_FOLDER if office else catalog.LIST_FOLDER
    final = folder.path(out_dir, as_of=as_of, office=office or "")
    with files.replaced_folder(final) as staging:
        stable = target.drop(columns=["office_name", "eligible_mean_probability"],
                             errors="ignore")
        stable.insert(0, CLASSIFICATION_COLUMN, CONFIDENTIAL)
        inert_frame(stable).to_csv(catalog.LIST_CSV.within(staging), index=False,
                                   encoding="utf-8-sig")
        payload = {
            CLASSIFICATION_COLUMN: CONFIDENTIAL, "planning_date": as_of,
            "expected_yield": yields.reset_index().to_dict(orient="records"),
            "workplaces": json.loads(stable.drop(columns=[CLASSIFICATION_COLUMN]).to_json(
                orient="records", force_ascii=False)),
        }
        catalog.LIST_JSON.within(staging).write_text(
            json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        named = _with_identity(target, identity)
        previous = previous_list(read_list_log(catalog.LIST_LOG.path(out_dir)), planning_date)
        write_workbook(dict(iter(named.groupby("office", sort=False))),
                       catalog.LIST_XLSX.within(staging), as_of, yields)
        maps = _territory_maps(named, districts)
        catalog.REPORT_HTML.within(staging).write_text(
            _html(named, yields, lists.validation, maps, lists.scores, lists.figures, as_of,
                  _national_front(named, yields, maps[""], previous, team_code)),
            encoding="utf-8",
        )
        _write_office_files(staging, named, yields, maps, as_of, team_code, previous)
    return ListFiles(*(written.within(final) for written in (
        catalog.LIST_CSV, catalog.LIST_JSON, catalog.LIST_XLSX, catalog.REPORT_HTML)))

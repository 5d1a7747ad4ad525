"""The files a planner opens on Monday: Excel, CSV, JSON and a self-contained HTML report.

All of them go into one dated folder `<out>/lista_<as-of>/`, written into a temporary folder
first and renamed into place, so a reader never sees half a list. Every file is marked
CONFIDENCIAL. Excel and HTML speak Spanish; CSV and JSON keep the stable English column names
that other systems and the planners' scripts read.
"""

from __future__ import annotations

import base64
import html
import io
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.targeting import UNCALIBRATED_ESTIMATE

CONFIDENTIAL = "CONFIDENCIAL"
CLASSIFICATION_COLUMN = "clasificacion"
LIST_FILE = "lista_priorizada"

# Stable English column -> Spanish header, in the order planners read them.
HEADERS_ES: dict[str, str] = {
    "rank": "Prioridad",
    "workplace_id": "Centro de trabajo",
    "ruc": "RUC",
    "department": "Departamento",
    "province": "Provincia",
    "district": "Distrito",
    "ciiu": "CIIU",
    "score": "Puntaje de riesgo",
    "probability": "Probabilidad estimada de hallazgo",
    "selection": "Selección",
    "selection_probability": "Probabilidad de selección",
    "n_establishments": "N.º de establecimientos",
    "establishments": "Establecimientos de la visita",
    "reason_1": "Razón 1",
    "reason_2": "Razón 2",
    "reason_3": "Razón 3",
}
COLUMN_NOTES_ES: dict[str, str] = {
    "rank": "Orden de prioridad dentro de la oficina (1 = visitar primero).",
    "workplace_id": "RUC y código de establecimiento (0000 = domicilio fiscal).",
    "ruc": "RUC del empleador.",
    "department": "Departamento del centro de trabajo (INEI).",
    "province": "Provincia del centro de trabajo (INEI).",
    "district": "Distrito del centro de trabajo (INEI).",
    "ciiu": "Actividad económica (CIIU Rev. 4).",
    "score": "Puntaje del modelo: mayor puntaje, mayor riesgo de trabajo forzoso.",
    "probability": "Probabilidad estimada de que la inspección documente trabajo forzoso.",
    "selection": "modelo = elegido por su riesgo; exploracion = sorteo con probabilidad conocida.",
    "selection_probability": "Probabilidad con la que el sorteo incluyó la visita (1 si modelo).",
    "n_establishments": "Establecimientos del mismo RUC en el distrito, agrupados en una visita.",
    "establishments": "Códigos de los establecimientos de la visita.",
    "reason_1": "Principal razón del puntaje (explicación SHAP del modelo).",
    "reason_2": "Segunda razón del puntaje.",
    "reason_3": "Tercera razón del puntaje.",
}
METHOD_ES = (
    "Vigía ordena los centros de trabajo por su riesgo de trabajo forzoso, estimado con un modelo "
    "entrenado solo con hechos conocidos antes de la fecha de planificación: inspecciones y sus "
    "resultados (desde su fecha de cierre), denuncias (sin datos del denunciante), el registro de "
    "centros de trabajo y el contexto del distrito (pobreza, IDH, densidad, altitud). Los centros "
    "no inspeccionados nunca se cuentan como cumplidores. El modelo se validó en ventanas "
    "históricas sucesivas y se compara con listas simples (al azar, más denuncias, más "
    "infracciones, prior por sector y región). El equipo especializado (GEIT-TFI) toma primero "
    "los casos de mayor riesgo del país; cada intendencia llena luego su capacidad con los de su "
    "territorio. Una parte de cada lista (exploración) se sortea con probabilidad conocida para "
    "poder evaluar al modelo sin sesgo. Las razones provienen de los valores SHAP del modelo. "
    "No se excluye ningún centro por falta de denuncias: el trabajo forzoso rara vez se denuncia."
)

# Peru's bounding box for the inline map (degrees).
LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = -81.5, -68.5, -18.5, 0.2
MAP_WIDTH = 300


def _write_excel(target: pd.DataFrame, path: Path, as_of: str) -> None:
    """One sheet per office (frozen header, set widths, Spanish headers) plus a method sheet."""
    workbook = Workbook()
    method = workbook.active
    method.title = "Metodo"
    method.append([f"{CONFIDENTIAL} - Lista priorizada de inspección, planificación {as_of}"])
    method["A1"].font = Font(bold=True, color="B03A2E")
    method.append([])
    method.append(["Método"])
    method.append([METHOD_ES])
    method["A4"].alignment = Alignment(wrap_text=True, vertical="top")
    method.append([])
    method.append(["Columna", "Significado"])
    for column, header in HEADERS_ES.items():
        method.append([header, COLUMN_NOTES_ES[column]])
    method.column_dimensions["A"].width = 34
    method.column_dimensions["B"].width = 90
    header_fill = PatternFill("solid", fgColor="DDDDDD")
    for office, rows in target.groupby("office", sort=False):
        sheet = workbook.create_sheet(title=str(office)[:31])
        sheet.append([f"{CONFIDENTIAL} - {rows['office_name'].iloc[0]} - {as_of}"])
        sheet["A1"].font = Font(bold=True, color="B03A2E")
        sheet.append(list(HEADERS_ES.values()))
        for cell in sheet[2]:
            cell.font, cell.fill = Font(bold=True), header_fill
        for record in rows[list(HEADERS_ES)].itertuples(index=False):
            sheet.append([_excel_value(v) for v in record])
        sheet.freeze_panes = "A3"
        for index, column in enumerate(HEADERS_ES, start=1):
            longest = max([len(HEADERS_ES[column])] + [len(str(v)) for v in rows[column]])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, longest + 2)
    workbook.save(path)


def _excel_value(value: object) -> object:
    if isinstance(value, np.integer | np.floating):
        return round(float(value), 4) if isinstance(value, np.floating) else int(value)
    return value


def _png_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height = MAP_WIDTH * (LAT_MAX - LAT_MIN) / (LON_MAX - LON_MIN)
    x = (lon - LON_MIN) / (LON_MAX - LON_MIN) * MAP_WIDTH
    y = (LAT_MAX - lat) / (LAT_MAX - LAT_MIN) * height
    return x, y


def _districts_symbol(districts: pd.DataFrame) -> tuple[str, float]:
    """Every real district as a grey dot, defined once and reused by each office's map."""
    known = districts.dropna(subset=["longitude", "latitude"])
    x, y = _xy(known["longitude"].to_numpy(float), known["latitude"].to_numpy(float))
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="0.9"/>' for a, b in zip(x, y,
                                                                                    strict=True))
    height = MAP_WIDTH * (LAT_MAX - LAT_MIN) / (LON_MAX - LON_MIN)
    return (f'<svg width="0" height="0" style="position:absolute"><defs><g id="peru" '
            f'fill="#c8c8c8">{dots}</g></defs></svg>'), height


def _office_map(rows: pd.DataFrame, coordinates: pd.DataFrame, height: float) -> str:
    """Inline SVG: Peru's districts in grey, the office's listed workplaces in red."""
    located = rows.join(coordinates, on="ubigeo").dropna(subset=["longitude", "latitude"])
    x, y = _xy(located["longitude"].to_numpy(float), located["latitude"].to_numpy(float))
    points = "".join(
        f'<circle class="listed" cx="{a:.1f}" cy="{b:.1f}" r="3"><title>{html.escape(w)}'
        f"</title></circle>"
        for a, b, w in zip(x, y, located["workplace_id"], strict=True)
    )
    return (f'<svg class="mapa" width="{MAP_WIDTH}" height="{height:.0f}" role="img" '
            f'aria-label="Mapa de los centros de trabajo listados"><use href="#peru"/>'
            f'<g fill="#b03a2e" fill-opacity="0.8">{points}</g></svg>')


def _table_html(rows: pd.DataFrame) -> str:
    columns = ["rank", "workplace_id", "ruc", "department", "province", "district", "ciiu",
               "probability", "selection", "reason_1", "reason_2", "reason_3"]
    head = "".join(f"<th>{html.escape(HEADERS_ES[c])}</th>" for c in columns)
    body = []
    for record in rows[columns].itertuples(index=False):
        cells = []
        for column, value in zip(columns, record, strict=True):
            text = f"{value:.1%}" if column == "probability" else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="lista"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _yield_sentence(row: Mapping[str, Any]) -> str:
    uncalibrated = row.get("estimate") == UNCALIBRATED_ESTIMATE
    return (
        ("Estimación sin calibrar (el puntaje no es una probabilidad; sirve para comparar, no "
         "para contar): " if uncalibrated else "")
        + f"Hallazgos de trabajo forzoso esperados: {row['expected_findings']:.1f} "
        f"(intervalo del {row['confidence']:.0%}: {row['low']:.0f} a {row['high']:.0f}) en "
        f"{row['visits']:.0f} visitas; una lista al azar del mismo tamaño: "
        f"{row['random_list_expected_findings']:.1f}."
    )


def _validation_html(validation: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{w['as_of']}</td><td>{w['precision']:.1%}</td>"
        f"<td>{w['ci_low']:.1%} a {w['ci_high']:.1%}</td><td>{w['labelled_in_list']}</td></tr>"
        if not pd.isna(w["precision"]) else
        f"<tr><td>{w['as_of']}</td><td>sin datos</td><td></td><td>0</td></tr>"
        for w in validation["windows"]
    )
    capacity = validation["windows"][0]["capacity"] if validation["windows"] else 0
    return (
        "<h2>Cómo se validó el modelo</h2>"
        f"<p>Modelo elegido: <code>{html.escape(validation['model_group'])}</code>. En cada fecha "
        "histórica se entrenó solo con lo conocido antes de ella y se midió la precisión de la "
        f"lista nacional de {capacity} visitas: la proporción de inspecciones con trabajo forzoso "
        "documentado entre los centros de la lista que sí fueron inspeccionados en los 6 meses "
        "siguientes.</p>"
        '<table class="validacion"><thead><tr><th>Fecha</th><th>Precisión a capacidad</th>'
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
        'aria-label="Distribución de puntajes">'
        f'<g fill="#5d6d7e">{bars}</g><line x1="{x_cut:.1f}" x2="{x_cut:.1f}" y1="0" '
        f'y2="{height}" stroke="#b03a2e" stroke-width="2"/>'
        f'<text x="0" y="{height + 15}" font-size="11">puntaje (escala log, de '
        f'{10 ** edges[0]:.4f} a {10 ** edges[-1]:.2f}); línea roja: menor puntaje listado'
        "</text></svg>"
    )


STYLE = """
body{font-family:Arial,Helvetica,sans-serif;margin:1.5em;color:#222}
.confidencial{background:#b03a2e;color:#fff;font-weight:bold;padding:.4em .8em;letter-spacing:.1em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}
section.oficina{border-top:3px solid #b03a2e;margin-top:2em;padding-top:.5em}
.fila{display:flex;gap:2em;align-items:flex-start}
"""


def _html(target: pd.DataFrame, yields: pd.DataFrame, validation: Mapping[str, Any],
          districts: pd.DataFrame, scores: pd.Series, figures: Mapping[str, Figure],
          as_of: str) -> str:
    symbol, height = _districts_symbol(districts)
    coordinates = districts.set_index("inei")[["longitude", "latitude"]]
    index = "".join(
        f'<li><a href="#of-{html.escape(str(o))}">{html.escape(str(r["office_name"].iloc[0]))}'
        f"</a> ({len(r)})</li>"
        for o, r in target.groupby("office", sort=False)
    )
    sections = []
    for office, rows in target.groupby("office", sort=False):
        sections.append(
            f'<section class="oficina" id="of-{html.escape(str(office))}">'
            f"<h2>{html.escape(str(rows['office_name'].iloc[0]))}</h2>"
            f"<p>{html.escape(_yield_sentence(yields.loc[office]))}</p>"
            f'<div class="fila">{_office_map(rows, coordinates, height)}'
            f"{_table_html(rows)}</div></section>"
        )
    images = "".join(
        f'<img alt="{html.escape(name)}" src="{_png_data_uri(figure)}"/>'
        for name, figure in figures.items()
    )
    cut = float(target.loc[target["selection"] == "modelo", "score"].min()) if len(target) else 0
    return (
        '<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">'
        f"<title>{CONFIDENTIAL} - Lista priorizada {as_of}</title><style>{STYLE}</style></head>"
        f'<body>{symbol}<div class="confidencial">{CONFIDENTIAL} - uso exclusivo de SUNAFIL'
        f"</div><h1>Lista priorizada de inspección - planificación {as_of}</h1>"
        f"<p>{html.escape(METHOD_ES)}</p>"
        f"<p><strong>{html.escape(_yield_sentence(yields.loc['TOTAL']))}</strong></p>"
        f"{_validation_html(validation)}"
        f"<h2>Distribución de puntajes</h2>{_score_histogram(scores, cut)}"
        f"<h2>Qué pesa en el riesgo</h2>{images}"
        f"<h2>Oficinas</h2><ul>{index}</ul>{''.join(sections)}"
        f'<div class="confidencial">{CONFIDENTIAL}</div></body></html>'
    )


def write_planning_outputs(
    out_dir: Path, planning_date: pd.Timestamp, target: pd.DataFrame, yields: pd.DataFrame,
    validation: Mapping[str, Any], districts: pd.DataFrame, scores: pd.Series,
    figures: Mapping[str, Figure], office: str | None = None,
) -> dict[str, Path]:
    """Write the dated list folder (`lista_<as-of>[_<office>]`) atomically; return its paths."""
    as_of = f"{planning_date.date()}"
    final = Path(out_dir) / (f"lista_{as_of}" + (f"_{office}" if office else ""))
    staging = Path(tempfile.mkdtemp(prefix=f".lista_{as_of}_", dir=out_dir))
    try:
        stable = target.drop(columns=["office_name", "eligible_mean_probability"],
                             errors="ignore")
        stable.insert(0, CLASSIFICATION_COLUMN, CONFIDENTIAL)
        stable.to_csv(staging / f"{LIST_FILE}.csv", index=False, encoding="utf-8")
        payload = {
            CLASSIFICATION_COLUMN: CONFIDENTIAL, "planning_date": as_of,
            "expected_yield": yields.reset_index().to_dict(orient="records"),
            "workplaces": json.loads(stable.drop(columns=[CLASSIFICATION_COLUMN]).to_json(
                orient="records", force_ascii=False)),
        }
        (staging / f"{LIST_FILE}.json").write_text(
            json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        _write_excel(target, staging / f"{LIST_FILE}.xlsx", as_of)
        (staging / "reporte.html").write_text(
            _html(target, yields, validation, districts, scores, figures, as_of),
            encoding="utf-8",
        )
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {
        "list_csv": final / f"{LIST_FILE}.csv",
        "list_json": final / f"{LIST_FILE}.json",
        "list_xlsx": final / f"{LIST_FILE}.xlsx",
        "report_html": final / "reporte.html",
    }

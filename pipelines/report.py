"""Planner-ready files of a target list, written atomically into `<out>/lista_<as_of>/`.

- `lista_priorizada.xlsx`: one sheet per office (CONFIDENCIAL title row, Spanish headers,
  frozen header, set column widths) and a "Metodo" sheet explaining columns and method;
- `lista_priorizada.csv` / `.json`: the same rows (CSV in UTF-8 with BOM so Excel keeps
  accents; JSON with a `clasificacion` field);
- `reporte.html`: one self-contained page (inline CSS, inline SVG, base64 PNG; no network) with
  each office's list, reasons, a map over Peru's districts, the score distribution, how the
  model was validated and the expected yield.

Everything is written into a hidden temporary folder next to the destination, then renamed, so
a planner never opens a half-written list.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.explain import Explanation, beeswarm_figure, importance_bar_figure
from models.targeting import LIST_COLUMNS, office_of, yield_by_office

TEMPLATES = Path(__file__).resolve().parent / "templates"
CONFIDENTIAL = "CONFIDENCIAL"
EXCEL_FILE, CSV_FILE, JSON_FILE, HTML_FILE = (
    "lista_priorizada.xlsx", "lista_priorizada.csv", "lista_priorizada.json", "reporte.html",
)
HEADERS_ES = {
    "office": "oficina", "office_name": "nombre_oficina", "rank": "prioridad",
    "workplace_id": "centro_de_trabajo", "establishments": "establecimientos",
    "n_establishments": "n_establecimientos", "ruc": "ruc", "ubigeo": "ubigeo",
    "department": "departamento", "province": "provincia", "district": "distrito",
    "ciiu": "ciiu", "score": "puntaje_riesgo", "probability": "probabilidad_trabajo_forzoso",
    "selection": "seleccion", "selection_probability": "probabilidad_seleccion",
    "eligible_mean_probability": "probabilidad_media_elegibles",
    "reason_1": "motivo_1", "reason_2": "motivo_2", "reason_3": "motivo_3",
}
COLUMNS_EXPLAINED_ES = {
    "oficina": "Código de la oficina: GEIT-TFI (equipo especializado nacional), ILM (Lima "
               "Metropolitana) o código INEI del departamento de la intendencia regional.",
    "prioridad": "Orden dentro de la lista de la oficina (1 = primera visita).",
    "centro_de_trabajo": "Establecimiento principal de la visita (RUC-código de local).",
    "establecimientos": "Todos los establecimientos del mismo RUC en el mismo distrito que la "
                        "visita cubre, separados por ';'.",
    "puntaje_riesgo": "Puntaje del modelo (ordena la lista; no es una probabilidad).",
    "probabilidad_trabajo_forzoso": "Probabilidad calibrada de hallar trabajo forzoso en la "
                                    "visita (al menos un establecimiento).",
    "seleccion": "'modelo': elegido por su puntaje; 'exploracion': sorteado para aprender "
                 "dónde el modelo no mira.",
    "probabilidad_seleccion": "Probabilidad de que la visita entrara en la lista: 1 para "
                              "'modelo'; la probabilidad exacta del sorteo para 'exploracion'.",
    "probabilidad_media_elegibles": "Probabilidad media de los centros elegibles de la oficina "
                                    "(referencia de una lista al azar).",
    "motivo_1..3": "Los factores que más elevan el riesgo de ese centro, en palabras. Las "
                   "denuncias se mencionan sin datos que identifiquen a quien denunció.",
}
METHOD_ES = (
    "Cada centro de trabajo recibe un puntaje de riesgo de trabajo forzoso de un modelo "
    "entrenado solo con hechos anteriores a la fecha de corte y validado en fechas posteriores "
    "a su entrenamiento (validación temporal). Se excluyen los centros inspeccionados en los "
    "últimos meses. El equipo especializado GEIT-TFI toma primero los casos de mayor riesgo del "
    "país; luego cada intendencia llena su capacidad con los de mayor puntaje de su territorio "
    "y una parte se sortea con probabilidades conocidas (exploración), para que la evaluación "
    "posterior no dependa solo de donde el modelo ya mira. Ningún centro aparece dos veces."
)
MAP_WIDTH = 320.0


def scores_with_office(scores: pd.DataFrame, workplaces: pd.DataFrame) -> pd.DataFrame:
    """office and score of every scored workplace, for the per-office score distribution."""
    frame = scores[["workplace_id", "score"]].merge(workplaces[["workplace_id", "ubigeo"]],
                                                    on="workplace_id")
    return pd.DataFrame({"office": office_of(frame["ubigeo"]).to_numpy(),
                         "score": frame["score"].to_numpy()})


def sheet_name(office: str, office_name: str) -> str:
    """A short, readable Excel sheet name: the code in the office name's parentheses."""
    match = re.search(r"\(([^)]+)\)\s*$", office_name)
    return (match.group(1) if match else office)[:31]


def spanish_rows(target_list: pd.DataFrame) -> pd.DataFrame:
    """The list with Spanish headers, in the documented column order."""
    return target_list[LIST_COLUMNS].rename(columns=HEADERS_ES)


def _cell(value: object) -> object:
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def write_excel(target_list: pd.DataFrame, yields: pd.DataFrame, as_of: str, path: Path) -> None:
    """One sheet per office plus "Metodo"; title row CONFIDENCIAL, header frozen below it."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    rows = spanish_rows(target_list)
    bold, red = Font(bold=True), Font(bold=True, color="FFFFFF")
    for office, group in rows.groupby("oficina", sort=False):
        office_name = str(group["nombre_oficina"].iat[0])
        sheet = workbook.create_sheet(sheet_name(str(office), office_name))
        sheet.append([f"{CONFIDENTIAL} · {office_name} · fecha de corte {as_of}"])
        sheet["A1"].font, sheet["A1"].fill = red, PatternFill("solid", fgColor="8B0000")
        sheet.append(list(rows.columns))
        for cell in sheet[2]:
            cell.font = bold
        for record in group.itertuples(index=False):
            sheet.append([_cell(v) for v in record])
        sheet.freeze_panes = "A3"
        for index, column in enumerate(rows.columns, start=1):
            longest = max([len(column), *(len(str(v)) for v in group[column].head(200))])
            sheet.column_dimensions[get_column_letter(index)].width = min(longest + 2, 70)
    method = workbook.create_sheet("Metodo")
    method.append([f"{CONFIDENTIAL} · Método y columnas · fecha de corte {as_of}"])
    method["A1"].font = bold
    method.append(["Método", METHOD_ES])
    method.append([])
    method.append(["Columna", "Significado"])
    for column, meaning in COLUMNS_EXPLAINED_ES.items():
        method.append([column, meaning])
    method.append([])
    method.append(["Oficina", "Visitas", "Hallazgos esperados", "Intervalo bajo",
                   "Intervalo alto", "Lista al azar"])
    for office, y in yields.iterrows():
        method.append([office, y["visits"], round(y["expected_findings"], 2), y["low"], y["high"],
                       round(y["random_list_expected_findings"], 2)])
    method.column_dimensions["A"].width = 30
    method.column_dimensions["B"].width = 110
    for row in method.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(path)


def write_csv_json(target_list: pd.DataFrame, yields: pd.DataFrame, as_of: str,
                   csv_path: Path, json_path: Path) -> None:
    """The same rows as CSV (first column `clasificacion`) and JSON (a `clasificacion` field)."""
    rows = spanish_rows(target_list)
    rows.insert(0, "clasificacion", CONFIDENTIAL)
    rows.to_csv(csv_path, index=False, encoding="utf-8-sig")
    document = {
        "clasificacion": CONFIDENTIAL,
        "fecha_corte": as_of,
        "metodo": METHOD_ES,
        "rendimiento_esperado": json.loads(yields.reset_index().to_json(orient="records")),
        "filas": json.loads(rows.drop(columns="clasificacion").to_json(orient="records",
                                                                       force_ascii=False)),
    }
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def _projection(districts: pd.DataFrame) -> tuple[Callable[[float, float], tuple[float, float]],
                                                  float]:
    """Equirectangular projection of Peru scaled to MAP_WIDTH; returns (project, height)."""
    lat, lon = districts["latitude"].astype(float), districts["longitude"].astype(float)
    stretch = math.cos(math.radians(float(lat.mean())))
    scale = MAP_WIDTH / ((lon.max() - lon.min()) * stretch)

    def project(latitude: float, longitude: float) -> tuple[float, float]:
        return ((longitude - lon.min()) * stretch * scale + 4, (lat.max() - latitude) * scale + 4)

    return project, (lat.max() - lat.min()) * scale + 8


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram_svg(all_scores: np.ndarray, listed: np.ndarray, bins: int = 30) -> str:
    """Inline SVG: log-scaled counts of all scores (grey) and of listed scores (red)."""
    width, height = 300.0, 160.0
    top = float(max(all_scores.max(initial=0.0), listed.max(initial=0.0), 1e-9))
    edges = np.linspace(0.0, top, bins + 1)
    counts_all, _ = np.histogram(all_scores, edges)
    counts_listed, _ = np.histogram(listed, edges)
    peak = math.log10(1 + max(counts_all.max(initial=0), counts_listed.max(initial=0), 1))
    bar = width / bins
    shapes = [f'<svg class="histograma" width="{width:.0f}" height="{height + 20:.0f}" '
              f'viewBox="0 0 {width:.0f} {height + 20:.0f}" role="img" '
              'aria-label="Distribución del puntaje">']
    for i, (a, b) in enumerate(zip(counts_all, counts_listed, strict=True)):
        for count, color in ((a, "#bbbbbb"), (b, "#c0392b")):
            h = height * math.log10(1 + count) / peak
            shapes.append(f'<rect x="{i * bar:.1f}" y="{height - h:.1f}" width="{bar - 1:.1f}" '
                          f'height="{h:.1f}" fill="{color}"/>')
    shapes.append(f'<text x="0" y="{height + 15:.0f}" font-size="10">0</text>'
                  f'<text x="{width - 40:.0f}" y="{height + 15:.0f}" font-size="10">'
                  f'{top:.2f}</text></svg>')
    return "".join(shapes)


def _yield_rows(yields: pd.DataFrame) -> list[dict[str, str]]:
    return [{
        "office": str(office), "visits": f"{y['visits']:.0f}",
        "expected": f"{y['expected_findings']:.1f}", "interval": f"{y['low']:.0f}–{y['high']:.0f}",
        "random": f"{y['random_list_expected_findings']:.1f}",
    } for office, y in yields.iterrows()]


def render_html(target_list: pd.DataFrame, yields: pd.DataFrame, as_of: str,
                districts: pd.DataFrame, office_scores: pd.DataFrame,
                validation: Mapping[str, Any], confidence: float,
                figures_png: Mapping[str, str]) -> str:
    """The self-contained HTML report (see the module docstring)."""
    located = districts.dropna(subset=["latitude", "longitude"])
    project, map_height = _projection(located)
    coordinates = located.set_index("inei")[["latitude", "longitude"]].astype(float)
    district_points = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.1" fill="#cfcfcf"/>'
        for x, y in (project(a, o) for a, o in coordinates.itertuples(index=False))
    )
    rows = spanish_rows(target_list)
    shown = ["prioridad", "centro_de_trabajo", "establecimientos", "ruc", "departamento",
             "provincia", "distrito", "ciiu", "puntaje_riesgo", "probabilidad_trabajo_forzoso",
             "seleccion", "probabilidad_seleccion", "motivo_1", "motivo_2", "motivo_3"]
    numeric = {"puntaje_riesgo", "probabilidad_trabajo_forzoso", "probabilidad_seleccion"}
    offices = []
    for office, group in rows.groupby("oficina", sort=False):
        points = []
        for record in group.itertuples(index=False):
            record = record._asdict()
            if record["ubigeo"] in coordinates.index:
                x, y = project(*coordinates.loc[record["ubigeo"]])
                color = "#c0392b" if record["seleccion"] == "modelo" else "#e67e22"
                points.append({"x": f"{x:.1f}", "y": f"{y:.1f}", "color": color,
                               "title": f"{record['prioridad']}. {record['centro_de_trabajo']}"})
        regional = office_scores["office"] == office
        in_office = office_scores.loc[regional, "score"] if regional.any() else office_scores[
            "score"]  # the national team's list is compared with every scored workplace
        y = yields.loc[office]
        offices.append({
            "code": office, "name": group["nombre_oficina"].iat[0],
            "sheet": sheet_name(str(office), str(group["nombre_oficina"].iat[0])),
            "expected": f"{y['expected_findings']:.1f} ({y['low']:.0f}–{y['high']:.0f})",
            "random": f"{y['random_list_expected_findings']:.1f}",
            "points": points,
            "histogram": _histogram_svg(in_office.to_numpy(dtype=float),
                                        group["puntaje_riesgo"].to_numpy(dtype=float)),
            "rows": [{"selection": r["seleccion"], "cells": [
                {"text": f"{r[c]:.3f}" if c in numeric else r[c], "num": c in numeric}
                for c in shown]} for r in group[shown].to_dict("records")],
        })
    table = validation.get("table")
    environment = Environment(loader=FileSystemLoader(TEMPLATES),
                              autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("reporte.html.j2").render(
        as_of=as_of, method_es=METHOD_ES, offices=offices, table_headers=shown,
        district_points=district_points, map_width=f"{MAP_WIDTH + 8:.0f}",
        map_height=f"{map_height:.0f}", map_viewbox=f"0 0 {MAP_WIDTH + 8:.0f} {map_height:.0f}",
        validation={
            "summary_es": validation.get("summary_es", ""),
            "precision_at_capacity": validation.get("precision_at_capacity"),
            "table": None if table is None else {
                "columns": [str(c) for c in table.columns],
                "rows": table.astype(object).where(table.notna(), "").values.tolist(),
            },
        },
        yields=_yield_rows(yields), confidence_pct=f"{100 * confidence:.0f}",
        importance_png=figures_png.get("importance"), beeswarm_png=figures_png.get("beeswarm"),
    )


def write_list_outputs(
    target_list: pd.DataFrame, out_dir: Path, as_of: pd.Timestamp | str,
    districts: pd.DataFrame, office_scores: pd.DataFrame, validation: Mapping[str, Any],
    confidence: float = 0.90, explanation: Explanation | None = None,
    labels_es: Mapping[str, str] | None = None,
) -> Path:
    """Write Excel, CSV, JSON, HTML (and SHAP PNGs) into `<out_dir>/lista_<as_of>/` atomically.

    `office_scores` has office and score of every scored workplace (`scores_with_office`);
    `validation` has `summary_es`, `precision_at_capacity` and optionally a `table` DataFrame;
    `explanation` (of the listed rows) adds the global SHAP bar chart and beeswarm.
    """
    as_of_text = pd.Timestamp(as_of).date().isoformat()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"lista_{as_of_text}"
    staging = Path(tempfile.mkdtemp(prefix=f".lista_{as_of_text}.", dir=out_dir))
    try:
        yields = yield_by_office(target_list, confidence)
        figures_png: dict[str, str] = {}
        if explanation is not None:
            for key, draw in (("importance", importance_bar_figure), ("beeswarm", beeswarm_figure)):
                figure = draw(explanation, dict(labels_es or {}))
                figures_png[key] = _png(figure)
                (staging / f"shap_{key}.png").write_bytes(base64.b64decode(figures_png[key]))
                plt.close(figure)
        write_excel(target_list, yields, as_of_text, staging / EXCEL_FILE)
        write_csv_json(target_list, yields, as_of_text, staging / CSV_FILE, staging / JSON_FILE)
        html = render_html(target_list, yields, as_of_text, districts, office_scores,
                           validation, confidence, figures_png)
        (staging / HTML_FILE).write_text(html, encoding="utf-8")
        _replace_folder(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _replace_folder(staging: Path, final: Path) -> None:
    """Rename `staging` to `final`; an older `final` is moved aside first and removed after."""
    previous = None
    if final.exists():
        previous = final.with_name(f".{final.name}.old-{staging.name}")
        final.rename(previous)
    staging.rename(final)
    if previous is not None:
        shutil.rmtree(previous)

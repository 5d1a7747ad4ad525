"""The planners' workbook (xlsx): per list, a first sheet an inspector prints and carries, a
"Detalle" sheet with everything else, and a method sheet in plain Spanish.

The first sheet holds only what is read at the door, side by side: priority, follow-up or new,
employer, address, district, the reasons, the last inspection, and a blank "Resultado de la
visita" block (order number, date, finding yes/no, with validation lists) filled in the field.
It prints on A4 landscape fitted to the page width (about 75% scale), headers repeated, panes
frozen at the employer. Dates and numbers are real cells; every text cell is inert (no formula).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from models.targeting.lists import EXPLORATION, UNCALIBRATED_ESTIMATE
from reporting.planner_words import (
    CASE_ES,
    CONFIDENTIAL,
    EXPLORATION_NOTE_ES,
    METHOD_ES,
    SELECTION_ES,
    decimal_es,
    inert,
)

# First sheet: (column of the list, Spanish header, width in characters), then the field block.
FIELD_COLUMNS: list[tuple[str, str, float]] = [
    ("rank", "Prioridad", 8), ("case", "Seguimiento / Nuevo", 11), ("name", "Empleador", 24),
    ("address", "Dirección", 24), ("district", "Distrito", 15), ("reasons", "Motivos", 50),
    ("last_inspection_on", "Última inspección", 11),
    ("last_inspection_result", "Resultado de la última inspección", 14),
]
RESULT_BLOCK: list[tuple[str, float]] = [
    ("N.º orden de inspección", 13), ("Fecha de la visita", 11), ("Hallazgo de trabajo forzoso",
                                                                   11),
]
RESULT_TITLE = "Resultado de la visita (llenar en campo)"
FINDING_CHOICES = '"sí,no"'
HEADER_ROW = 4  # first sheet: title, expected findings, block title, then the headers
# Stable English column -> Spanish header of the Detalle sheet, in the order planners read them.
HEADERS_ES: dict[str, str] = {
    "rank": "Prioridad", "workplace_id": "Centro de trabajo", "ruc": "RUC",
    "name": "Empleador", "address": "Dirección", "department": "Departamento",
    "province": "Provincia", "district": "Distrito", "ciiu": "CIIU",
    "activity": "Actividad económica", "selection": "Selección", "case": "Tipo de visita",
    "chance": "Probabilidad de sorteo", "probability": "Probabilidad estimada de hallazgo",
    "last_inspection_on": "Última inspección",
    "last_inspection_result": "Resultado de la última inspección",
    "other_establishments_same_ruc": "Otros establecimientos del RUC",
    "principal_ruc": "RUC de la empresa principal",
    "n_establishments": "N.º de establecimientos",
    "establishments": "Establecimientos de la visita",
    "reason_1": "Motivo 1", "reason_2": "Motivo 2", "reason_3": "Motivo 3",
}
COLUMN_NOTES_ES: dict[str, str] = {
    "rank": "Orden de prioridad dentro de la oficina (1 = visitar primero).",
    "workplace_id": "RUC y código de establecimiento (0000 = domicilio fiscal).",
    "ruc": "RUC del empleador.",
    "name": "Razón social o nombre del empleador (dato confidencial del registro).",
    "address": "Dirección del establecimiento según el registro; si falta, cómo ubicarlo.",
    "department": "Departamento del centro de trabajo (INEI).",
    "province": "Provincia del centro de trabajo (INEI).",
    "district": "Distrito del centro de trabajo (INEI).",
    "ciiu": "Código de actividad económica (CIIU Rev. 4).",
    "activity": "Actividad económica en palabras.",
    "selection": "Riesgo = elegido por su riesgo estimado; Exploración = sorteo con "
                 "probabilidad conocida.",
    "case": "Seguimiento = ya se documentó trabajo forzoso en este centro antes de la fecha de "
            "planificación (reinspección); Nuevo = sin hallazgo previo (posible descubrimiento).",
    "chance": "Solo en exploración: probabilidad con la que el sorteo incluyó la visita.",
    "probability": "Probabilidad estimada de que la inspección documente trabajo forzoso.",
    "last_inspection_on": "Fecha de la última orden de inspección (vacío si nunca).",
    "last_inspection_result": "Resultado conocido de esa inspección a la fecha de planificación.",
    "other_establishments_same_ruc": "Establecimientos del mismo RUC fuera de esta visita.",
    "principal_ruc": "Si es subcontratista o intermediario: RUC de la empresa principal.",
    "n_establishments": "Establecimientos del mismo RUC en el distrito, agrupados en una visita.",
    "establishments": "Códigos de los establecimientos de la visita.",
    "reason_1": "Primer motivo: primero los hechos del propio centro, luego su registro y a lo "
                "sumo uno de su zona; en cada grupo, lo que más lo distingue de los demás "
                "listados. En exploración, por qué se sorteó.",
    "reason_2": "Segundo motivo.",
    "reason_3": "Tercer motivo.",
}
NUMBER_FORMATS = {"probability": "0.0%", "rank": "0", "n_establishments": "0",
                  "other_establishments_same_ruc": "0", "last_inspection_on": "dd/mm/yyyy"}
REASONS = ["reason_1", "reason_2", "reason_3"]
EXPLORATION_FILL = PatternFill("solid", fgColor="D6EAF8")
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
RED = Font(bold=True, color="B03A2E")


def findings_line_es(row: Mapping[str, Any]) -> str:
    """The list's expected findings with their interval, decimal commas (top of each sheet)."""
    prefix = ("Estimación sin calibrar, sirve para comparar oficinas, no para contar: "
              if row.get("estimate") == UNCALIBRATED_ESTIMATE else "")
    return (f"{prefix}Hallazgos de trabajo forzoso esperados: "
            f"{decimal_es(row['expected_findings'])} (intervalo del "
            f"{row['confidence'] * 100:.0f} %: {row['low']:.0f} a {row['high']:.0f}) en "
            f"{row['visits']:.0f} visitas.")


def _cell_value(column: str, value: object, row: Mapping[str, Any]) -> object:
    """A list value as a typed, inert cell: dates as dates, Spanish words for codes."""
    if column == "selection":
        return SELECTION_ES.get(str(value), value)
    if column == "case":
        return CASE_ES.get(str(value), value)
    if column == "chance":
        return value if row["selection"] == EXPLORATION else None
    if column == "last_inspection_on":
        return pd.Timestamp(value).to_pydatetime() if value else None
    if column == "reasons":
        return "\n".join(f"{i}. {row[c]}" for i, c in enumerate(REASONS, start=1) if row[c])
    if hasattr(value, "item"):  # numpy scalars to Python numbers
        return value.item()
    return inert(value)


def _write_rows(sheet: Worksheet, columns: list[str], rows: pd.DataFrame) -> None:
    """Rows under the headers, formatted, exploration filled, reasons wrapped.

    Each column's alignment is made once, and cells are reached by row and column number:
    `sheet.max_row` and `sheet[row]` scan every cell written so far (quadratic in a long list)."""
    alignments = {column: Alignment(vertical="top", wrap_text=column in (
        "reasons", "name", "address", "last_inspection_result", *REASONS)) for column in columns}
    for number, (_, row) in enumerate(rows.iterrows(), start=sheet.max_row + 1):
        sheet.append([_cell_value(c, row.get(c), row) for c in columns])
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(row=number, column=index)
            cell.number_format = NUMBER_FORMATS.get(column, cell.number_format)
            cell.alignment = alignments[column]
            if row["selection"] == EXPLORATION:
                cell.fill = EXPLORATION_FILL


def _header(sheet: Worksheet, row: int) -> None:
    for cell in sheet[row]:
        if cell.value is not None:
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _result_block(sheet: Worksheet, first: int, last_row: int) -> None:
    """The blank field columns: a date check on the visit date, a sí/no list on the finding."""
    letters = [get_column_letter(first + i) for i in range(len(RESULT_BLOCK))]
    sheet.cell(row=HEADER_ROW - 1, column=first, value=RESULT_TITLE).font = RED
    for letter, (header, width) in zip(letters, RESULT_BLOCK, strict=True):
        sheet[f"{letter}{HEADER_ROW}"] = header
        sheet.column_dimensions[letter].width = width
    dated = DataValidation(type="date", operator="greaterThan", formula1="36526",
                           allow_blank=True, error="Escriba una fecha (dd/mm/aaaa).")
    found = DataValidation(type="list", formula1=FINDING_CHOICES, allow_blank=True,
                           error="Elija sí o no.")
    dated.add(f"{letters[1]}{HEADER_ROW + 1}:{letters[1]}{last_row}")
    found.add(f"{letters[2]}{HEADER_ROW + 1}:{letters[2]}{last_row}")
    for validation in (dated, found):
        sheet.add_data_validation(validation)
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1, max_row=last_row, min_col=first + 1,
                               max_col=first + 1):
        row[0].number_format = "dd/mm/yyyy"


def _print_setup(sheet: Worksheet, last_column: str, title_row: int) -> None:
    """A4 landscape, fitted to the width, narrow margins, headers on every page."""
    sheet.print_title_rows = f"{title_row}:{title_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.25
    sheet.oddFooter.center.text = f"{CONFIDENTIAL} - página &P de &N"
    sheet.print_area = f"A1:{last_column}{max(sheet.max_row, title_row)}"


def field_sheet(sheet: Worksheet, heading: str, rows: pd.DataFrame,
                findings: Mapping[str, Any] | None) -> None:
    """The sheet an inspector prints: the columns read first, then the blank result block."""
    columns = [c for c, _, _ in FIELD_COLUMNS if c in rows.columns or c == "reasons"]
    sheet.append([f"{CONFIDENTIAL} - {heading}"])
    sheet["A1"].font = RED
    sheet.append([findings_line_es(findings) if findings is not None else ""])
    sheet["A2"].font = Font(bold=True)
    sheet.append([EXPLORATION_NOTE_ES if (rows["selection"] == EXPLORATION).any() else ""])
    headers = {c: (h, w) for c, h, w in FIELD_COLUMNS}
    sheet.append([headers[c][0] for c in columns])
    _write_rows(sheet, columns, rows)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = headers[column][1]
    last_row = max(sheet.max_row, HEADER_ROW + 1)
    _result_block(sheet, len(columns) + 1, last_row)
    _header(sheet, HEADER_ROW)
    frozen = columns.index("name") + 2 if "name" in columns else 3
    sheet.freeze_panes = f"{get_column_letter(frozen)}{HEADER_ROW + 1}"
    _print_setup(sheet, get_column_letter(len(columns) + len(RESULT_BLOCK)), HEADER_ROW)


def detail_sheet(sheet: Worksheet, heading: str, rows: pd.DataFrame) -> None:
    """Everything else about each visit, one column per fact, filterable."""
    columns = [c for c in HEADERS_ES if c in rows.columns]
    sheet.append([f"{CONFIDENTIAL} - {heading} - detalle"])
    sheet["A1"].font = RED
    sheet.append([HEADERS_ES[c] for c in columns])
    _header(sheet, 2)
    _write_rows(sheet, columns, rows)
    for index, column in enumerate(columns, start=1):
        longest = max([len(HEADERS_ES[column])] + [len(str(v)) for v in rows[column]])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, longest + 2)
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(sheet.max_row, 2)}"
    _print_setup(sheet, get_column_letter(len(columns)), 2)


def method_sheet(sheet: Worksheet, as_of: str) -> None:
    """How the list was made and what each column means, in plain Spanish."""
    sheet.append([f"{CONFIDENTIAL} - Lista priorizada de inspección, planificación {as_of}"])
    sheet["A1"].font = RED
    for line in ([], ["Método"], [METHOD_ES], [], ["Exploración"], [EXPLORATION_NOTE_ES], [],
                 ["Columna", "Significado"]):
        sheet.append(line)
    for cell in ("A4", "A7"):
        sheet[cell].alignment = Alignment(wrap_text=True, vertical="top")
    for column, header in HEADERS_ES.items():
        sheet.append([header, COLUMN_NOTES_ES[column]])
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 90


def write_workbook(lists: Mapping[str, pd.DataFrame], path: Any, as_of: str,
                   yields: pd.DataFrame) -> None:
    """Per list (office, or context such as the GEIT-TFI): its field sheet, then its detail;
    the method sheet last. A list's expected findings come from `yields` (yield_by_office)."""
    workbook = Workbook()
    first = workbook.active
    for title, rows in lists.items():
        heading = f"{rows['office_name'].iloc[0]} - {as_of}"
        sheet = first if first is not None else workbook.create_sheet()
        first = None
        sheet.title = title[:31]
        office = str(rows["office"].iloc[0])
        findings = yields.loc[office] if office in yields.index and title == office else None
        field_sheet(sheet, heading, rows, findings)
        detail = f"Detalle {title}"
        detail_sheet(workbook.create_sheet(detail if len(detail) <= 31  # Excel's limit
                                           else f"Detalle {title.split()[0]}"[:31]),
                     heading, rows)
    method_sheet(workbook.create_sheet("Metodo"), as_of)
    workbook.save(path)

"""Spanish words shared by the planners' workbook and HTML report, and cell values that are safe
and read as Peru writes numbers.

Planner text has no technical terms: no SHAP, no score, no model names. Text cells never start
a formula: OWASP's CSV-injection advice (a leading `=`, `+`, `-`, `@`, tab or carriage return is
prefixed with an apostrophe), because employer names and addresses come from a registry anyone
can write into.
"""

from __future__ import annotations

import pandas as pd

from models.targeting.lists import EXPLORATION, FOLLOW_UP, NEW

CONFIDENTIAL = "CONFIDENCIAL"
METHOD_ES = (
    "Vigía ordena los centros de trabajo por su riesgo de trabajo forzoso, estimado solo con "
    "hechos conocidos antes de la fecha de planificación: inspecciones y sus resultados (desde "
    "su fecha de cierre), denuncias (sin datos del denunciante), el registro de centros de "
    "trabajo y el contexto del distrito (pobreza, IDH, densidad, altitud). Los centros no "
    "inspeccionados nunca se cuentan como cumplidores. La estimación se comprobó en periodos "
    "pasados sucesivos y se compara con listas simples (al azar, más denuncias, más "
    "infracciones, por sector y región). El equipo especializado (GEIT-TFI) toma primero los "
    "casos de mayor riesgo del país; cada intendencia llena luego su capacidad con los de su "
    "territorio. Una parte de cada lista (exploración) se sortea con probabilidad conocida para "
    "medir sin sesgo dónde acierta la lista. Los motivos de cada fila dicen qué hechos del "
    "propio centro, de su registro o de su zona pesaron más en su riesgo. No se excluye ningún "
    "centro por falta de denuncias: el trabajo forzoso rara vez se denuncia."
)
EXPLORATION_NOTE_ES = (
    "Las visitas de exploración (marcadas en azul) se sortearon con una probabilidad conocida "
    "y deben realizarse todas, sin reemplazarlas por otras, porque son las únicas que permiten "
    "medir sin sesgo si la lista acierta."
)
SELECTION_ES = {"modelo": "Riesgo", EXPLORATION: "Exploración"}
CASE_ES = {FOLLOW_UP: "Seguimiento", NEW: "Nuevo"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """Text a spreadsheet would run as a formula, with an apostrophe before it; numbers as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column made inert and one line long (CSV files: pandas leaves a bare carriage
    return unquoted, which splits a row for most readers); numeric columns untouched."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(inert).replace(r"[\r\n]", " ", regex=True)
                           for c in text})


def decimal_es(value: float, digits: int = 1) -> str:
    """A number as Peru writes it in text: decimal comma ("97,1")."""
    return f"{value:.{digits}f}".replace(".", ",")


def address_or_fallback(address: object, ruc: object, district: object) -> str:
    """The registry's address, or why it is missing and how to find the place without it."""
    if isinstance(address, str) and address.strip():
        return address
    return (f"sin dirección en el registro: ubicar por RUC {ruc} en la consulta RUC de SUNAT "
            f"(domicilio y establecimientos) y en el distrito {district}")

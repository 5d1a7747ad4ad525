"""A small hand-written raw world (one row per rule to break) and writers of it as input files.

Shared by the validation, ingestion, quality-gate and registry-period tests.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from support import SHIPPED

from cleaning.contract import load_districts, ruc_check_digit
from cleaning.ingest import load_mapping
from cleaning.validation import validate_tables

REFERENCE_DATE = date(2026, 6, 30)


KNOWN_UBIGEOS = frozenset(load_districts()["inei"])


# Personal values planted in the world; no output of the gate may contain them.
COMPLAINANT_NAMES = ("Rosa Quispe Mamani", "Juan Ñahui Huamán")


COMPLAINANT_DOCS = ("40718235", "71234589")


PERSON_NAME = "Edwin Añamuro Cáceres"


def valid_ruc(first_ten: str) -> str:
    """A RUC with the right SUNAT check digit."""
    return first_ten + str(ruc_check_digit(first_ten))


def canonical_world(n_workplaces: int = 20) -> dict[str, pd.DataFrame]:
    """A valid world in canonical text form: n workplaces, 2 inspections and 1 complaint each."""
    rucs = [valid_ruc(f"20{100000 + i:08d}") for i in range(n_workplaces)]
    rucs[0] = valid_ruc("1040718235")  # a natural person: the name below is personal data
    ids = [f"{r}-0000" for r in rucs]
    workplaces = pd.DataFrame({
        "workplace_id": ids,
        "ruc": rucs,
        "name": [PERSON_NAME] + [f"EMPRESA MINERA AÑAY {i} S.A.C." for i in range(1, n_workplaces)],
        "ciiu": ["0729", "0220", "1410", "5610"] * (n_workplaces // 4),
        "ubigeo": ["170101", "150101", "211101", "250101"] * (n_workplaces // 4),
        "size_band": ["micro", "pequena", "mediana", "grande"] * (n_workplaces // 4),
        "declared_workers": [str(i) for i in range(n_workplaces)],
        "activity_start": ["2015-03-01"] * n_workplaces,
        "labour_regime": ["general", "agrario", "micro", "construccion"] * (n_workplaces // 4),
        "contractor_of": [rucs[1]] + [""] * (n_workplaces - 1),
    })
    inspections = pd.DataFrame({
        "inspection_id": [f"I{i:04d}" for i in range(2 * n_workplaces)],
        "workplace_id": ids * 2,
        "ordered_on": ["2024-01-10"] * n_workplaces + ["2025-05-02"] * n_workplaces,
        "closed_on": ["2024-02-10"] * n_workplaces + [""] * n_workplaces,
        "origin": ["complaint", "planned"] * n_workplaces,
        "team": ["regular", "specialized"] * n_workplaces,
        "subjects": ["wages;hours", "forced_labour", "", "osh"] * (n_workplaces // 2),
        "workers_covered": ["12"] * (2 * n_workplaces),
        "infraction_found": ["true", "false"] * n_workplaces,
        "fl_indicators": ["", "debt_bondage;retention_of_documents"] * n_workplaces,
        "forced_labour_found": ["false", "true"] * n_workplaces,
        "child_labour_found": ["false"] * (2 * n_workplaces),
        "victims_identified": ["0", "3"] * n_workplaces,
        "fine_uit": ["0", "12.5"] * n_workplaces,
    })
    complaints = pd.DataFrame({
        "complaint_id": [f"C{i:04d}" for i in range(n_workplaces)],
        "workplace_id": ids,
        "received_on": ["2023-12-01"] * n_workplaces,
        "channel": ["web", "phone", "in_person", "referral"] * (n_workplaces // 4),
        "topics": ["unpaid_wages;debt", ""] * (n_workplaces // 2),
        "anonymous": ["false", "true"] * (n_workplaces // 2),
        "complainant_name": [COMPLAINANT_NAMES[i % 2] for i in range(n_workplaces)],
        "complainant_doc": [COMPLAINANT_DOCS[i % 2] for i in range(n_workplaces)],
    })
    return {"workplaces": workplaces, "inspections": inspections, "complaints": complaints}


def as_raw(world: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """What the loader hands over: text, NA for empty, rows numbered from 1, no personal data."""
    raw = {}
    for table, frame in world.items():
        frame = frame.drop(columns=["name", "complainant_name", "complainant_doc"], errors="ignore")
        frame = frame.astype("str").where(frame != "")
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
        raw[table] = frame
    return raw


def run(world: dict[str, pd.DataFrame], **kwargs):
    return validate_tables(
        as_raw(world), known_ubigeos=KNOWN_UBIGEOS, reference_date=REFERENCE_DATE,
        **{"wrong_type_stop_share": SHIPPED.quality.max_wrong_type_share, **kwargs}
    )


def quarantined(outcome, table: str) -> dict[int, str]:
    q = outcome.quarantine[table]
    return dict(zip(q["source_row"], q["rule"], strict=True))


def assert_accounting(outcome) -> None:
    acc = outcome.accounting
    assert (acc["rows_in"] == acc["rows_clean"] + acc["rows_quarantined"]).all()


ROOT = Path(__file__).resolve().parent.parent


EXAMPLE_MAPPING = ROOT / "config" / "mappings" / "sunafil_export_example.yaml"


def write_canonical(world: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in world.items():
        frame.to_csv(folder / f"{table}.csv", index=False)
    return folder


SPANISH = {
    "origin": {"complaint": "DENUNCIA", "planned": "OPERATIVO PLANIFICADO"},
    "team": {"regular": "REGULAR", "specialized": "GEIT-TFI"},
    "size_band": {"micro": "MICRO", "pequena": "PEQUEÑA", "mediana": "MEDIANA", "grande": "GRANDE"},
    "labour_regime": {"general": "GENERAL", "agrario": "AGRARIO", "micro": "MICROEMPRESA",
                      "construccion": "CONSTRUCCIÓN CIVIL"},
    "channel": {"web": "WEB", "phone": "TELEFÓNICA", "in_person": "PRESENCIAL",
                "referral": "DERIVADA"},
    "subjects": {"wages": "REMUNERACIONES", "hours": "JORNADA", "osh": "SST",
                 "forced_labour": "TRABAJO FORZOSO"},
    "fl_indicators": {"debt_bondage": "SERVIDUMBRE POR DEUDAS",
                      "retention_of_documents": "RETENCIÓN DE DOCUMENTOS"},
    "topics": {"unpaid_wages": "REMUNERACIONES IMPAGAS", "debt": "DEUDA"},
}


BOOLEAN_COLUMNS = ("infraction_found", "forced_labour_found", "child_labour_found", "anonymous")


def write_spanish_export(world: dict[str, pd.DataFrame], folder: Path) -> Path:
    """The canonical world as a Spanish-headed Latin-1 `;` export, as the example mapping reads."""
    mapping = load_mapping(EXAMPLE_MAPPING)["tables"]
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in world.items():
        spec = mapping[table]
        out = frame.copy()
        for column in out.columns:
            if column in ("subjects", "fl_indicators", "topics"):
                out[column] = out[column].map(
                    lambda v, c=column: ", ".join(SPANISH[c][x] for x in v.split(";") if x))
            elif column in SPANISH:
                out[column] = out[column].map(SPANISH[column])
            elif column in BOOLEAN_COLUMNS:
                out[column] = out[column].map({"true": "SI", "false": "NO"})
            elif column in ("activity_start", "ordered_on", "closed_on", "received_on"):
                dates = pd.to_datetime(out[column].replace("", None))
                out[column] = dates.dt.strftime("%d/%m/%Y").fillna("")
            elif column == "fine_uit":
                out[column] = out[column].str.replace(".", ",")
        if table == "workplaces":
            out["ubigeo"] = out["ubigeo"].str.lstrip("0")  # as a spreadsheet leaves it
        out = out.rename(columns={v: k for k, v in spec["columns"].items()})
        out.to_csv(folder / spec["file"], sep=";", index=False, encoding="latin-1")
    return folder

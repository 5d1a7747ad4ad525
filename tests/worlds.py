"""The test suite's small worlds, in one place.

- `canonical_world`: a hand-written RAW world in canonical text form (one row per rule to
  break), with writers of it as input files (canonical CSV, a Spanish SUNAFIL-like export);
  for validation, ingestion, quality-gate and registry-period tests.
- `make_clean_tables`: a seeded CLEAN typed world (the quality gate's output form) where a
  latent risk per workplace drives complaints, inspections and outcomes, so features and labels
  carry a learnable signal; vectorised, so the feature benchmark can scale it up.

End-to-end tests use the demo-world generator itself at small size (tests/support.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from support import SHIPPED

from cleaning.contract import (
    CHANNELS,
    FL_INDICATORS,
    LABOUR_REGIMES,
    LIST_SEPARATOR,
    ORIGINS,
    RUC_WEIGHTS,
    SIZE_BANDS,
    SUBJECTS,
    TOPICS,
    load_districts,
    ruc_check_digit,
)
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


CIIU_CHOICES = ("0729", "0220", "0111", "1410", "2392", "4100", "5610", "4711", "6201", "8510")


def _rucs(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct RUCs with valid SUNAT check digits (prefix 10 or 20)."""
    prefix = rng.choice([10, 20], size=n, p=[0.3, 0.7])
    body = rng.choice(10**8, size=n, replace=False)
    first_ten = np.char.add(prefix.astype(str), np.char.zfill(body.astype(str), 8))
    digits = np.array([list(s) for s in first_ten], dtype=int) if n else np.zeros((0, 10), int)
    r = 11 - (digits @ RUC_WEIGHTS) % 11
    check = np.where(r == 10, 0, np.where(r == 11, 1, r))
    return np.char.add(first_ten, check.astype(str))


def _join_codes(rng: np.random.Generator, probs: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """A `;`-joined code list per row, each code drawn independently with its row probability."""
    draws = rng.random((len(probs), len(codes))) < probs[:, None]
    out = np.full(len(probs), "", dtype=object)
    for j, code in enumerate(codes):
        sep = np.where(out == "", "", LIST_SEPARATOR)
        out = np.where(draws[:, j], out + sep + code, out)
    return out


def _dates(rng: np.random.Generator, n: int, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    span = (end - start).days
    return (start + pd.to_timedelta(rng.integers(0, span + 1, size=n), unit="D")).to_numpy()


def make_clean_tables(
    n_workplaces: int = 300, seed: int = 7, start: str = "2018-01-01", end: str = "2024-12-31"
) -> dict[str, pd.DataFrame]:
    """Workplaces, inspections and complaints in clean typed form, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    districts = load_districts()
    n_rucs = max(1, int(n_workplaces * 0.7))
    rucs = _rucs(rng, n_rucs)
    owner = rng.integers(0, n_rucs, size=n_workplaces)
    establishment = pd.Series(owner).groupby(owner).cumcount().to_numpy()
    ruc = rucs[owner]
    workplace_id = np.char.add(np.char.add(ruc, "-"), np.char.zfill(establishment.astype(str), 4))
    ciiu = rng.choice(CIIU_CHOICES, size=n_workplaces)
    ubigeo = rng.choice(districts["inei"].to_numpy(dtype=str), size=n_workplaces)
    is_sub = rng.random(n_workplaces) < 0.15
    contractor_of = pd.array(np.where(is_sub, rng.choice(rucs, size=n_workplaces), None),
                             dtype="str")
    workplaces = pd.DataFrame({
        "workplace_id": workplace_id,
        "ruc": ruc,
        "ciiu": ciiu,
        "ubigeo": ubigeo,
        "size_band": rng.choice(SIZE_BANDS, size=n_workplaces, p=[0.8, 0.12, 0.05, 0.03]),
        "declared_workers": rng.poisson(8, size=n_workplaces).astype("int64"),
        "activity_start": _dates(rng, n_workplaces, pd.Timestamp("2000-01-01"), end_ts),
        "labour_regime": rng.choice(LABOUR_REGIMES, size=n_workplaces),
        "contractor_of": contractor_of,
    })
    workplaces["activity_start"] = workplaces["activity_start"].astype("datetime64[ns]")

    high_risk = np.isin(ciiu, ("0729", "0220", "2392", "1410"))
    risk = np.clip(rng.beta(1, 12, size=n_workplaces) + 0.25 * high_risk + 0.15 * is_sub, 0, 1)
    years = (end_ts - start_ts).days / 365.25

    n_complaints = rng.poisson(0.3 * years * (0.3 + 3 * risk))
    c_pos = np.repeat(np.arange(n_workplaces), n_complaints)
    m = len(c_pos)
    complaints = pd.DataFrame({
        "complaint_id": np.char.add("C", np.arange(m).astype(str)),
        "workplace_id": workplace_id[c_pos],
        "received_on": _dates(rng, m, start_ts, end_ts).astype("datetime64[ns]"),
        "channel": rng.choice(CHANNELS, size=m),
        "topics": _join_codes(rng, 0.05 + 0.5 * risk[c_pos], TOPICS).astype(str),
        "anonymous": rng.random(m) < 0.4,
    })

    n_inspections = rng.poisson(0.25 * years * (0.4 + 2 * risk))
    i_pos = np.repeat(np.arange(n_workplaces), n_inspections)
    k = len(i_pos)
    r = risk[i_pos]
    ordered_on = pd.to_datetime(_dates(rng, k, start_ts, end_ts))
    closed_on = ordered_on + pd.to_timedelta(rng.gamma(2.0, 45.0, size=k).astype(int), unit="D")
    open_mask = (closed_on > end_ts) | (rng.random(k) < 0.03)
    indicators = _join_codes(rng, 0.6 * r**1.5, FL_INDICATORS).astype(str)
    n_ind = np.char.count(indicators.astype(str), LIST_SEPARATOR) + (indicators != "")
    forced = (n_ind >= 2) & (rng.random(k) < 0.7)
    child = rng.random(k) < 0.1 * r
    infraction = forced | child | (rng.random(k) < 0.2 + 0.5 * r)
    inspections = pd.DataFrame({
        "inspection_id": np.char.add("I", np.arange(k).astype(str)),
        "workplace_id": workplace_id[i_pos],
        "ordered_on": ordered_on.astype("datetime64[ns]"),
        "closed_on": pd.Series(closed_on).where(~open_mask).astype("datetime64[ns]"),
        "origin": rng.choice(ORIGINS, size=k, p=[0.7, 0.2, 0.07, 0.03]),
        "team": np.where(rng.random(k) < 0.05 + 0.4 * r, "specialized", "regular"),
        "subjects": _join_codes(rng, np.full(k, 0.2), SUBJECTS).astype(str),
        "workers_covered": rng.poisson(6, size=k).astype("int64"),
        "infraction_found": infraction,
        "fl_indicators": indicators,
        "forced_labour_found": forced,
        "child_labour_found": child,
        "victims_identified": np.where(forced, rng.poisson(3, size=k) + 1, 0).astype("int64"),
        "fine_uit": np.where(infraction, rng.gamma(1.5, 4.0, size=k), 0.0),
    })
    return {"workplaces": workplaces, "inspections": inspections, "complaints": complaints}


def with_registry_periods(
    tables: dict[str, pd.DataFrame], seed: int = 7
) -> dict[str, pd.DataFrame]:
    """A copy with a `registry_periods` table: each closed inspection starts a period the day
    after it closed (the employer formalised workers), one period per workplace and day."""
    rng = np.random.default_rng(seed)
    closed = tables["inspections"].dropna(subset=["closed_on"])
    periods = pd.DataFrame({
        "workplace_id": closed["workplace_id"].to_numpy(),
        "period": (closed["closed_on"] + pd.Timedelta(days=1)).to_numpy(),
        "declared_workers": (closed["workers_covered"] + rng.poisson(8, len(closed))).to_numpy(),
        "size_band": rng.choice(SIZE_BANDS, size=len(closed), p=[0.6, 0.25, 0.1, 0.05]),
    }).drop_duplicates(["workplace_id", "period"]).reset_index(drop=True)
    periods["declared_workers"] = periods["declared_workers"].astype("int64")
    return {**tables, "registry_periods": periods}

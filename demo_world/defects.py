"""Contract violations injected the way real exports break, each one recorded for the tests.

A small share of rows (default 0.3%) gets one defect; every defect kind appears at least once so
that the quality gate can be checked against `truth/injected_defects.csv` (table, id, defect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cleaning.contract import RUC_WEIGHTS

DEFECTS = {
    "workplaces": ("wrong_check_digit", "unknown_ubigeo"),
    "inspections": ("closed_before_ordered", "duplicated_inspection_id", "unknown_subject_code",
                    "unknown_indicator_code", "negative_fine"),
    "complaints": ("orphan_workplace_id", "unknown_topic_code"),
}
ID_COLUMNS = {"workplaces": "workplace_id", "inspections": "inspection_id",
              "complaints": "complaint_id"}
# Spanish values that leak from unmapped exports.
UNKNOWN_SUBJECT = "trabajo_forzoso"
UNKNOWN_INDICATOR = "trata_de_personas"
UNKNOWN_TOPIC = "acoso_laboral"


def _orphan_ids(rng: np.random.Generator, known: set[str], n: int) -> list[str]:
    """Well-formed workplace ids with valid RUCs that the registry does not contain."""
    out: list[str] = []
    while len(out) < n:
        first_ten = "20" + "".join(str(d) for d in rng.integers(0, 10, 8))
        r = 11 - int(np.dot(RUC_WEIGHTS, [int(ch) for ch in first_ten])) % 11
        check = 0 if r == 10 else 1 if r == 11 else r
        candidate = f"{first_ten}{check}-0000"
        if candidate not in known:
            out.append(candidate)
    return out


def inject_defects(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
    share: float,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Return copies of the tables with defects and the list of what was broken where."""
    tables = {name: df.copy() for name, df in tables.items()}
    records: list[dict[str, str]] = []
    reniec_only = sorted(set(districts["reniec"].dropna()) - set(districts["inei"]))
    known_ids = set(tables["workplaces"]["workplace_id"])
    for table, kinds in DEFECTS.items():
        df = tables[table]
        id_col = ID_COLUMNS[table]
        total = max(len(kinds), int(round(share * len(df))))
        eligible = np.arange(len(df))
        if table == "inspections":
            eligible = np.flatnonzero(df["closed_on"].notna().to_numpy())
        rows = rng.choice(eligible, size=min(total, len(eligible)), replace=False)
        kind_of_row = np.asarray(kinds)[np.arange(len(rows)) % len(kinds)]
        for kind in kinds:
            picked = rows[kind_of_row == kind]
            if len(picked) == 0:
                continue
            loc = df.index[picked]
            if kind == "wrong_check_digit":
                bump = rng.integers(1, 10, len(picked))
                df.loc[loc, "ruc"] = [r[:10] + str((int(r[10]) + b) % 10)
                                      for r, b in zip(df.loc[loc, "ruc"], bump, strict=True)]
            elif kind == "unknown_ubigeo":
                pool = reniec_only or ["999999"]
                df.loc[loc, "ubigeo"] = [pool[i] for i in rng.integers(0, len(pool), len(picked))]
            elif kind == "closed_before_ordered":
                ordered = pd.to_datetime(df.loc[loc, "ordered_on"])
                back = pd.to_timedelta(rng.integers(1, 60, len(picked)), unit="D")
                df.loc[loc, "closed_on"] = (ordered - back).dt.strftime("%Y-%m-%d")
            elif kind == "duplicated_inspection_id":
                others = np.setdiff1d(np.arange(len(df)), rows)
                donors = rng.choice(others, size=len(picked), replace=False)
                df.loc[loc, "inspection_id"] = df[id_col].to_numpy()[donors]
            elif kind == "unknown_subject_code":
                df.loc[loc, "subjects"] = (df.loc[loc, "subjects"].fillna("") + ";"
                                           + UNKNOWN_SUBJECT).str.lstrip(";")
            elif kind == "unknown_indicator_code":
                df.loc[loc, "fl_indicators"] = (df.loc[loc, "fl_indicators"].fillna("") + ";"
                                                + UNKNOWN_INDICATOR).str.lstrip(";")
            elif kind == "negative_fine":
                fine = df.loc[loc, "fine_uit"].astype(float).abs().to_numpy()
                df.loc[loc, "fine_uit"] = np.char.mod("%.2f", -np.where(fine > 0, fine, 0.5))
            elif kind == "orphan_workplace_id":
                df.loc[loc, "workplace_id"] = _orphan_ids(rng, known_ids, len(picked))
            elif kind == "unknown_topic_code":
                df.loc[loc, "topics"] = (df.loc[loc, "topics"].fillna("") + ";"
                                         + UNKNOWN_TOPIC).str.lstrip(";")
            records.extend({"table": table, "id": i, "defect": kind}
                           for i in df.loc[loc, id_col])
        tables[table] = df
    defects = pd.DataFrame(records, columns=["table", "id", "defect"])
    return tables, defects.sort_values(["table", "defect", "id"]).reset_index(drop=True)

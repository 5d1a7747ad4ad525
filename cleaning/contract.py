"""The canonical input contract (CONTRACT.md v1) as data: tables, columns and code sets.

Validation, quarantine reasons, the demo-world generator and the features all read these
definitions, so a rule changes in exactly one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowStringArray

from settings import inputs

LIST_SEPARATOR = ";"

SIZE_BANDS = ("micro", "pequena", "mediana", "grande")
LABOUR_REGIMES = ("general", "micro", "pequena", "agrario", "construccion", "hogar", "other")
ORIGINS = ("complaint", "planned", "ex_officio", "authority_request")
SPECIALIZED_TEAM = "specialized"  # the forced and child labour group (GEIT-TFI)
TEAMS = ("regular", SPECIALIZED_TEAM)
SUBJECTS = (
    "wages", "hours", "osh", "registration", "social_security",
    "forced_labour", "child_labour", "discrimination", "union_rights",
)
CHANNELS = ("web", "phone", "in_person", "referral")
TOPICS = (
    "unpaid_wages", "withheld_documents", "excessive_hours", "threats_violence", "confinement",
    "debt", "unsafe_conditions", "child_labour", "recruitment_deception", "no_contract",
)
FL_INDICATORS = (
    "abuse_of_vulnerability", "deception", "restriction_of_movement", "isolation",
    "physical_sexual_violence", "intimidation_threats", "retention_of_documents",
    "withholding_of_wages", "debt_bondage", "abusive_conditions", "excessive_overtime",
)
RUC_PREFIXES = ("10", "15", "17", "20")
RUC_WEIGHTS = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])

# Columns that hold personal data: dropped at ingestion, never stored past the loader.
PERSONAL_COLUMNS = {
    "complaints": ("complainant_name", "complainant_doc"),
    "workplaces": ("name", "address"),
}


@dataclass(frozen=True)
class Column:
    """One canonical column: logical type, nullability and, for categories and lists, codes."""

    name: str
    kind: str  # str, int, float, bool, date, cat, list
    nullable: bool = False
    codes: tuple[str, ...] = field(default_factory=tuple)
    unique: bool = False
    minimum: float | None = None


TABLES: dict[str, tuple[Column, ...]] = {
    "workplaces": (
        Column("workplace_id", "str", unique=True),
        Column("ruc", "str"),
        Column("name", "str", nullable=True),
        Column("address", "str", nullable=True),
        Column("ciiu", "str"),
        Column("ubigeo", "str"),
        Column("size_band", "cat", codes=SIZE_BANDS),
        Column("declared_workers", "int", minimum=0),
        Column("activity_start", "date"),
        Column("labour_regime", "cat", codes=LABOUR_REGIMES),
        Column("contractor_of", "str", nullable=True),
    ),
    "inspections": (
        Column("inspection_id", "str", unique=True),
        Column("workplace_id", "str"),
        Column("ordered_on", "date"),
        Column("closed_on", "date", nullable=True),
        Column("origin", "cat", codes=ORIGINS),
        Column("team", "cat", codes=TEAMS),
        Column("subjects", "list", nullable=True, codes=SUBJECTS),
        Column("workers_covered", "int", minimum=0),
        Column("infraction_found", "bool"),
        Column("fl_indicators", "list", nullable=True, codes=FL_INDICATORS),
        Column("forced_labour_found", "bool"),
        Column("child_labour_found", "bool"),
        Column("victims_identified", "int", minimum=0),
        Column("fine_uit", "float", minimum=0),
    ),
    "complaints": (
        Column("complaint_id", "str", unique=True),
        Column("workplace_id", "str"),
        Column("received_on", "date"),
        Column("channel", "cat", codes=CHANNELS),
        Column("topics", "list", nullable=True, codes=TOPICS),
        Column("anonymous", "bool"),
        Column("complainant_name", "str", nullable=True),
        Column("complainant_doc", "str", nullable=True),
    ),
    # Optional history of the registry fields an inspection can change: the values held from
    # `period` until the workplace's next period (docs/CONTRACT.md, Registry history).
    "registry_periods": (
        Column("workplace_id", "str"),
        Column("period", "date"),
        Column("declared_workers", "int", minimum=0),
        Column("size_band", "cat", codes=SIZE_BANDS),
    ),
}

# The tables and which a source may leave out come from the input catalog (the files); an absent
# optional table is read as a header-only file. TABLES must name the same tables, in this order.
TABLE_NAMES = tuple(inputs.INPUT_TABLES)
OPTIONAL_TABLES = tuple(t.name for t in inputs.INPUT_TABLES.values() if not t.required)
REQUIRED_TABLES = tuple(t.name for t in inputs.INPUT_TABLES.values() if t.required)


def column_names(table: str) -> list[str]:
    """Canonical column names of a table, in contract order."""
    return [c.name for c in TABLES[table]]


def ruc_check_digit(first_ten: str) -> int:
    """SUNAT check digit for the first ten digits of a RUC."""
    s = int(np.dot(RUC_WEIGHTS, [int(ch) for ch in first_ten]))
    r = 11 - (s % 11)
    return 0 if r == 10 else 1 if r == 11 else r


def is_valid_ruc(ruc: str) -> bool:
    """True for an 11-digit RUC with a known prefix and a correct check digit."""
    return (
        isinstance(ruc, str)
        and len(ruc) == 11
        and ruc.isdigit()
        and ruc[:2] in RUC_PREFIXES
        and ruc_check_digit(ruc[:10]) == int(ruc[10])
    )


def valid_ruc_mask(rucs: pd.Series) -> pd.Series:
    """Vectorised `is_valid_ruc` over a Series of strings (NaN counts as invalid)."""
    s = rucs.astype("string").fillna("")
    shape_ok = s.str.fullmatch(r"(10|15|17|20)\d{9}").fillna(False).astype(bool)
    out = pd.Series(False, index=rucs.index)
    if shape_ok.any():
        shaped = s[shape_ok]
        text = "".join(shaped)
        if text.isascii():  # eleven ASCII digits each: one array, no loop over rows
            digits = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, 11) - 48
        else:  # other Unicode digits, which \d and int() accept too
            digits = np.array([list(map(int, r)) for r in shaped])
        total = digits[:, :10] @ RUC_WEIGHTS
        r = 11 - (total % 11)
        check = np.where(r == 10, 0, np.where(r == 11, 1, r))
        out.loc[shape_ok] = check == digits[:, 10]
    return out


def isin_text(values: pd.Series | pd.Index, members: Iterable[str]) -> np.ndarray:
    """`values.isin(members)` as a boolean array, for text such as workplace ids. pandas 3 turns
    every member into an Arrow scalar before its one Arrow lookup (1.4 s for 500,000 ids);
    the members go to Arrow here as one array instead (0.1 s), with the same answer (a
    missing value is in only if `members` holds one)."""
    array = values.array
    if not isinstance(array, ArrowStringArray):
        return np.asarray(values.isin(set(members)), dtype=bool)
    arrow = pa.array(array)  # the column's own Arrow data, no copy
    member_array = pa.array(list(members), type=arrow.type, from_pandas=True)
    return np.asarray(pc.is_in(arrow, value_set=member_array), dtype=bool)


def list_items(lists: pd.Series) -> pd.Series:
    """Every `;`-separated element of a list column, indexed by its row's label (a missing or
    empty list gives one ""): `str.split(LIST_SEPARATOR).explode()` without a Python loop
    over the rows."""
    split = pc.split_pattern(pa.array(lists.fillna("").astype("str").array), LIST_SEPARATOR)
    parents = pc.list_parent_indices(split).to_numpy()
    return pd.Series(pc.list_flatten(split), index=lists.index[parents], dtype="str")


def list_has_any_code(lists: pd.Series, codes: tuple[str, ...]) -> np.ndarray:
    """True where a `;`-joined list column holds any of `codes` (delimiters avoid substrings)."""
    padded = LIST_SEPARATOR + lists.fillna("").astype(str) + LIST_SEPARATOR
    hit = np.zeros(len(lists), dtype=bool)
    for code in codes:
        token = f"{LIST_SEPARATOR}{code}{LIST_SEPARATOR}"
        hit |= padded.str.contains(token, regex=False).to_numpy()
    return hit


def load_districts(path: Path = inputs.DISTRICTS.path) -> pd.DataFrame:
    """Real INEI district table with the INEI code as a 6-character string; rows without it dropped.

    The file is reference data shipped with the repo (copied unchanged from shared/data/peru);
    one row lacks an INEI code and cannot be joined, so it is left out here, not edited.
    """
    df = pd.read_csv(path, dtype={"inei": "string", "reniec": "string", "fips": "string"})
    df = df[df["inei"].notna()].copy()
    df["inei"] = df["inei"].str.zfill(6)
    df["department_code"] = df["inei"].str[:2]
    df["province_code"] = df["inei"].str[:4]
    return df.reset_index(drop=True)

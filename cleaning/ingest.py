"""Loading the input tables as raw strings, with personal columns dropped at the door.

Every value is read as text so that nothing is silently coerced before the quality gate judges
it; the source row number (1 = first data line) travels as the index `source_row`, so a
quarantine message can say "inspections.csv row 812". A mapping file turns a real export
(Spanish headers, Latin-1, `;`, `SI`/`NO`, `dd/mm/yyyy`) into the canonical form of CONTRACT.md:

```yaml
tables:
  inspections:
    file: ordenes_inspeccion.csv
    encoding: latin-1          # utf-8 (default), latin-1, cp1252
    separator: ";"             # "," (default) or ";"
    list_separator: ","        # separator of codes inside list columns in the source
    date_format: "%d/%m/%Y"    # source format of every date column (default ISO)
    decimal: ","               # decimal mark of float columns (default ".")
    zero_pad: {ubigeo: 6}      # restore leading zeros lost by spreadsheets
    columns: {NRO_ORDEN: inspection_id, FECHA_ORDEN: ordered_on}   # source header -> canonical
    values:                    # per canonical column, source value -> canonical value
      origin: {"DENUNCIA": complaint}
      infraction_found: {"SI": "true", "NO": "false"}
```

Value maps match case-insensitively after trimming; list columns are mapped element-wise.
Values a map does not know are left as they are, so the gate reports them as unknown codes.
Complainant documents are dropped, not hashed: nothing downstream may use them (CONTRACT.md).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cleaning.contract import (
    LIST_SEPARATOR,
    OPTIONAL_TABLES,
    PERSONAL_COLUMNS,
    REQUIRED_TABLES,
    TABLE_NAMES,
    TABLES,
)
from cleaning.validation import DataContractError, empty_raw_table
from settings.inputs import INPUT_TABLES
from settings.paths import project_path
from settings.schema import DataConfig

log = logging.getLogger(__name__)

ENCODINGS = {"utf-8", "utf-8-sig", "latin-1", "iso-8859-1", "cp1252"}
SEPARATORS = {",", ";"}
ISO_DATE = "%Y-%m-%d"
# A source may have no complaints, or (a new office) no inspections yet; never no registry.
TABLES_THAT_MAY_BE_EMPTY = ("inspections", "complaints", *OPTIONAL_TABLES)


@dataclass(frozen=True)
class RawTable:
    """One input table as read: canonical column names, all values `str` or NA.

    `frame` is indexed by `source_row` (1 = first data line of the file) and holds only
    canonical, non-personal columns; `source` is the file name used in messages.
    """

    name: str
    path: Path
    frame: pd.DataFrame

    @property
    def source(self) -> str:
        return self.path.name


def load_mapping(path: Path) -> dict[str, Any]:
    """Read a mapping YAML and check its shape, so a typo fails before any data is read."""
    mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    tables = mapping.get("tables")
    if not isinstance(tables, dict):
        raise DataContractError(
            f"{path}: a mapping needs a 'tables' section [rule mapping_invalid]"
        )
    for table, spec in tables.items():
        if table not in TABLES:
            raise DataContractError(f"{path}: unknown table {table!r} [rule mapping_invalid]")
        canonical = {c.name for c in TABLES[table]}
        for source, target in (spec.get("columns") or {}).items():
            if target not in canonical:
                raise DataContractError(
                    f"{path}: {table}: column {source!r} maps to unknown column {target!r}"
                    " [rule mapping_invalid]"
                )
        if spec.get("encoding", "utf-8").lower() not in ENCODINGS:
            raise DataContractError(
                f"{path}: {table}: encoding {spec['encoding']!r} not in {sorted(ENCODINGS)}"
                " [rule mapping_invalid]"
            )
        if spec.get("separator", ",") not in SEPARATORS:
            raise DataContractError(
                f"{path}: {table}: separator {spec['separator']!r} not in {sorted(SEPARATORS)}"
                " [rule mapping_invalid]"
            )
    return mapping


def mapping_from_config(data: DataConfig) -> dict | None:
    """The mapping named by `data.mapping` (absolute, or relative to the project root)."""
    name = data.mapping
    if not name:
        return None
    path = project_path(name)
    if not path.is_file():
        raise DataContractError(f"{path}: mapping file not found [rule mapping_invalid]")
    return load_mapping(path)


def find_table_files(data_dir: Path, mapping: dict | None = None) -> dict[str, Path]:
    """The file of every required table (canonical name or the mapping's); `file_missing` if
    absent. Optional tables are looked up when loaded."""
    specs = (mapping or {}).get("tables", {})
    return {table: _find_file(data_dir, table, specs.get(table) or {})
            for table in REQUIRED_TABLES}


def load_raw_tables(data_dir: Path, mapping: dict | None = None) -> dict[str, RawTable]:
    """Read every contract table as raw string tables, personal columns dropped.

    An absent optional table (`registry_periods`) comes back with no rows, as if header-only.
    Raises `DataContractError` when a required file is missing, empty or unreadable.
    """
    specs = (mapping or {}).get("tables", {})
    return {
        table: _load_table(Path(data_dir), table, specs.get(table) or {})
        for table in TABLE_NAMES
    }


EMPLOYER_IDENTITY = ("name", "address")


def read_employer_identity(data_dir: Path, mapping: dict | None = None) -> pd.DataFrame:
    """Employer `name` and `address` per workplace_id, for the planner's list files ONLY.

    The one narrow way around the door above (CONTRACT.md, Personal data): inspectors need the
    employer's identity to visit, so the list writer reads it from the raw registry at its last
    step and joins it into the confidential `lista_*` / `reporte*` files. It must never reach
    features, models, MLflow, logs, quarantine or Data Docs: never log or return its values
    anywhere else. `address` is optional in the contract; a missing column comes back empty.
    """
    spec = ((mapping or {}).get("tables") or {}).get("workplaces") or {}
    path = _find_file(Path(data_dir), "workplaces", spec)
    frame = _read_parquet(path) if path.suffix == ".parquet" else _read_csv(path, spec)
    frame = frame.rename(columns={str(k): v for k, v in (spec.get("columns") or {}).items()})
    for column in EMPLOYER_IDENTITY:
        if column not in frame:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="str")
    frame = _normalise_text(frame[["workplace_id", *EMPLOYER_IDENTITY]])
    return frame.dropna(subset=["workplace_id"]).drop_duplicates("workplace_id").set_index(
        "workplace_id")


def _candidate_files(data_dir: Path, table: str, spec: dict[str, Any]) -> list[Path]:
    if spec.get("file"):
        return [data_dir / spec["file"]]
    return INPUT_TABLES[table].paths(data_dir)


def _has_file(data_dir: Path, table: str, spec: dict[str, Any]) -> bool:
    return any(path.is_file() for path in _candidate_files(data_dir, table, spec))


def _find_file(data_dir: Path, table: str, spec: dict[str, Any]) -> Path:
    candidates = _candidate_files(data_dir, table, spec)
    for path in candidates:
        if path.is_file():
            return path
    names = " or ".join(p.name for p in candidates)
    raise DataContractError(f"{names}: file not found in {data_dir} [rule file_missing]")


def _load_table(data_dir: Path, table: str, spec: dict[str, Any]) -> RawTable:
    if table in OPTIONAL_TABLES and not spec.get("file") and not _has_file(data_dir, table, spec):
        log.info("%s: no %s file; this optional table is read as empty", data_dir, table)
        return RawTable(name=table, path=data_dir / INPUT_TABLES[table].file_name,
                        frame=empty_raw_table(table))
    path = _find_file(data_dir, table, spec)
    frame = _read_parquet(path) if path.suffix == ".parquet" else _read_csv(path, spec)
    if len(frame.columns) == 1 and ";" in str(frame.columns[0]):
        raise DataContractError(
            f"{path.name}: the header looks ';'-separated; set separator: ';' in the mapping"
            " [rule file_unreadable]"
        )
    frame = frame.rename(columns={str(k): v for k, v in (spec.get("columns") or {}).items()})
    frame = _keep_contract_columns(frame, table, path)
    if len(frame) == 0 and table in TABLES_THAT_MAY_BE_EMPTY:
        log.warning("%s: no data rows; a source without %s is valid", path.name, table)
    elif len(frame) == 0:
        raise DataContractError(f"{path.name}: the file has no data rows [rule file_empty]")
    frame = _normalise_text(frame)
    frame = _apply_mapping(frame, table, spec)
    return RawTable(name=table, path=path, frame=frame)


def _read_csv(path: Path, spec: dict[str, Any]) -> pd.DataFrame:
    encoding = spec.get("encoding", "utf-8")
    try:
        frame = pd.read_csv(
            path,
            sep=spec.get("separator", ","),
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            # Blank lines are kept (and quarantined) so row numbers match the file's lines.
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except pd.errors.EmptyDataError as exc:
        raise DataContractError(f"{path.name}: the file is empty [rule file_empty]") from exc
    except UnicodeDecodeError as exc:
        raise DataContractError(
            f"{path.name}: not readable as {encoding} (set 'encoding' in the mapping)"
            " [rule file_unreadable]"
        ) from exc
    except pd.errors.ParserError as exc:
        message = " ".join(str(exc).split())
        raise DataContractError(f"{path.name}: {message} [rule file_unreadable]") from exc
    _require_one_line_rows(frame, path)
    return _number_rows(frame)


def _require_one_line_rows(frame: pd.DataFrame, path: Path) -> None:
    """Stop when a quoted field holds a line break: an unbalanced quote (a damaged export)
    makes the CSV reader join the following lines into one row, which would lose rows silently
    and shift every later row number away from its line."""
    text = frame.select_dtypes(include=["str", "object"])
    spans = np.zeros(len(frame), dtype=bool)
    for column in text.columns:
        spans |= text[column].str.contains("[\r\n]", regex=True, na=False).to_numpy(dtype=bool)
    if spans.any():
        line = 2 + int(np.flatnonzero(spans)[0])  # the header is line 1
        raise DataContractError(
            f"{path.name}: the row starting on line {line} has a quoted field running over "
            "several lines (an unbalanced quote?); every row must be one line "
            "[rule file_unreadable]")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a broken file
        raise DataContractError(f"{path.name}: {exc} [rule file_unreadable]") from exc
    as_text = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            as_text[column] = values.dt.strftime(ISO_DATE)
        elif pd.api.types.is_bool_dtype(values):
            as_text[column] = values.map({True: "true", False: "false"})
        else:
            as_text[column] = values.astype("str").where(values.notna())
    return _number_rows(pd.DataFrame(as_text, columns=frame.columns))


def _number_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
    return frame


def _keep_contract_columns(frame: pd.DataFrame, table: str, path: Path) -> pd.DataFrame:
    """Drop personal and unknown columns: an unmapped extra column may hold personal data too."""
    personal = set(PERSONAL_COLUMNS.get(table, ()))
    allowed = [c.name for c in TABLES[table] if c.name not in personal]
    extra = [c for c in frame.columns if c not in allowed and c not in personal]
    if extra:
        log.warning("%s: ignoring columns outside the contract: %s", path.name, extra)
    return frame[[c for c in frame.columns if c in allowed]]


def _normalise_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Trim surrounding spaces; a value that is only spaces becomes NA."""
    out = frame.apply(lambda s: s.str.strip())
    return out.where(out != "")


def _apply_mapping(frame: pd.DataFrame, table: str, spec: dict[str, Any]) -> pd.DataFrame:
    columns = {c.name: c for c in TABLES[table]}
    list_sep = spec.get("list_separator", LIST_SEPARATOR)
    values = spec.get("values") or {}
    for name in frame.columns:
        column = columns[name]
        series = frame[name]
        if column.kind == "list":
            series = _map_list(series, values.get(name) or {}, list_sep)
        elif name in values:
            series = _map_values(series, values[name])
        if column.kind == "date" and spec.get("date_format"):
            series = _reformat_dates(series, spec["date_format"])
        if column.kind == "float" and spec.get("decimal", ".") != ".":
            series = series.str.replace(spec["decimal"], ".", regex=False)
        if name in (spec.get("zero_pad") or {}):
            width = int(spec["zero_pad"][name])
            series = series.where(~series.str.isdigit().fillna(False), series.str.zfill(width))
        frame[name] = series
    return frame


def _value_lookup(value_map: dict) -> dict[str, str]:
    return {str(k).strip().casefold(): str(v) for k, v in value_map.items()}


def _map_values(series: pd.Series, value_map: dict) -> pd.Series:
    lookup = _value_lookup(value_map)
    mapped = series.str.casefold().map(lookup)
    return mapped.where(mapped.notna(), series)


def _map_list(series: pd.Series, value_map: dict, list_sep: str) -> pd.Series:
    """Split on the source separator, map each code, and join with the canonical `;`."""
    lookup = _value_lookup(value_map)

    def convert(text: object) -> object:
        if not isinstance(text, str):
            return text
        items = [item.strip() for item in text.split(list_sep) if item.strip()]
        return LIST_SEPARATOR.join(lookup.get(item.casefold(), item) for item in items)

    return series.map(convert)


def _reformat_dates(series: pd.Series, date_format: str) -> pd.Series:
    """Rewrite dates in `date_format` as ISO; other values stay as read, for the gate to report."""
    parsed = pd.to_datetime(series, format=date_format, errors="coerce")
    return parsed.dt.strftime(ISO_DATE).where(parsed.notna(), series)

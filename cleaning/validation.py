"""Row and table rules of the input contract, generated from `cleaning.contract.TABLES`.

Two kinds of failure. A table-level failure (required column missing, a column almost all of the
wrong type, too many quarantined rows) raises `DataContractError`: the run stops before any model
work. A row-level failure sends the row to quarantine and the run goes on with the clean rows.

Quarantine policy: one quarantine row per failing source row. `rule` lists every rule the row
broke, `;`-joined in check order; `detail` holds one phrase per failure (naming the column and
the offending value), joined by " | ". A duplicated id keeps its first occurrence and
quarantines the later ones (a repeated workplace and period of `registry_periods` likewise).
Inspections, complaints and registry periods are checked against CLEAN workplaces: a
reference to a workplace absent from the file is `orphan_workplace`, a reference to a workplace
that was itself quarantined is `quarantined_workplace`. Accounting always holds
rows_in = rows_clean + rows_quarantined.

Pure functions on DataFrames: the file I/O lives in `cleaning.ingest` and `cleaning.quality`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cleaning.contract import (
    OPTIONAL_TABLES,
    PERSONAL_COLUMNS,
    TABLES,
    Column,
    isin_text,
    list_items,
    valid_ruc_mask,
)
from settings.errors import InputError
from settings.inputs import INPUT_TABLES

# Stable rule ids (they appear in quarantine/<table>.csv and in the validation summary).
RULES: dict[str, str] = {
    "file_missing": "the input file does not exist",
    "file_empty": "the input file is empty or has no data rows",
    "file_unreadable": "the input file cannot be parsed (encoding, separator, quoting)",
    "mapping_invalid": "the mapping file is malformed",
    "column_missing": "a required column is absent",
    "column_wrong_type": "most values of a column are not of the column's type",
    "too_much_quarantine": "the share of quarantined rows in a table exceeds the limit",
    "empty_row": "the row has no values at all",
    "missing_value": "a required value is empty",
    "bad_type": "a value is not of the column's type (whole number, number, true/false, ISO date)",
    "duplicate_id": "the id already appeared on an earlier row",
    "duplicate_period": "the workplace already has a registry period starting on that date",
    "unknown_code": "a category or list element is not a code of the contract",
    "negative_value": "a count or fine is below its minimum",
    "future_date": "a date lies after the reference date",
    "date_order": "closed_on is earlier than ordered_on",
    "ruc_format": "the RUC is not 11 digits with prefix 10, 15, 17 or 20",
    "ruc_check_digit": "the RUC's SUNAT check digit is wrong",
    "workplace_id_format": "workplace_id is not RUC-NNNN",
    "workplace_id_ruc_mismatch": "workplace_id does not start with the workplace's RUC",
    "ciiu_format": "the CIIU class is not 4 digits",
    "unknown_ubigeo": "the UBIGEO is not an INEI district code",
    "contractor_ruc": "contractor_of is not a valid RUC",
    "orphan_workplace": "workplace_id does not exist in workplaces",
    "quarantined_workplace": "workplace_id points at a quarantined workplace",
}

# Shapes of identifier columns, shared by the pandas rules and the Great Expectations suites.
ID_PATTERNS: dict[str, str] = {
    "ruc": r"^(10|15|17|20)\d{9}$",
    "workplace_id": r"^\d{11}-\d{4}$",
    "ciiu": r"^\d{4}$",
    "ubigeo": r"^\d{6}$",
    "contractor_of": r"^(10|15|17|20)\d{9}$",
}
ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
ISO_TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
TRUE_TEXT = frozenset({"true", "1", "t"})
FALSE_TEXT = frozenset({"false", "0", "f"})
DETAIL_SEPARATOR = " | "
QUARANTINE_COLUMNS = ["source_row", "rule", "detail"]


class DataContractError(InputError):
    """The input breaks the contract at table level: the run must stop before any model work."""


@dataclass(frozen=True)
class ValidationOutcome:
    """Result of the row rules for every table.

    - `clean`: typed tables exactly as docs/ARCHITECTURE.md describes (no personal columns);
    - `quarantine`: per table, source_row, rule, detail and the row's raw non-personal values;
    - `typed`: per table, EVERY input row typed (NA where a value could not be parsed), indexed by
      source_row; the quality gate shows it to Great Expectations as the data before quarantine;
    - `accounting`: table, rows_in, rows_clean, rows_quarantined;
    - `rule_counts`: table, rule, rows (a row breaking two rules counts under both).
    """

    clean: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    typed: dict[str, pd.DataFrame]
    accounting: pd.DataFrame
    rule_counts: pd.DataFrame


def empty_raw_table(table: str) -> pd.DataFrame:
    """A raw table with the contract's columns and no rows, as a header-only file reads."""
    frame = pd.DataFrame({c.name: pd.Series(dtype="str") for c in kept_columns(table)})
    frame.index.name = "source_row"
    return frame


def kept_columns(table: str) -> list[Column]:
    """Contract columns of `table` that survive ingestion (personal ones never do)."""
    personal = set(PERSONAL_COLUMNS.get(table, ()))
    return [c for c in TABLES[table] if c.name not in personal]


def _source(sources: Mapping[str, str] | None, table: str) -> str:
    """The file `table` was read from, for messages; its catalog file name when not given."""
    return (sources or {}).get(table, INPUT_TABLES[table].file_name)


def _row_rule_failures(
    raw: Mapping[str, pd.DataFrame], sources: Mapping[str, str], ubigeos: frozenset[str],
    reference: pd.Timestamp, wrong_type_stop_share: float,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Typed tables and, per table, the rows failing a type, column or table-specific rule."""
    typed: dict[str, pd.DataFrame] = {}
    failures: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        typed[table], type_failures = _parse_types(
            raw[table], table, sources[table], wrong_type_stop_share
        )
        checks = [type_failures, *_column_rules(raw[table], typed[table], table, reference)]
        if table == "workplaces":
            checks += _workplace_rules(raw[table], typed[table], ubigeos)
        if table == "inspections":
            checks.append(_date_order_rule(typed[table]))
        if table == "registry_periods":
            checks.append(_duplicate_period_rule(typed[table]))
        failures[table] = _combine(checks, raw[table])
    return typed, failures


def validate_tables(
    raw: Mapping[str, pd.DataFrame],
    *,
    known_ubigeos: Iterable[str],
    reference_date: date,
    wrong_type_stop_share: float,
    sources: Mapping[str, str] | None = None,
) -> ValidationOutcome:
    """Apply every row rule; raise `DataContractError` for table-level failures.

    `raw` holds string frames indexed by source_row (see `cleaning.ingest.RawTable`); `sources`
    names the file of each table for messages; `reference_date` bounds dates (no future facts);
    a column mostly of the wrong type (above `wrong_type_stop_share`, config
    `quality.max_wrong_type_share`) stops the run. An optional table absent from `raw` is
    validated as a table with no rows.
    """
    raw = {**{t: empty_raw_table(t) for t in OPTIONAL_TABLES}, **raw}
    sources = {t: _source(sources, t) for t in TABLES}
    for table in TABLES:
        _require_columns(raw[table], table, sources[table])
    typed, failures = _row_rule_failures(raw, sources, frozenset(known_ubigeos),
                                         pd.Timestamp(reference_date), wrong_type_stop_share)
    clean_workplaces = set(typed["workplaces"]["workplace_id"].drop(failures["workplaces"].index))
    all_workplaces = set(typed["workplaces"]["workplace_id"].dropna())
    for table in ("inspections", "complaints", "registry_periods"):
        reference_failures = _reference_rules(typed[table], clean_workplaces, all_workplaces)
        failures[table] = _combine([failures[table], reference_failures], raw[table])

    clean, quarantine, accounting, counts = {}, {}, [], []
    for table in TABLES:
        failed = failures[table]
        clean[table] = _clean_table(typed[table].drop(index=failed.index), table)
        quarantine[table] = _quarantine_table(raw[table], failed, table)
        accounting.append(
            {
                "table": table,
                "rows_in": len(raw[table]),
                "rows_clean": len(clean[table]),
                "rows_quarantined": len(failed),
            }
        )
        for rule, rows in failed["rule"].str.split(";").explode().value_counts().items():
            counts.append({"table": table, "rule": rule, "rows": int(rows)})
    return ValidationOutcome(
        clean=clean,
        quarantine=quarantine,
        typed=typed,
        accounting=pd.DataFrame(accounting, columns=["table", "rows_in", "rows_clean",
                                                     "rows_quarantined"]),
        rule_counts=pd.DataFrame(counts, columns=["table", "rule", "rows"]),
    )


def check_quarantine_share(
    accounting: pd.DataFrame,
    rule_counts: pd.DataFrame,
    max_share: float,
    sources: Mapping[str, str] | None = None,
) -> None:
    """Stop the run when a table lost more than `max_share` of its rows to quarantine."""
    for row in accounting.itertuples():
        share = row.rows_quarantined / row.rows_in if row.rows_in else 0.0
        if share > max_share:
            top = rule_counts[rule_counts["table"] == row.table].nlargest(3, "rows")
            rules = ", ".join(f"{r.rule} ({r.rows})" for r in top.itertuples())
            source = _source(sources, row.table)
            raise DataContractError(
                f"{source}: {row.rows_quarantined} of {row.rows_in} rows quarantined "
                f"({share:.1%}, limit {max_share:.1%}); most frequent rules: {rules}"
                " [rule too_much_quarantine]"
            )


def codes_known_mask(values: pd.Series, codes: Iterable[str]) -> pd.Series:
    """True where every `;`-separated element of a list value is a known code (empty/NA: True)."""
    items = list_items(values)
    items = items[items != ""]
    unknown = items[~items.isin(set(codes))]
    return ~values.index.isin(unknown.index.unique())


def expectation_flags(
    table: str,
    typed: pd.DataFrame,
    clean_workplace_ids: Iterable[str],
    known_ubigeos: Iterable[str],
) -> pd.DataFrame:
    """Boolean columns for rules Great Expectations cannot state natively (True = passes).

    Check digits, district codes, list codes and references are computed here in pandas so that
    the expectation suites and the quarantine judge by the same definitions.
    """
    flags = pd.DataFrame(index=typed.index)
    for column in kept_columns(table):
        if column.kind == "list":
            flags[f"{column.name}__codes_known"] = codes_known_mask(typed[column.name],
                                                                    column.codes)
    if table == "workplaces":
        flags["ruc__check_digit_ok"] = valid_ruc_mask(typed["ruc"]).to_numpy()
        flags["ubigeo__known"] = typed["ubigeo"].isin(set(known_ubigeos)).to_numpy()
        contractor = typed["contractor_of"]
        valid = contractor.isna() | valid_ruc_mask(contractor)
        flags["contractor_of__valid_ruc"] = valid.to_numpy()
    else:
        flags["workplace_id__exists"] = isin_text(typed["workplace_id"], clean_workplace_ids)
    return flags


def _require_columns(frame: pd.DataFrame, table: str, source: str) -> None:
    missing = [c.name for c in kept_columns(table) if c.name not in frame.columns]
    if missing:
        raise DataContractError(
            f"{source}: required column(s) {', '.join(missing)} missing [rule column_missing]"
        )


def _failures(mask: pd.Series, rule: str, detail: pd.Series | str) -> pd.DataFrame:
    """Failure records (index source_row, columns rule and detail) for the rows where `mask`."""
    mask = mask.fillna(False).astype(bool)
    index = mask.index[mask.to_numpy()]
    if isinstance(detail, str):
        text = pd.Series(detail, index=index, dtype="str")
    else:
        text = detail.loc[index].astype("str")
    return pd.DataFrame({"rule": rule, "detail": text}, index=index)


def _quoted(frame: pd.DataFrame, column: str) -> pd.Series:
    return column + "='" + frame[column].fillna("").astype("str") + "'"


def _parse_types(
    raw: pd.DataFrame, table: str, source: str, stop_share: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed copy of every row (NA where unparseable) and the `bad_type` failures."""
    typed = pd.DataFrame(index=raw.index)
    failures = []
    for column in kept_columns(table):
        text = raw[column.name]
        values, meaning = _parse_column(text, column.kind)
        bad = text.notna() & values.isna()
        present = int(text.notna().sum())
        if present and bad.sum() > stop_share * present:
            example = text[bad].iloc[0]
            raise DataContractError(
                f"{source}: column {column.name}: {int(bad.sum())} of {present} values are not "
                f"{meaning} (e.g. {example!r}) [rule column_wrong_type]"
            )
        typed[column.name] = values
        detail = _quoted(raw, column.name) + f" is not {meaning}"
        failures.append(_failures(bad, "bad_type", detail))
    return typed, pd.concat(failures)


def _parse_column(text: pd.Series, kind: str) -> tuple[pd.Series, str]:
    """Parse one text column by its contract kind; unparseable values become NA."""
    if kind in ("int", "float"):
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        if kind == "int":
            return numbers.where(numbers % 1 == 0), "a whole number"
        return numbers, "a number"
    if kind == "bool":
        folded = text.str.casefold()
        values = pd.Series(pd.NA, index=text.index, dtype="object")
        values[folded.isin(TRUE_TEXT).to_numpy()] = True
        values[folded.isin(FALSE_TEXT).to_numpy()] = False
        return values, "true/false"
    if kind == "date":
        # Exports often write dates as timestamps: the date as written is the fact's day.
        text = text.where(~text.str.match(ISO_TIMESTAMP_PATTERN, na=False), text.str[:10])
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        return parsed.astype("datetime64[ns]"), "an ISO date YYYY-MM-DD"
    return text, "text"


def _column_rules(
    raw: pd.DataFrame, typed: pd.DataFrame, table: str, reference: pd.Timestamp
) -> list[pd.DataFrame]:
    """Rules that follow from one column's contract entry: nulls, ids, codes, minimums, dates."""
    out = []
    for column in kept_columns(table):
        name = column.name
        values = typed[name]
        if not column.nullable:
            out.append(_failures(raw[name].isna(), "missing_value", f"{name} is empty"))
        if column.unique:
            out.append(_duplicate_rule(values, name))
        if column.kind == "cat":
            unknown = values.notna() & ~values.isin(set(column.codes))
            out.append(_failures(unknown, "unknown_code",
                                 _quoted(raw, name) + " is not a known code"))
        if column.kind == "list":
            out.append(_unknown_list_codes(values, column))
        if column.minimum is not None:
            low = values < column.minimum
            out.append(_failures(low, "negative_value",
                                 _quoted(raw, name) + f" is below {column.minimum:g}"))
        if column.kind == "date":
            late = values > reference
            out.append(_failures(late, "future_date", _quoted(raw, name)
                                 + f" is after the reference date {reference.date()}"))
    return out


def _duplicate_rule(values: pd.Series, name: str) -> pd.DataFrame:
    present = values.dropna()
    rows = pd.Series(present.index, index=present.index)
    first = rows.groupby(present.to_numpy()).transform("min")
    repeated = rows != first
    detail = name + "='" + present.astype("str") + "' already on row " + first.astype("str")
    return _failures(repeated, "duplicate_id", detail)


def _unknown_list_codes(values: pd.Series, column: Column) -> pd.DataFrame:
    items = list_items(values)
    unknown = items[(items != "") & ~items.isin(set(column.codes))]
    if unknown.empty:
        return _failures(pd.Series(False, index=values.index), "unknown_code", "")
    listed = unknown.groupby(level=0).agg(lambda s: ", ".join(f"'{v}'" for v in s))
    detail = column.name + " has unknown code(s) " + listed
    mask = pd.Series(values.index.isin(listed.index), index=values.index)
    return _failures(mask, "unknown_code", detail.reindex(values.index))


def _workplace_rules(
    raw: pd.DataFrame, typed: pd.DataFrame, ubigeos: frozenset[str]
) -> list[pd.DataFrame]:
    ruc = typed["ruc"]
    ruc_shape = ruc.str.fullmatch(ID_PATTERNS["ruc"]).fillna(False).astype(bool)
    check_ok = valid_ruc_mask(ruc)
    wid = typed["workplace_id"]
    wid_shape = wid.str.fullmatch(ID_PATTERNS["workplace_id"]).fillna(False).astype(bool)
    contractor = typed["contractor_of"]
    return [
        _failures(ruc.notna() & ~ruc_shape, "ruc_format", _quoted(raw, "ruc")
                  + " is not 11 digits with prefix 10, 15, 17 or 20"),
        _failures(ruc_shape & ~check_ok, "ruc_check_digit",
                  _quoted(raw, "ruc") + " has a wrong check digit"),
        _failures(wid.notna() & ~wid_shape, "workplace_id_format",
                  _quoted(raw, "workplace_id") + " is not RUC-NNNN"),
        _failures(wid_shape & ruc.notna() & (wid.str[:11] != ruc), "workplace_id_ruc_mismatch",
                  _quoted(raw, "workplace_id") + " does not start with " + _quoted(raw, "ruc")),
        _failures(typed["ciiu"].notna() & ~typed["ciiu"].str.fullmatch(ID_PATTERNS["ciiu"])
                  .fillna(False).astype(bool), "ciiu_format",
                  _quoted(raw, "ciiu") + " is not a 4-digit CIIU class"),
        _failures(typed["ubigeo"].notna() & ~typed["ubigeo"].isin(ubigeos), "unknown_ubigeo",
                  _quoted(raw, "ubigeo") + " is not an INEI district code"),
        _failures(contractor.notna() & ~valid_ruc_mask(contractor), "contractor_ruc",
                  _quoted(raw, "contractor_of") + " is not a valid RUC"),
    ]


def _date_order_rule(typed: pd.DataFrame) -> pd.DataFrame:
    early = typed["closed_on"] < typed["ordered_on"]
    detail = (
        "closed_on=" + typed["closed_on"].dt.strftime("%Y-%m-%d").fillna("")
        + " is before ordered_on=" + typed["ordered_on"].dt.strftime("%Y-%m-%d").fillna("")
    )
    return _failures(early, "date_order", detail)


def _duplicate_period_rule(typed: pd.DataFrame) -> pd.DataFrame:
    """Two rows for one workplace and period would leave its value at that date ambiguous."""
    key = typed["workplace_id"] + " " + typed["period"].dt.strftime("%Y-%m-%d")
    failures = _duplicate_rule(key, "workplace_id and period")
    return failures.assign(rule="duplicate_period")


def _reference_rules(
    typed: pd.DataFrame, clean_workplaces: set[str], all_workplaces: set[str]
) -> pd.DataFrame:
    wid = typed["workplace_id"]
    known = pd.Series(isin_text(wid, all_workplaces), index=wid.index)
    detail = "workplace_id='" + wid.fillna("").astype("str") + "'"
    return pd.concat([
        _failures(wid.notna() & ~known, "orphan_workplace", detail + " is not in workplaces"),
        _failures(known & ~isin_text(wid, clean_workplaces), "quarantined_workplace",
                  detail + " is a quarantined workplace"),
    ])


def _combine(checks: list[pd.DataFrame], raw: pd.DataFrame) -> pd.DataFrame:
    """One record per failing row: rules `;`-joined, details joined; blank rows get `empty_row`."""
    failures = pd.concat([c for c in checks if not c.empty] or [pd.DataFrame(
        {"rule": pd.Series(dtype="str"), "detail": pd.Series(dtype="str")})])
    blank = raw.isna().all(axis=1)
    failures = failures[~failures.index.isin(raw.index[blank.to_numpy()])]
    failures.index.name = "source_row"
    grouped = failures.groupby(level=0, sort=True).agg(
        rule=("rule", lambda s: ";".join(dict.fromkeys(s))),
        detail=("detail", DETAIL_SEPARATOR.join),
    )
    blank_rows = pd.DataFrame(
        {"rule": "empty_row", "detail": "the row has no values"},
        index=pd.Index(raw.index[blank.to_numpy()], name="source_row"),
    )
    return pd.concat([grouped, blank_rows]).sort_index()


def _clean_table(typed: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast the surviving rows to the dtypes of docs/ARCHITECTURE.md, in contract order."""
    out = {}
    for column in kept_columns(table):
        values = typed[column.name]
        if column.kind == "int":
            out[column.name] = values.astype("int64")
        elif column.kind == "float":
            out[column.name] = values.astype("float64")
        elif column.kind == "bool":
            out[column.name] = values.astype("bool")
        elif column.kind == "date":
            out[column.name] = values.astype("datetime64[ns]")
        elif column.kind == "list":
            out[column.name] = values.fillna("").astype("str")
        else:
            out[column.name] = values.astype("str")
    return pd.DataFrame(out).reset_index(drop=True)


def _quarantine_table(raw: pd.DataFrame, failed: pd.DataFrame, table: str) -> pd.DataFrame:
    """source_row, rule, detail, then the row's raw values (personal columns never came in)."""
    values = raw.loc[failed.index, [c.name for c in kept_columns(table)]]
    out = pd.concat([failed[["rule", "detail"]], values], axis=1).reset_index()
    return out.rename(columns={"index": "source_row"})

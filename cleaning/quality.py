"""The quality gate: load, apply the contract rules, quarantine, and let Great Expectations judge.

Great Expectations validates every table twice with suites generated from
`cleaning.contract.TABLES`: once on all rows BEFORE quarantine (so Data Docs show what was wrong
in the input) and once on the clean tables, which must pass every expectation: if they do not,
the rules and the suites disagree, which is a bug, and the run stops. Rules GE cannot state
natively (RUC check digit, INEI district, list codes, references to clean workplaces) are computed
in pandas by `cleaning.validation.expectation_flags` and checked as boolean columns.

Writes under `out_dir`: `quarantine/<table>.csv` (always, header only when empty),
`data_docs/` (GE HTML; it loads CSS/JS from the internet, so offline it is blank: read
`validation_summary.html`, also copied as `data_docs/offline.html`, in its place),
`validation_summary.json` and `validation_summary.md` (self-contained).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from cleaning.contract import TABLES, load_districts
from cleaning.ingest import load_raw_tables, mapping_from_config
from cleaning.validation import (
    ID_PATTERNS,
    ISO_DATE_PATTERN,
    QUARANTINE_COLUMNS,
    RULES,
    ValidationOutcome,
    check_quarantine_share,
    expectation_flags,
    kept_columns,
    validate_tables,
)
from settings import catalog, files
from settings.schema import VigiaConfig

log = logging.getLogger(__name__)

STAGES = ("before_quarantine", "clean")


@dataclass(frozen=True)
class QualityResult:
    """What the gate hands to the rest of the run (all of it free of personal data)."""

    clean: dict[str, pd.DataFrame]
    accounting: pd.DataFrame
    summary: dict[str, Any]
    docs_dir: Path
    quarantine_paths: dict[str, Path]


class CleanDataRejectedError(RuntimeError):
    """Clean tables failed an expectation: rules and suites disagree (a bug, not bad input)."""


def run_quality_gate(
    data_dir: Path, out_dir: Path, config: VigiaConfig, reference_date: date | None = None
) -> QualityResult:
    """Load the inputs, quarantine bad rows, validate with GE, write the reports.

    Raises `DataContractError` (bad input: the CLI exits non-zero) after the quarantine files and
    the summary are written, so the user can see why; `CleanDataRejectedError` on a gate bug.
    """
    out_dir = Path(out_dir).resolve()  # Great Expectations needs absolute Data Docs paths
    quality = config.quality
    reference = reference_date or date.today()
    outcome, sources = validate_inputs(data_dir, config, reference)
    known_ubigeos = load_districts()["inei"]
    quarantine_paths = write_quarantine(outcome, out_dir)
    docs_dir = catalog.DATA_DOCS.path(out_dir)
    expectations = validate_with_great_expectations(outcome, known_ubigeos, reference, docs_dir)
    summary = build_summary(outcome, expectations, sources, reference)
    write_summary(summary, out_dir)
    for row in outcome.accounting.itertuples():
        log.info("%s: %d rows in, %d clean, %d quarantined", sources[row.table], row.rows_in,
                 row.rows_clean, row.rows_quarantined)
    failed_clean = {t: r["failed"] for t, r in expectations["clean"].items() if r["failed"]}
    if failed_clean:
        raise CleanDataRejectedError(f"clean tables fail expectations: {failed_clean}")
    check_quarantine_share(outcome.accounting, outcome.rule_counts,
                           quality.max_quarantine_share, sources)
    return QualityResult(
        clean=outcome.clean,
        accounting=outcome.accounting,
        summary=summary,
        docs_dir=docs_dir,
        quarantine_paths=quarantine_paths,
    )


def validate_inputs(
    data_dir: Path, config: VigiaConfig, reference_date: date
) -> tuple[ValidationOutcome, dict[str, str]]:
    """The contract rules on the inputs, without Great Expectations; also each table's file name.

    The quality gate starts here; notebooks call it for the clean tables a run worked on.
    """
    raw = load_raw_tables(Path(data_dir), mapping_from_config(config.data))
    sources = {table: raw[table].source for table in raw}
    outcome = validate_tables(
        {table: raw[table].frame for table in raw},
        known_ubigeos=load_districts()["inei"],
        reference_date=reference_date,
        sources=sources,
        wrong_type_stop_share=config.quality.max_wrong_type_share,
    )
    return outcome, sources


def write_quarantine(outcome: ValidationOutcome, out_dir: Path) -> dict[str, Path]:
    """One CSV per table, always written, with the header even when nothing was quarantined."""
    paths = {}
    for table, frame in outcome.quarantine.items():
        columns = QUARANTINE_COLUMNS + [c.name for c in kept_columns(table)]
        paths[table] = catalog.QUARANTINE.path(out_dir, table=table)
        with files.replaced(paths[table]) as partial:
            frame.reindex(columns=columns).to_csv(partial, index=False, encoding="utf-8")
    return paths


def expectation_frame(
    table: str, typed: pd.DataFrame, clean_workplace_ids: pd.Series, known_ubigeos: pd.Series
) -> pd.DataFrame:
    """The frame GE sees: typed columns, dates also as text (shape check), and rule flags."""
    frame = typed.reset_index(drop=True)
    for column in kept_columns(table):
        if column.kind == "date":
            frame[f"{column.name}__text"] = typed[column.name].dt.strftime("%Y-%m-%d").to_numpy()
    flags = expectation_flags(table, typed, clean_workplace_ids, known_ubigeos)
    return pd.concat([frame, flags.reset_index(drop=True)], axis=1)


def build_suite(table: str, reference: date):
    """Expectations for one table, generated from its contract entry."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=table)
    for column in kept_columns(table):
        name = column.name
        suite.add_expectation(gxe.ExpectColumnToExist(column=name))
        if not column.nullable:
            suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name))
        if column.unique:
            suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=name))
        if column.kind == "cat":
            suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=name,
                                                                  value_set=list(column.codes)))
        if column.kind == "bool":
            suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=name,
                                                                  value_set=[True, False]))
        if column.minimum is not None:
            suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=name,
                                                                    min_value=column.minimum))
        if column.kind == "date":
            suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(
                column=f"{name}__text", regex=ISO_DATE_PATTERN))
            suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(
                column=name, max_value=pd.Timestamp(reference).to_pydatetime()))
        if name in ID_PATTERNS and (table == "workplaces" or name != "workplace_id"):
            suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column=name,
                                                                     regex=ID_PATTERNS[name]))
    if table == "inspections":
        suite.add_expectation(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="closed_on", column_B="ordered_on", or_equal=True,
            ignore_row_if="either_value_is_missing"))
    for flag in expectation_flags(table, _empty_typed(table), [], []).columns:
        suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=flag, value_set=[True]))
    return suite


def _empty_typed(table: str) -> pd.DataFrame:
    """A zero-row typed frame, only to learn which flag columns a table gets."""
    return pd.DataFrame({c.name: pd.Series(dtype="str") for c in kept_columns(table)})


def _gx_context(docs_dir: Path):
    """An in-memory GE context, progress bars off, rendering Data Docs into `docs_dir`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
        data_docs_sites={
            "vigia": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def validate_with_great_expectations(
    outcome: ValidationOutcome, known_ubigeos: pd.Series, reference: date, docs_dir: Path
) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the suites on the data before quarantine and on the clean tables; render Data Docs.

    Returns, per stage and table: expectations evaluated, passed, and the failed ones as
    "expectation_type(column)" strings.
    """
    import great_expectations as gx

    context = _gx_context(docs_dir)
    source = context.data_sources.add_pandas("vigia")
    clean_ids = outcome.clean["workplaces"]["workplace_id"]
    results: dict[str, dict[str, dict[str, Any]]] = {stage: {} for stage in STAGES}
    for table in TABLES:
        suite = context.suites.add(build_suite(table, reference))
        frames = {
            "before_quarantine": expectation_frame(table, outcome.typed[table], clean_ids,
                                                   known_ubigeos),
            "clean": expectation_frame(table, outcome.clean[table], clean_ids, known_ubigeos),
        }
        for stage, frame in frames.items():
            asset = source.add_dataframe_asset(f"{table}_{stage}")
            batch = asset.add_batch_definition_whole_dataframe("all_rows")
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{table}_{stage}", data=batch, suite=suite))
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=f"{table}_{stage}", validation_definitions=[definition],
                result_format={"result_format": "SUMMARY"}))
            run = checkpoint.run(batch_parameters={"dataframe": frame})
            results[stage][table] = _expectation_counts(run)
    context.build_data_docs()
    return results


def _expectation_counts(run) -> dict[str, Any]:
    outcomes = [r for validation in run.run_results.values() for r in validation.results]
    failed = [
        f"{r.expectation_config.type}({_columns_of(r.expectation_config.kwargs)})"
        for r in outcomes if not r.success
    ]
    return {"evaluated": len(outcomes), "passed": len(outcomes) - len(failed), "failed": failed}


def _columns_of(kwargs: dict) -> str:
    if "column" in kwargs:
        return kwargs["column"]
    return ",".join(str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)


def build_summary(
    outcome: ValidationOutcome,
    expectations: dict[str, dict[str, dict[str, Any]]],
    sources: dict[str, str],
    reference: date,
) -> dict[str, Any]:
    """JSON-serialisable account of the gate: rows, rules hit, expectations passed and failed."""
    tables = {}
    for row in outcome.accounting.itertuples():
        hits = outcome.rule_counts[outcome.rule_counts["table"] == row.table]
        tables[row.table] = {
            "source": sources[row.table],
            "rows_in": int(row.rows_in),
            "rows_clean": int(row.rows_clean),
            "rows_quarantined": int(row.rows_quarantined),
            "rules": {r.rule: int(r.rows) for r in hits.itertuples()},
            "great_expectations": {stage: expectations[stage][row.table] for stage in STAGES},
        }
    used = sorted({rule for t in tables.values() for rule in t["rules"]})
    return {
        "reference_date": reference.isoformat(),
        "tables": tables,
        "rule_meanings": {rule: RULES[rule] for rule in used},
    }


def write_summary(summary: dict[str, Any], out_dir: Path) -> None:
    """validation_summary.json and a readable validation_summary.md next to it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files.write_text(catalog.VALIDATION_JSON.path(out_dir),
                     json.dumps(summary, indent=2, ensure_ascii=False))
    lines = [
        "# Input validation summary",
        "",
        f"Reference date for future-date checks: {summary['reference_date']}.",
        "",
        "| table | file | rows in | clean | quarantined | GE before quarantine | GE clean |",
        "|---|---|---|---|---|---|---|",
    ]
    for table, info in summary["tables"].items():
        ge = info["great_expectations"]
        lines.append(
            f"| {table} | {info['source']} | {info['rows_in']} | {info['rows_clean']} | "
            f"{info['rows_quarantined']} | "
            + " | ".join(f"{ge[s]['passed']}/{ge[s]['evaluated']} passed" for s in STAGES)
            + " |"
        )
    lines += ["", "## Rows per rule", "", "| table | rule | rows | meaning |", "|---|---|---|---|"]
    for table, info in summary["tables"].items():
        for rule, rows in info["rules"].items():
            lines.append(f"| {table} | {rule} | {rows} | {summary['rule_meanings'][rule]} |")
    lines += ["", "## Expectations failed before quarantine", ""]
    for table, info in summary["tables"].items():
        failed = info["great_expectations"]["before_quarantine"]["failed"]
        lines.append(f"- {table}: " + (", ".join(failed) if failed else "none"))
    files.write_text(catalog.VALIDATION_MD.path(out_dir), "\n".join(lines) + "\n")
    page = summary_html(summary)
    for path in (catalog.VALIDATION_HTML.path(out_dir),
                 catalog.DATA_DOCS.path(out_dir) / "offline.html"):
        if path.parent.is_dir():
            files.write_text(path, page)


def summary_html(summary: dict[str, Any]) -> str:
    """The gate's summary as one self-contained page, readable offline.

    Great Expectations' Data Docs build their index with scripts and styles from the internet,
    so offline they are blank; this page (also `data_docs/offline.html`) stands in for them.
    """
    tables = summary["tables"]
    totals = pd.DataFrame([
        {"table": t, "file": i["source"], "rows in": i["rows_in"], "clean": i["rows_clean"],
         "quarantined": i["rows_quarantined"],
         **{f"GE {s.replace('_', ' ')}": "{passed}/{evaluated} passed".format(
             **i["great_expectations"][s]) for s in STAGES}}
        for t, i in tables.items()
    ])
    rules = pd.DataFrame([
        {"table": t, "rule": rule, "rows": rows, "meaning": summary["rule_meanings"][rule]}
        for t, i in tables.items() for rule, rows in i["rules"].items()
    ])
    failed = "".join(
        f"<li>{t}: {', '.join(i['great_expectations']['before_quarantine']['failed']) or 'none'}"
        "</li>" for t, i in tables.items()
    )
    style = ("body{font-family:Arial,sans-serif;margin:1.5em}table{border-collapse:collapse}"
             "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#eee}")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Input validation summary</title><style>{style}</style></head><body>"
        "<h1>Input validation summary</h1>"
        f"<p>Reference date for future-date checks: {summary['reference_date']}. Quarantined "
        "rows: <code>quarantine/</code>.</p>"
        f"{totals.to_html(index=False)}<h2>Rows per rule</h2>{rules.to_html(index=False)}"
        f"<h2>Expectations failed before quarantine</h2><ul>{failed}</ul></body></html>"
    )

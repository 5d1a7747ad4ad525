"""A DuckDB reference for the feature stage (issue 25): the same aggregates, one SQL query.

Why: a second, independent way to compute the per-date features tells us both that ours are
right (every shared column must match) and how fast they could be (our stage should stay
within 3x of the query).

For one as-of date `t`, `reference_features` computes with ONE DuckDB query (CTEs) over the
clean tables (`workplaces`, `inspections`, `complaints` as the quality gate outputs them,
registered as pandas frames, so both sides read the same data) what `features_as_of` computes,
with docs/CONTRACT.md's time semantics written out again in SQL: an inspection exists from
`ordered_on < t`, its outcome counts only once `closed_on < t`, a complaint from
`received_on < t`, and windows start at `t - k years` on `ordered_on` / `received_on`. The code
lists (indicator families, topic groups, origins, channels, windows, sector classes) come from
the catalog: they are definitions, not computations.

Covered (110 of the catalog's 125 columns): every history count per window (1y, 3y, all:
inspections in all and per origin, specialised team, infractions, ILO indicators and their
families, forced and child labour, fines, victims, complaints in all and per topic group and
channel), days since the last inspection and complaint, `age_years`, the same-company columns
(same RUC, principal, co-contractors), `establishments_same_ruc`, `natural_person`,
`is_subcontractor`, `sector_risk_group`, and the six leave-one-out area finding rates shrunk
along the area chain with the additive prior (`features.area_prior_strength`).

Left out (15, none of them a history aggregate; `LEFT_OUT`):
- `declared_workers`, `size_band_ordinal`: registry values, replaced by the latest
  `registry_periods` row before t when that optional table exists; no aggregate to check here;
- the nine district columns (`district_*`, `km_to_*`, `low_density`): INEI context with a
  province / department / national mean imputation and haversine distances, as-of independent;
- `ciiu_division`, `ciiu_class`, `department_code`, `labour_regime`: categorical codes copied
  from the registry row (`compare` checks numbers).

Run: `python -m benchmarks.feature_reference [--data DIR] [--as-of YYYY-MM-DD] [--threads N]`
(`make bench-features-reference`). DuckDB is a dev dependency: production code never imports it.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.model_quality import world_folder
from cleaning.contract import FL_INDICATORS, LIST_SEPARATOR, load_districts
from cleaning.quality import validate_inputs
from features.build import features_as_of, prepare_feature_inputs
from features.catalog import (
    CHANNEL_ES,
    FEATURE_CATALOG,
    INDICATOR_FAMILIES,
    ORIGIN_ES,
    SECTOR_RISK_HIGH_CLASSES,
    SECTOR_RISK_HIGH_DIVISIONS,
    SECTOR_RISK_VERY_HIGH_CLASSES,
    TOPIC_GROUPS,
    WINDOWS,
)
from features.training_set import planning_date_for
from reporting.markdown import markdown_table
from settings.loader import load_config

TOLERANCE = 1e-9
LEFT_OUT = (
    "declared_workers", "size_band_ordinal", "district_poverty_pct",
    "district_extreme_poverty_pct", "district_hdi", "district_density", "district_altitude_m",
    "district_food_vulnerability", "km_to_department_capital", "km_to_lima", "low_density",
    "ciiu_division", "ciiu_class", "department_code", "labour_regime",
)
NS_PER_DAY = 86_400 * 10**9
# Missing outcome values stay NaN through a sum, as in the numpy stage (SQL's SUM skips NULL).
NAN = "'NaN'::DOUBLE"


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    """Catalog codes as a SQL list of string literals."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _has_any(column: str, codes: tuple[str, ...]) -> str:
    """SQL for "the `;`-joined list holds any of `codes`", delimiters padded as in the contract."""
    sep = LIST_SEPARATOR
    padded = f"('{sep}' || coalesce({column}, '') || '{sep}')"
    return "(" + " OR ".join(f"contains({padded}, '{sep}{code}{sep}')" for code in codes) + ")"


def _flag(condition: str) -> str:
    """1.0 / 0.0 for a condition, 0.0 where it is NULL (like pandas' `astype(str) == value`)."""
    return f"CASE WHEN {condition} THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END"


def _inspection_values() -> tuple[dict[str, str], dict[str, str]]:
    """Per inspection row: SQL of the counts its existence adds to, and of its outcome values."""
    existence = {"inspections": "1.0::DOUBLE"}
    existence |= {f"inspections_{o}": _flag(f"origin = '{o}'") for o in ORIGIN_ES}
    existence["inspections_specialized"] = _flag("team = 'specialized'")
    indicator_count = " + ".join(_flag(_has_any("fl_indicators", (c,))) for c in FL_INDICATORS)
    outcomes = {
        "infractions": f"coalesce(CAST(infraction_found AS DOUBLE), {NAN})",
        "fl_indicators": f"({indicator_count})",
        **{f"fl_{family}": _flag(_has_any("fl_indicators", codes))
           for family, (codes, _) in INDICATOR_FAMILIES.items()},
        "forced_labour_found": f"coalesce(CAST(forced_labour_found AS DOUBLE), {NAN})",
        "child_labour_found": f"coalesce(CAST(child_labour_found AS DOUBLE), {NAN})",
        "fines_uit": f"coalesce(CAST(fine_uit AS DOUBLE), {NAN})",
        "victims": f"coalesce(CAST(victims_identified AS DOUBLE), {NAN})",
    }
    return existence, outcomes


def _complaint_values() -> dict[str, str]:
    """Per complaint row: SQL of the complaint counts it adds to."""
    values = {"complaints": "1.0::DOUBLE"}
    values |= {f"complaints_{group}": _flag(_has_any("topics", codes))
               for group, (codes, _) in TOPIC_GROUPS.items()}
    values |= {f"complaints_{c}": _flag(f"channel = '{c}'") for c in CHANNEL_ES}
    return values


def _windowed(values: dict[str, str], known: str, date_column: str, t: str) -> list[str]:
    """`sum(value) FILTER (known rows in the window)` for every value and window."""
    sums = []
    for window, (years, _) in WINDOWS.items():
        where = known if years is None else (
            f"{known} AND {date_column} >= {t} - INTERVAL {years} YEAR")
        sums += [f"sum({sql}) FILTER (WHERE {where}) AS {name}_{window}"
                 for name, sql in values.items()]
    return sums


def _days_since(column: str, known: str, t: str) -> str:
    """Days from the latest known event to t, as ns / ns-per-day in doubles (like numpy)."""
    return (f"CAST(epoch_ns({t}) - epoch_ns(max({column}) FILTER (WHERE {known})) AS DOUBLE)"
            f" / {float(NS_PER_DAY)!r}")


def _history_ctes(t: str) -> tuple[str, list[str]]:
    """CTEs of per-workplace inspection and complaint aggregates, and their history columns."""
    existence, outcomes = _inspection_values()
    complaints = _complaint_values()
    exists, known = f"ordered_on < {t}", f"ordered_on < {t} AND closed_on < {t}"
    received = f"received_on < {t}"
    ins = [*_windowed(existence, exists, "ordered_on", t),
           *_windowed(outcomes, known, "ordered_on", t),
           f"{_days_since('ordered_on', exists, t)} AS days_since_last_inspection",
           f"count(*) FILTER (WHERE {known}) AS trials",
           f"count(*) FILTER (WHERE {known} AND ({outcomes['fl_indicators']}) > 0) AS any_ind"]
    com = [*_windowed(complaints, received, "received_on", t),
           f"{_days_since('received_on', received, t)} AS days_since_last_complaint"]
    ctes = (
        f"ins_agg AS (SELECT workplace_id, {', '.join(ins)} FROM inspections "
        "GROUP BY workplace_id),\n"
        f"com_agg AS (SELECT workplace_id, {', '.join(com)} FROM complaints "
        "GROUP BY workplace_id)"
    )
    names = [s.rsplit(" AS ", 1)[1] for s in ins[:-2] + com]
    return ctes, names


def _per_workplace_cte(t: str, history: list[str]) -> str:
    """One row per workplace: registry fields, history columns (0 without events), trials."""
    days = ("days_since_last_inspection", "days_since_last_complaint")
    columns = [name if name in days else f"coalesce({name}, 0.0) AS {name}" for name in history]
    age = (f"CAST(epoch_ns({t}) - epoch_ns(w.activity_start) AS DOUBLE) / {float(NS_PER_DAY)!r}"
           " / 365.25")
    sector = (f"CASE WHEN ciiu IN ({_quoted(SECTOR_RISK_VERY_HIGH_CLASSES)}) THEN 2.0 "
              f"WHEN ciiu IN ({_quoted(SECTOR_RISK_HIGH_CLASSES)}) "
              f"OR substr(ciiu, 1, 2) IN ({_quoted(SECTOR_RISK_HIGH_DIVISIONS)}) THEN 1.0 "
              "ELSE 0.0 END")
    return (
        "wp AS (SELECT w.workplace_id, CAST(w.ruc AS VARCHAR) AS ruc, "
        "CAST(w.contractor_of AS VARCHAR) AS contractor_of, CAST(w.ubigeo AS VARCHAR) AS ubigeo, "
        "CAST(w.ciiu AS VARCHAR) AS ciiu, "
        f"CASE WHEN ({age}) < 0 THEN 0.0 ELSE ({age}) END AS age_years, "
        f"{', '.join(columns)}, CAST(coalesce(trials, 0) AS DOUBLE) AS trials, "
        "CAST(coalesce(any_ind, 0) AS DOUBLE) AS any_ind, "
        "w.contractor_of IS NOT NULL AS has_contractor "
        "FROM workplaces w LEFT JOIN ins_agg USING (workplace_id) "
        "LEFT JOIN com_agg USING (workplace_id)),\n"
        f"wp2 AS (SELECT *, {sector} AS sector_risk_group FROM wp)"
    )


# Same-company sums: by RUC, then a workplace's principal (contractor_of, when it is a RUC of
# the registry) and its co-contractors; a workplace's own findings never count.
COMPANY_CTES = """
ruc_tot AS (SELECT ruc, CAST(count(*) AS DOUBLE) AS n, sum(forced_labour_found_all) AS fl,
    sum(any_ind) AS ai, sum(infractions_all) AS inf FROM wp2 GROUP BY ruc),
co_tot AS (SELECT contractor_of, sum(forced_labour_found_all) AS fl FROM wp2
    WHERE contractor_of IN (SELECT ruc FROM ruc_tot) GROUP BY contractor_of),
company AS (SELECT wp2.*, r.n AS establishments_same_ruc,
    CASE WHEN ruc LIKE '10%' THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END AS natural_person,
    CASE WHEN has_contractor THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END AS is_subcontractor,
    r.fl - forced_labour_found_all AS same_ruc_fl_findings,
    r.ai - any_ind AS same_ruc_indicator_findings,
    r.inf - infractions_all AS same_ruc_infractions,
    coalesce(p.fl, 0.0) - CASE WHEN wp2.contractor_of = wp2.ruc
        THEN forced_labour_found_all ELSE 0.0 END AS principal_fl_findings,
    coalesce(p.ai, 0.0) - CASE WHEN wp2.contractor_of = wp2.ruc
        THEN any_ind ELSE 0.0 END AS principal_indicator_findings,
    coalesce(p.inf, 0.0) - CASE WHEN wp2.contractor_of = wp2.ruc
        THEN infractions_all ELSE 0.0 END AS principal_infractions,
    CASE WHEN c.fl IS NULL THEN 0.0 ELSE c.fl - forced_labour_found_all END
        AS co_contractor_fl_findings
    FROM wp2 JOIN ruc_tot r USING (ruc)
    LEFT JOIN ruc_tot p ON p.ruc = wp2.contractor_of
    LEFT JOIN co_tot c ON c.contractor_of = wp2.contractor_of)"""
COMPANY_COLUMNS = (
    "age_years", "sector_risk_group", "establishments_same_ruc", "natural_person",
    "is_subcontractor", "same_ruc_fl_findings", "same_ruc_indicator_findings",
    "same_ruc_infractions", "principal_fl_findings", "principal_indicator_findings",
    "principal_infractions", "co_contractor_fl_findings",
)


AREA_KEYS = {
    "department": "substr(ubigeo, 1, 2)", "province": "substr(ubigeo, 1, 4)",
    "district": "ubigeo", "division": "substr(ciiu, 1, 2)",
    "ciiu_department": "substr(ciiu, 1, 2) || '-' || substr(ubigeo, 1, 2)",
}
# Areas from broad to narrow, each shrunk toward the one before it (the nation on top).
AREA_CHAINS = (("department", "province", "district"), ("division", "ciiu_department"))
OUTCOME_HITS = {"fl": "forced_labour_found_all", "infraction": "infractions_all"}


def _area_totals_ctes() -> str:
    """Per workplace, its areas' known inspections (t_*) and findings (h_*), its own left out;
    area sums by GROUP BY on a narrow frame, then joined back."""
    keys = ", ".join(f"{sql} AS k_{area}" for area, sql in AREA_KEYS.items())
    hits = ", ".join(f"{column} AS h_{outcome}" for outcome, column in OUTCOME_HITS.items())
    sums = "sum(trials) AS t, " + ", ".join(f"sum(h_{o}) AS {o}" for o in OUTCOME_HITS)
    ctes = [f"narrow AS (SELECT workplace_id, {keys}, trials, {hits} FROM wp2)",
            f"g_nation AS (SELECT {sums} FROM narrow)"]
    ctes += [f"g_{area} AS (SELECT k_{area}, {sums} FROM narrow GROUP BY k_{area})"
             for area in AREA_KEYS]
    columns = []
    for area in ["nation", *AREA_KEYS]:
        columns.append(f"g_{area}.t - n.trials AS t_{area}")
        columns += [f"g_{area}.{o} - n.h_{o} AS h_{o}_{area}" for o in OUTCOME_HITS]
    joins = " ".join(f"JOIN g_{area} USING (k_{area})" for area in AREA_KEYS)
    ctes.append(f"areas AS (SELECT n.workplace_id, {', '.join(columns)} "
                f"FROM narrow n CROSS JOIN g_nation {joins})")
    return ",\n".join(ctes)


def _area_rates(m: str) -> list[str]:
    """Rates along each chain, (area hits + m * parent rate) / (area trials + m); the
    nation's own rate is hits / trials (0 without trials). Later items use earlier aliases."""
    rates = []
    for outcome in OUTCOME_HITS:
        rates.append(f"CASE WHEN t_nation > 0 THEN h_{outcome}_nation / t_nation ELSE 0.0 END"
                     f" AS r_{outcome}_nation")
        for chain in AREA_CHAINS:
            parent = "nation"
            for area in chain:
                rates.append(f"(h_{outcome}_{area} + {m} * r_{outcome}_{parent}) / "
                             f"(t_{area} + {m}) AS r_{outcome}_{area}")
                parent = area
    return rates


def reference_sql(as_of: pd.Timestamp, area_prior_strength: float) -> str:
    """The one query: features as of `as_of` for every workplace, by `workplace_id`."""
    t = f"TIMESTAMP '{pd.Timestamp(as_of).isoformat(sep=' ')}'"
    history_ctes, history = _history_ctes(t)
    rates = _area_rates(repr(float(area_prior_strength)))
    outputs = [*history, *COMPANY_COLUMNS, *(
        f"r_{outcome}_{level} AS area_{outcome}_rate_{level}"
        for outcome in OUTCOME_HITS for level in ("district", "province", "ciiu_department"))]
    return (f"WITH {history_ctes},\n{_per_workplace_cte(t, history)},{COMPANY_CTES},\n"
            f"{_area_totals_ctes()},\nrated AS (SELECT *, {', '.join(rates)} FROM areas)\n"
            f"SELECT workplace_id, {', '.join(outputs)} FROM company JOIN rated "
            "USING (workplace_id)")


def reference_features(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp,
                       area_prior_strength: float, threads: int | None = None) -> pd.DataFrame:
    """Run the reference query on the clean tables (registered, not copied) in a fresh DuckDB
    connection; columns in catalog order, index `workplace_id`."""
    import duckdb  # a dev dependency: only this benchmark loads it

    connection = duckdb.connect()
    try:
        if threads:
            connection.execute(f"SET threads = {int(threads)}")
        for name in ("workplaces", "inspections", "complaints"):
            connection.register(name, tables[name])
        frame = connection.execute(reference_sql(as_of, area_prior_strength)).df()
    finally:
        connection.close()
    frame = frame.set_index("workplace_id")
    frame.index = frame.index.astype(str)
    return frame[[c for c in FEATURE_CATALOG if c in frame.columns]]


def compare(ours: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per shared column: max absolute difference over workplaces (inf where only one side is
    NaN or a workplace is missing on one side) and whether all agree within TOLERANCE."""
    reference = reference.reindex(ours.index)
    rows = []
    for column in [c for c in ours.columns if c in reference.columns]:
        a = ours[column].to_numpy(dtype=float)
        b = reference[column].to_numpy(dtype=float)
        both_nan = np.isnan(a) & np.isnan(b)
        diff = np.where(both_nan, 0.0, np.abs(a - b))
        diff = np.where(np.isnan(diff), np.inf, diff)
        worst = float(diff.max(initial=0.0))
        rows.append({"column": column, "max_abs_diff": worst, "equal": worst <= TOLERANCE})
    return pd.DataFrame(rows, columns=["column", "max_abs_diff", "equal"])


def _best_of(runs: int, work: Any) -> tuple[float, Any]:
    """Best wall time of `runs` calls of `work()` (the first pays one-off imports and caches)
    and that call's result."""
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        outcome = work()
        if (elapsed := time.perf_counter() - started) < best:
            best, result = elapsed, outcome
    return best, result


def _our_stage(tables: dict[str, pd.DataFrame], districts: pd.DataFrame, as_of: pd.Timestamp,
               prior: float) -> tuple[pd.DataFrame, float]:
    """Our features for one date, and the seconds of its `prepare_feature_inputs` part."""
    started = time.perf_counter()
    inputs = prepare_feature_inputs(tables, districts)
    prepared = time.perf_counter() - started
    return features_as_of(inputs, as_of, prior), prepared


def time_reference(tables: dict[str, pd.DataFrame], districts: pd.DataFrame,
                   as_of: pd.Timestamp, prior: float, threads: int | None = 1,
                   runs: int = 2) -> dict[str, Any]:
    """Best of `runs` wall times of our stage (prepare_feature_inputs + features_as_of) and of
    the DuckDB query (connection, registering the frames, query, result frame), and the check."""
    ours_s, (ours, prepare_s) = _best_of(
        runs, lambda: _our_stage(tables, districts, as_of, prior))
    duck_s, reference = _best_of(runs, lambda: reference_features(tables, as_of, prior, threads))
    checked = compare(ours, reference)
    return {
        "as_of": str(pd.Timestamp(as_of).date()), "workplaces": len(ours),
        "inspections": len(tables["inspections"]), "complaints": len(tables["complaints"]),
        "ours_s": ours_s, "ours_prepare_s": prepare_s, "duckdb_s": duck_s,
        "ratio": ours_s / duck_s, "duckdb_threads": threads or "default",
        "columns_compared": len(checked), "columns_equal": int(checked["equal"].sum()),
        "comparison": checked,
    }


def reference_on_world(data_dir: Path, as_of: str | None = None,
                       threads: int | None = 1) -> dict[str, Any]:
    """`time_reference` on a raw input folder's clean tables at `as_of` (default: the planning
    date `vigia run` would use)."""
    tables = validate_inputs(data_dir, load_config(), date.today())[0].clean
    return time_reference(tables, load_districts(), planning_date_for(tables, as_of),
                          load_config().features.area_prior_strength, threads)


def _report(result: dict[str, Any]) -> str:
    """The Markdown summary, then every column that differs."""
    summary = {k: v for k, v in result.items() if k != "comparison"}
    table = markdown_table(pd.DataFrame([summary]), digits=3)
    checked = result["comparison"]
    differing = checked[~checked["equal"]]
    detail = ("All compared columns are equal within 1e-9." if differing.empty
              else "Columns that differ:\n\n" + markdown_table(differing, digits=12))
    return f"# Feature stage against its DuckDB reference\n\n{table}\n\n{detail}\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="raw input folder (default: the 50,000-workplace demo world of "
                             ".bench/worlds, generated on first use)")
    parser.add_argument("--as-of", default=None,
                        help="YYYY-MM-DD (default: the day after the newest record)")
    parser.add_argument("--threads", type=int, default=1,
                        help="DuckDB threads (default 1, like our single-threaded stage; "
                             "0 = DuckDB's default, every core)")
    args = parser.parse_args(argv)
    data = args.data
    if data is None:
        data = world_folder("baseline", load_config().demo_world.seed, 50_000)
    print(_report(reference_on_world(data, args.as_of, args.threads or None)), flush=True)


if __name__ == "__main__":
    main()

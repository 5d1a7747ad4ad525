"""The list log: every published list, kept so that later runs learn what its visits found.

One row per listed unit: planning date, the end of the list's period, office, the unit's
establishments (a visit may cover several of one RUC in one district), rank, selection
("modelo" or "exploracion"), selection probability and the model version that scored it. No
name, address, reason or complaint figure: workplace ids only, as in `scores.csv`.

A later run links the inspections ORDERED during a list's period at the unit's establishments
to its row (`link_outcomes`), so exploration visits come back with the probabilities they were
drawn with; `logged_propensity` then combines those probabilities with the propensity model's
chance of an inspection by any other route.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.labels import inspection_positive
from settings import files

LOG_COLUMNS = ["planning_date", "period_end", "office", "rank", "workplace_id", "establishments",
               "selection", "selection_probability", "model_version"]


def list_log_entries(target: pd.DataFrame, planning_date: pd.Timestamp, period_months: int,
                     model_version: str) -> pd.DataFrame:
    """The log rows of a published list (`models.targeting.lists` output), without personal data."""
    entries = target[["office", "rank", "workplace_id", "establishments", "selection",
                      "selection_probability"]].copy()
    entries.insert(0, "planning_date", pd.Timestamp(planning_date))
    entries.insert(1, "period_end", pd.Timestamp(planning_date) + pd.DateOffset(
        months=period_months))
    entries["model_version"] = str(model_version)
    entries["rank"] = entries["rank"].astype("int64")
    entries["selection_probability"] = entries["selection_probability"].astype(float)
    return entries[LOG_COLUMNS].reset_index(drop=True)


def read_list_log(*paths: Path) -> pd.DataFrame:
    """The rows of every log file that exists (none: an empty log)."""
    frames = [pd.read_parquet(p) for p in paths if Path(p).is_file()]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LOG_COLUMNS})
    log = pd.concat(frames, ignore_index=True)
    for column in ("planning_date", "period_end"):
        log[column] = pd.to_datetime(log[column])
    return log.drop_duplicates(["planning_date", "office", "workplace_id"], keep="last")


def append_list_log(path: Path, entries: pd.DataFrame) -> pd.DataFrame:
    """Add a list's rows to the log at `path`; a rerun for the same date and office replaces
    that list's rows. Written atomically (temporary file, then rename) under an exclusive lock,
    so concurrent `vigia rank` processes each add their list."""
    with files.locked(path):
        return _replace_lists(path, entries)


def _replace_lists(path: Path, entries: pd.DataFrame) -> pd.DataFrame:
    log = read_list_log(path)
    published = set(zip(entries["planning_date"], entries["office"], strict=True))
    keep = [(d, o) not in published for d, o in zip(log["planning_date"], log["office"],
                                                     strict=True)]
    combined = pd.concat([log[keep], entries], ignore_index=True) if len(log) else entries
    with files.replaced(path) as partial:
        combined.to_parquet(partial, index=False)
    return combined


def link_outcomes(log: pd.DataFrame, inspections: pd.DataFrame, known_before: pd.Timestamp,
                  label_kind: str, min_indicators: int) -> pd.DataFrame:
    """Each log row with what inspections ordered in its period at its establishments found.

    Adds `inspected` (an order in [planning_date, period_end) before `known_before`), `known`
    (one of them closed before `known_before`) and `finding` (1.0 / 0.0, NaN when unknown).
    """
    rows = log.assign(establishment=log["establishments"].str.split(";")).explode(
        "establishment")
    orders = inspections[inspections["ordered_on"] < known_before].copy()
    orders["known"] = (orders["closed_on"] < known_before).fillna(False).astype(bool)
    orders["positive"] = inspection_positive(orders, label_kind, min_indicators) & orders["known"]
    merged = rows.reset_index().merge(orders[["workplace_id", "ordered_on", "known",
                                              "positive"]],
                                      left_on="establishment", right_on="workplace_id",
                                      how="inner", suffixes=("", "_order"))
    in_period = (merged["ordered_on"] >= merged["planning_date"]) & (
        merged["ordered_on"] < merged["period_end"])
    per_row = merged[in_period].groupby("index").agg(known=("known", "any"),
                                                      positive=("positive", "any"))
    linked = log.copy()
    linked["inspected"] = linked.index.isin(per_row.index)
    linked["known"] = per_row["known"].reindex(linked.index).fillna(False).astype(bool)
    linked["finding"] = np.where(linked["known"], per_row["positive"].reindex(
        linked.index).fillna(False).astype(float), np.nan)
    return linked


def logged_propensity(workplace_ids: pd.Index, modelled: pd.Series, log: pd.DataFrame,
                      as_of: pd.Timestamp) -> pd.Series:
    """P(inspected) per workplace: drawn on a list whose period holds `as_of`, or inspected by
    any other route (the propensity model), taken as independent: p + (1 - p) * q.

    Drawn units are assumed visited (the list says an exploration visit must be made).
    """
    current = log[(log["planning_date"] <= as_of) & (log["period_end"] > as_of)]
    drawn = current.assign(workplace_id=current["establishments"].str.split(";")).explode(
        "workplace_id").groupby("workplace_id")["selection_probability"].max()
    p = drawn.reindex(workplace_ids).fillna(0.0).to_numpy()
    q = modelled.reindex(workplace_ids).fillna(0.0).to_numpy()
    return pd.Series(p + (1.0 - p) * q, index=workplace_ids, name="propensity")


def exploration_summary(linked: pd.DataFrame) -> pd.DataFrame:
    """Per past list and selection: rows, visits made, known outcomes, findings."""
    table = linked.groupby(["planning_date", "selection"]).agg(
        listed=("workplace_id", "size"), inspected=("inspected", "sum"),
        known=("known", "sum"), findings=("finding", "sum"),
        mean_selection_probability=("selection_probability", "mean"))
    return table.reset_index().assign(planning_date=lambda t: t["planning_date"].dt.date)

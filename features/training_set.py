"""Training and scoring sets: features stacked over as-of dates with labels known in time.

A model for a test or planning date T learns from features at each training as-of date t and
labels of `[t, t + label timespan)` whose outcomes closed before T (`known_before=T`). Only
labelled rows are kept: a workplace nobody inspected in the window is not a negative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from cleaning.contract import isin_text
from features.build import FeatureInputs, features_as_of, prepare_feature_inputs
from features.labels import (
    decided_by_specialised_team,
    decided_in_window,
    decided_labels,
    label_window_end,
)
from settings.errors import InputError


@dataclass
class FeatureMemo:
    """Each as-of date's features built once for one set of tables and shared by every training
    set made from them: the backtest's splits, the planning model and the gate's recipe.

    A date keeps only the rows a label could ever read (an inspection ordered in its label window
    and closed, whatever `known_before`): a few percent of the workplaces, so the memo of a whole
    split plan stays small. Features at a date use only facts known before it (the leakage tests),
    so a row is the same for every split that trains on it.
    """

    tables: dict[str, pd.DataFrame]
    districts: pd.DataFrame
    _frames: dict[tuple[pd.Timestamp, int, float], pd.DataFrame] = field(
        default_factory=dict, repr=False)

    @cached_property
    def inputs(self) -> FeatureInputs:
        return prepare_feature_inputs(self.tables, self.districts)

    def labelled_rows(self, as_of: pd.Timestamp, label_timespan_months: int,
                      area_prior_strength: float) -> pd.DataFrame:
        """Features at `as_of` of the workplaces with a decided inspection in its label window."""
        key = (pd.Timestamp(as_of), label_timespan_months, area_prior_strength)
        if key not in self._frames:
            inspections = self.tables["inspections"]
            decided = inspections.loc[decided_in_window(inspections, key[0], key[1]),
                                      "workplace_id"].astype(str)
            rows = np.flatnonzero(isin_text(self.inputs.static.index, decided))
            self._frames[key] = features_as_of(self.inputs, key[0], area_prior_strength, rows)
        return self._frames[key]


@dataclass(frozen=True)
class PlanningData:
    """What is known at the planning date: the clean tables cut to it, and the districts.

    The stages after the quality gate (gate, scores, lists, estimates) all read these three.
    """

    tables: dict[str, pd.DataFrame]
    districts: pd.DataFrame
    planning_date: pd.Timestamp

    @cached_property
    def features(self) -> FeatureMemo:
        """The training features of these tables, built once per run (`FeatureMemo`)."""
        return FeatureMemo(self.tables, self.districts)


def build_training_set(
    memo: FeatureMemo,
    train_as_of_dates: list[pd.Timestamp],
    label_timespan_months: int,
    known_before: pd.Timestamp,
    *,
    label_kind: str,
    min_indicators: int,
    area_prior_strength: float,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(X, y, meta) over the training as-of dates from `memo`'s tables; rows share a RangeIndex.

    `meta` has `workplace_id`, `as_of` and `specialised` (the specialised team decided a visit
    in the row's label window). Raises if a label window would end after
    `known_before`, since its features or labels could then reach past the test date. A memo
    shared with other training sets on the same tables builds each date's features once.
    """
    known_before = pd.Timestamp(known_before)
    dates = sorted({pd.Timestamp(t) for t in train_as_of_dates})
    late = [t for t in dates if label_window_end(t, label_timespan_months) > known_before]
    if late:
        raise ValueError(
            f"training as-of dates {late} have label windows ending after {known_before}"
        )
    tables = memo.tables
    features, labels, metas = [], [], []
    for as_of in dates:
        X = memo.labelled_rows(as_of, label_timespan_months, area_prior_strength)
        y = decided_labels(tables["inspections"], as_of, label_timespan_months,
                           kind=label_kind, known_before=known_before,
                           min_indicators=min_indicators).reindex(X.index)
        keep = y.notna().to_numpy()
        features.append(X[keep])
        labels.append(y[keep])
        ids = X.index[keep]
        metas.append(pd.DataFrame({
            "workplace_id": ids, "as_of": as_of,
            "specialised": decided_by_specialised_team(tables["inspections"], ids, as_of,
                                                       label_timespan_months, known_before),
        }))
    X_all = pd.concat(features).reset_index(drop=True)
    y_all = pd.concat(labels).reset_index(drop=True).rename("label")
    meta = pd.concat(metas).reset_index(drop=True)
    return X_all, y_all, meta


def build_scoring_set(
    tables: dict[str, pd.DataFrame],
    districts: pd.DataFrame,
    as_of: pd.Timestamp,
    area_prior_strength: float,
    memo: FeatureMemo | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(X, meta) for every workplace at a test or planning date; rows share a RangeIndex
    (`memo`, made on the same tables, shares the prepared inputs)."""
    as_of = pd.Timestamp(as_of)
    inputs = prepare_feature_inputs(tables, districts) if memo is None else memo.inputs
    X = features_as_of(inputs, as_of, area_prior_strength)
    meta = pd.DataFrame({"workplace_id": X.index, "as_of": as_of})
    return X.reset_index(drop=True), meta


def tables_known_before(
    tables: dict[str, pd.DataFrame], when: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """A copy cut to what was known before `when` (CONTRACT.md's leakage test).

    Later inspections, complaints and registry periods are dropped; outcomes closed on or after
    `when` are blanked, since the inspection was still open as far as anyone knew.
    """
    when = pd.Timestamp(when)
    ins = tables["inspections"]
    ins = ins.loc[ins["ordered_on"] < when].copy()
    late = ~(ins["closed_on"] < when)
    ins.loc[late, "closed_on"] = pd.NaT
    for column in ("infraction_found", "forced_labour_found", "child_labour_found"):
        ins.loc[late, column] = False
    ins.loc[late, "victims_identified"] = 0
    ins.loc[late, "fine_uit"] = 0.0
    ins.loc[late, "fl_indicators"] = ""
    com = tables["complaints"]
    cut = {
        "workplaces": tables["workplaces"].copy(),
        "inspections": ins,
        "complaints": com.loc[com["received_on"] < when].copy(),
    }
    if "registry_periods" in tables:
        periods = tables["registry_periods"]
        cut["registry_periods"] = periods.loc[periods["period"] < when].copy()
    return cut


def newest_record_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The newest date any fact in the clean tables carries."""
    candidates = [
        tables["inspections"]["ordered_on"].max(),
        tables["inspections"]["closed_on"].max(),
        tables["complaints"]["received_on"].max(),
    ]
    return _known(max, candidates)


def planning_date_for(tables: dict[str, pd.DataFrame], as_of: str | None) -> pd.Timestamp:
    """The requested planning date (YYYY-MM-DD), else the day after the newest record."""
    if as_of:
        return pd.Timestamp(date.fromisoformat(as_of))
    return (newest_record_date(tables) + pd.Timedelta(days=1)).normalize()


def oldest_record_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The oldest order or complaint: history starts here."""
    return _known(min, [tables["inspections"]["ordered_on"].min(),
                        tables["complaints"]["received_on"].min()])


def _known(pick: Callable[[list[pd.Timestamp]], pd.Timestamp], dates: list) -> pd.Timestamp:
    """min or max of the dates that exist (a table may be empty); no dates is a user error."""
    known = [pd.Timestamp(d) for d in dates if pd.notna(d)]
    if not known:
        raise InputError("no inspections and no complaints: there is no history to learn from")
    return pick(known)

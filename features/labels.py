"""Labels for an as-of date: what inspections ordered in `[as_of, as_of + label timespan)` found.

Outcomes exist only where someone inspected. A workplace is labelled only when at least one
inspection ordered in its label window has a KNOWN outcome (`closed_on` set and, with
`known_before`, `closed_on < known_before`); every other workplace gets NaN, never a negative.

Label kinds (config `labels.kind`):
- `forced_labour_found`: an inspection in the window concluded forced labour (the default, the
  ILO definition: involuntariness AND coercion, as the inspector judged it).
- `min_indicators`: an inspection documented at least `min_indicators` distinct ILO indicators
  (several indicators together point to forced labour, one rarely does).
- `fundamental_rights`: an inspection found forced labour, child labour or any ILO indicator, or
  found an infraction while its subjects included a fundamental-rights matter (forced labour,
  child labour, discrimination, union rights: the ILO fundamental principles besides safety).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cleaning.contract import LIST_SEPARATOR, SPECIALIZED_TEAM, isin_text, list_has_any_code

LABEL_KINDS = ("forced_labour_found", "min_indicators", "fundamental_rights")
FUNDAMENTAL_RIGHTS_SUBJECTS = ("forced_labour", "child_labour", "discrimination", "union_rights")


def _count_codes(lists: pd.Series) -> np.ndarray:
    """Number of distinct codes in each `;`-joined list ("" counts zero)."""
    return lists.fillna("").astype(str).map(
        lambda s: len({c for c in s.split(LIST_SEPARATOR) if c})
    ).to_numpy(dtype=int)


def inspection_positive(inspections: pd.DataFrame, kind: str, min_indicators: int) -> np.ndarray:
    """Whether each inspection's outcome is positive under the label `kind`."""
    if kind == "forced_labour_found":
        return inspections["forced_labour_found"].to_numpy(dtype=bool)
    n_indicators = _count_codes(inspections["fl_indicators"])
    if kind == "min_indicators":
        return n_indicators >= min_indicators
    if kind == "fundamental_rights":
        rights_subject = list_has_any_code(inspections["subjects"], FUNDAMENTAL_RIGHTS_SUBJECTS)
        return (
            inspections["forced_labour_found"].to_numpy(dtype=bool)
            | inspections["child_labour_found"].to_numpy(dtype=bool)
            | (n_indicators > 0)
            | (inspections["infraction_found"].to_numpy(dtype=bool) & rights_subject)
        )
    raise ValueError(f"unknown label kind {kind!r}; expected one of {LABEL_KINDS}")


def known_cases(inspections: pd.DataFrame, as_of: pd.Timestamp, kind: str,
                min_indicators: int) -> pd.Index:
    """Workplaces where an inspection that closed before `as_of` found what the label counts:
    documented cases, whose next visit is follow-up rather than discovery."""
    closed = inspections[inspections["closed_on"] < as_of]
    positive = inspection_positive(closed, kind, min_indicators)
    return pd.Index(closed.loc[positive, "workplace_id"].astype(str).unique(), name="workplace_id")


def label_window_end(as_of: pd.Timestamp, label_timespan_months: int) -> pd.Timestamp:
    """First day after the label window that starts at `as_of`."""
    return pd.Timestamp(as_of) + pd.DateOffset(months=label_timespan_months)


def decided_in_window(inspections: pd.DataFrame, as_of: pd.Timestamp,
                      label_timespan_months: int,
                      known_before: pd.Timestamp | None = None) -> pd.Series:
    """Inspections ordered in the label window at `as_of` whose outcome is known (closed, and
    before `known_before` when given): the ones a label may read."""
    as_of = pd.Timestamp(as_of)
    ordered, closed = inspections["ordered_on"], inspections["closed_on"]
    known = closed.notna()
    if known_before is not None:
        known &= closed < pd.Timestamp(known_before)
    return (ordered >= as_of) & (ordered < label_window_end(as_of, label_timespan_months)) & known


def build_labels(
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    label_timespan_months: int,
    *,
    kind: str,
    min_indicators: int,
    known_before: pd.Timestamp | None = None,
) -> pd.Series:
    """1.0 / 0.0 / NaN per workplace (index `workplace_id`, all of them) for the window at `as_of`.

    Only inspections ordered in the window with an outcome known (before `known_before` when
    given) decide the label; the label is positive if any of them is positive.
    """
    ids = pd.Index(tables["workplaces"]["workplace_id"].astype(str), name="workplace_id")
    return decided_labels(tables["inspections"], as_of, label_timespan_months, kind=kind,
                          min_indicators=min_indicators, known_before=known_before
                          ).reindex(ids).rename("label")


def decided_labels(
    inspections: pd.DataFrame,
    as_of: pd.Timestamp,
    label_timespan_months: int,
    *,
    kind: str,
    min_indicators: int,
    known_before: pd.Timestamp | None = None,
) -> pd.Series:
    """`build_labels` of the workplaces whose label is decided (1.0 / 0.0), the rest left out:
    a training set reads a few percent of the registry, so it reindexes these to its own rows
    instead of every workplace's label for every training date."""
    decided = inspections.loc[decided_in_window(inspections, as_of, label_timespan_months,
                                                known_before)]
    positive = pd.Series(
        inspection_positive(decided, kind, min_indicators).astype(float),
        index=decided["workplace_id"].astype(str).to_numpy(),
    )
    return positive.groupby(level=0).max().rename("label")


def decided_by_specialised_team(inspections: pd.DataFrame, workplace_ids: pd.Index,
                                as_of: pd.Timestamp, label_timespan_months: int,
                                known_before: pd.Timestamp) -> np.ndarray:
    """Whether the specialised team made one of each workplace's inspections ordered in the
    label window at `as_of` whose outcome is known before `known_before`: its negative is a
    stronger test than regular inspectors' (False everywhere when the export has no `team`)."""
    if "team" not in inspections:
        return np.zeros(len(workplace_ids), dtype=bool)
    decided = (decided_in_window(inspections, as_of, label_timespan_months, known_before)
               & (inspections["team"] == SPECIALIZED_TEAM))
    return isin_text(workplace_ids, inspections.loc[decided, "workplace_id"].astype(str))


def label_summary(labels: pd.Series) -> dict[str, float]:
    """Counts for metrics and MLflow: workplaces, labelled rows, positives and positive share."""
    labelled = int(labels.notna().sum())
    positives = int((labels == 1.0).sum())
    return {
        "workplaces": int(len(labels)),
        "labelled": labelled,
        "positives": positives,
        "positive_rate": positives / labelled if labelled else float("nan"),
    }

"""Readers of a demo world's hidden truth/ folder: the only code allowed to open it.

Evaluation uses these to score lists against what really happened (spells of forced labour),
not only against what inspectors happened to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cleaning.contract import isin_text
from demo_world.writing import TRUTH_FOLDER


@dataclass(frozen=True)
class TruthFile:
    """One hidden CSV evaluation reads; `load_truth` files it under its stem."""

    name: str
    holds: str
    required: bool = False

    @property
    def key(self) -> str:
        """Its key in `load_truth`'s tables."""
        return Path(self.name).stem


FL_SPELLS = TruthFile("fl_spells.csv", "forced-labour spells: workplace_id, start, end", True)
HIDDEN_WORKPLACES = TruthFile("workplaces.csv",
                              "every workplace's latent state and active dates", True)
LATENT_RISK = TruthFile("latent_risk.csv", "the oracle's risk per workplace and quarter")
HIDDEN_INSPECTIONS = TruthFile("inspections.csv", "the hidden state at every inspection")
TRUTH_FILES = (FL_SPELLS, HIDDEN_WORKPLACES, LATENT_RISK, HIDDEN_INSPECTIONS)

FAR_FUTURE = pd.Timestamp("2200-01-01")  # end of ongoing spells
ID_COLUMNS = ("workplace_id", "ruc", "principal_ruc", "ciiu", "department_code", "ubigeo",
              "inspection_id", "complaint_id", "id")
DATE_COLUMNS = ("start", "end", "active_from", "active_until", "ordered_on", "received_on")


def truth_dir(data_dir: str | Path) -> Path:
    """Where a demo world keeps its hidden truth: a folder inside its data folder."""
    return Path(data_dir) / TRUTH_FOLDER


def load_truth(truth_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Every truth CSV by file stem, with ids as strings and dates as datetime64."""
    out: dict[str, pd.DataFrame] = {}
    for path in sorted(Path(truth_dir).glob("*.csv")):
        frame = pd.read_csv(path, dtype={c: "str" for c in ID_COLUMNS}, keep_default_na=True)
        for column in DATE_COLUMNS:
            if column in frame.columns:
                frame[column] = pd.to_datetime(frame[column])
        out[path.stem] = frame
    if any(file.required and file.key not in out for file in TRUTH_FILES):
        raise FileNotFoundError(f"{truth_dir}: not a demo-world truth folder")
    return out


def forced_labour_active(
    truth: dict[str, pd.DataFrame], as_of: str | pd.Timestamp, horizon_months: int = 0
) -> pd.Series:
    """Per workplace: forced labour active at `as_of`, or at any time in [as_of, as_of+horizon)."""
    as_of = pd.Timestamp(as_of)
    spells = truth["fl_spells"]
    end = spells["end"].fillna(FAR_FUTURE)
    if horizon_months > 0:
        until = as_of + pd.DateOffset(months=horizon_months)
        hit = (spells["start"] < until) & (end > as_of)
    else:
        hit = (spells["start"] <= as_of) & (end > as_of)
    ids = truth["workplaces"]["workplace_id"]
    active = isin_text(ids, spells.loc[hit, "workplace_id"])
    return pd.Series(active, index=pd.Index(ids, name="workplace_id"),
                     name="forced_labour_active")


def latent_risk(truth: dict[str, pd.DataFrame], as_of: str | pd.Timestamp) -> pd.Series:
    """The oracle's hidden risk per workplace, from the latest quarter column at or before as_of."""
    as_of = pd.Timestamp(as_of)
    table = truth["latent_risk"].set_index("workplace_id")
    dates = pd.to_datetime(pd.Index(table.columns))
    usable = dates[dates <= as_of]
    if len(usable) == 0:
        raise ValueError(f"no latent risk at or before {as_of.date()} (first {dates.min().date()})")
    column = table.columns[dates.get_loc(usable.max())]
    risk = table[column].astype(float).rename("latent_risk")
    risk.index.name = "workplace_id"
    return risk

"""Every file a run writes into its `--out` folder and that something reads back, declared once.

Writers (pipelines), readers (`vigia evaluate`, `vigia rank`, the notebooks) and tests take the
names from here. `{as_of}` is the planning date (YYYY-MM-DD), `{office}` an office code,
`{table}` an input table. Files inside the dated list folder are declared relative to it, so the
list writer can fill a staging folder and rename it into place (atomic). `vigia evaluate` (demo
worlds only) declares its own files in evaluation/report.py: no pipeline module names them.
What a run reads is declared in settings/inputs.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from settings.errors import InputError


@dataclass(frozen=True)
class RunFile:
    """One output: its name (a template), format, the stage that writes it and what it holds."""

    name: str
    format: str
    stage: str
    holds: str
    folder: RunFile | None = None

    def path(self, run_dir: str | Path, **fields: str) -> Path:
        """Where it is in the run folder `run_dir`."""
        base = self.folder.path(run_dir, **fields) if self.folder else Path(run_dir)
        return base / self.name.format(**confined(fields))

    def within(self, folder: str | Path, **fields: str) -> Path:
        """Where it is inside `folder` (a staging copy of its own folder)."""
        return Path(folder) / self.name.format(**confined(fields))


SAFE_FIELD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def confined(fields: dict[str, str]) -> dict[str, str]:
    """The fields of a file name (office codes from config, dates, table names), refused when
    one could lead out of the run folder (a separator, "..", a leading dot or dash)."""
    for key, value in fields.items():
        if value and (not SAFE_FIELD.fullmatch(str(value)) or ".." in str(value)):
            raise InputError(f"{key} {value!r} cannot name an output file: use letters, digits, "
                             "'-', '_' or '.' (no path separators, no '..')")
    return fields


QUARANTINE = RunFile("quarantine/{table}.csv", "csv", "quality gate",
                     "rows refused by the contract, with the rule each broke")
VALIDATION_JSON = RunFile("validation_summary.json", "json", "quality gate",
                          "rows in/clean/quarantined and expectation results per table")
VALIDATION_MD = RunFile("validation_summary.md", "markdown", "quality gate",
                        "the validation summary for a terminal")
VALIDATION_HTML = RunFile("validation_summary.html", "html", "quality gate",
                          "the validation summary, readable offline")
DATA_DOCS = RunFile("data_docs", "folder", "quality gate", "Great Expectations Data Docs")
STEP_RESULTS = RunFile(".step_results", "folder", "every cached step",
                       "cached results of the flow's steps (cleaned tables, backtests, models) so "
                       "a rerun resumes; owner-only (0700), never shared")
SPLIT_PLAN = RunFile("split_plan.png", "png", "retrain: split plan",
                     "training and test label windows of every split")
BACKTEST = RunFile("backtest", "folder", "retrain: backtest", "the backtest's evidence")
BACKTEST_METRICS = RunFile("metrics.csv", "csv", "retrain: backtest",
                           "every metric of every model group on every test window", BACKTEST)
BACKTEST_TRAINING = RunFile("training.csv", "csv", "retrain: backtest",
                            "fit and calibration counts per group and split", BACKTEST)
BACKTEST_SCORES = RunFile("test_scores.parquet", "parquet", "retrain: backtest",
                          "every group's test scores per split", BACKTEST)
SCORES = RunFile("scores.csv", "csv", "rank: score",
                 "workplace_id, score, rank of every workplace at the planning date")
PLANNING_DATE = RunFile("planning_date.txt", "text", "rank: score",
                        "the planning date the scores and lists are for")
LIST_FOLDER = RunFile("lista_{as_of}", "folder", "rank: write lists",
                      "the planners' confidential list files (employer name and address)")
OFFICE_LIST_FOLDER = RunFile("lista_{as_of}_{office}", "folder", "rank: write lists",
                             "`vigia rank --office`: one office's list files")
LIST_STEM = "lista_priorizada"
LIST_CSV = RunFile(f"{LIST_STEM}.csv", "csv", "rank: write lists",
                   "the national list, one row per visit", LIST_FOLDER)
LIST_JSON = RunFile(f"{LIST_STEM}.json", "json", "rank: write lists",
                    "the national list with its context", LIST_FOLDER)
LIST_XLSX = RunFile(f"{LIST_STEM}.xlsx", "xlsx", "rank: write lists",
                    "the national list for Excel", LIST_FOLDER)
REPORT_HTML = RunFile("reporte.html", "html", "rank: write lists",
                      "the national report with maps", LIST_FOLDER)
OFFICE_XLSX = RunFile("lista_{office}.xlsx", "xlsx", "rank: write lists",
                      "one office's list, team visits as context", LIST_FOLDER)
OFFICE_HTML = RunFile("reporte_{office}.html", "html", "rank: write lists",
                      "one office's report", LIST_FOLDER)
ESTIMATES = RunFile("estimates.json", "json", "run: estimate findings",
                    "off-policy finding rates of the published lists, with intervals")
FAIRNESS_AUDIT = RunFile("fairness_audit.csv", "csv", "run: estimate findings",
                         "the list at capacity per office, size band, division, person type")
FAIRNESS_FIGURE = RunFile("fairness_audit.png", "png", "run: estimate findings",
                          "the fairness audit's ratios to each reference group")
LIST_LOG = RunFile("list_log.parquet", "parquet", "rank: record list",
                   "every published list's workplaces, to link later inspections to it")
RUN_REPORT = RunFile("run_report.md", "markdown", "run: report",
                     "data, validation, choice, gate and lists for data scientists")

CATALOG: tuple[RunFile, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, RunFile)
)

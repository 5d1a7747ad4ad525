"""What a run reads, declared once, beside the catalog of what it writes (settings/catalog.py).

Input tables: the files a source exports into the data folder, looked up by name and format
(CSV preferred, then Parquet) unless a mapping names the file. Reference data: tables shipped
with the project under data/reference/, the same for every source. A demo world's hidden folder
is declared by evaluation/ (evaluation/truth.py): no module below it may name it.

MLflow artifacts: every file a run logs to its MLflow run and that something reads back (the
next run, `vigia rank`, the notebooks, the tests). `{name}` fields are filled by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from settings.paths import PROJECT_ROOT


@dataclass(frozen=True)
class InputTable:
    """One input table: its name, whether a source must have it, what it holds, its formats."""

    name: str
    required: bool
    holds: str
    formats: tuple[str, ...] = ("csv", "parquet")

    @property
    def file_name(self) -> str:
        """Its file name in the preferred format: what messages name when no file was read."""
        return f"{self.name}.{self.formats[0]}"

    def paths(self, data_dir: str | Path) -> list[Path]:
        """Where it may be in `data_dir`, preferred format first (the first present is read)."""
        return [Path(data_dir) / f"{self.name}.{fmt}" for fmt in self.formats]


WORKPLACES = InputTable("workplaces", True,
                        "the registry: one row per establishment (RUC, CIIU, UBIGEO, size)")
INSPECTIONS = InputTable("inspections", True,
                         "inspection orders and what they found (may have no rows)")
COMPLAINTS = InputTable("complaints", True,
                        "complaints received, by channel and topic (may have no rows)")
REGISTRY_PERIODS = InputTable("registry_periods", False,
                              "history of the registry fields an inspection can change")

INPUT_TABLES: dict[str, InputTable] = {
    table.name: table for table in (WORKPLACES, INSPECTIONS, COMPLAINTS, REGISTRY_PERIODS)
}

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"


@dataclass(frozen=True)
class ReferenceFile:
    """One reference table shipped with the project under `REFERENCE_DIR`."""

    name: str
    holds: str

    @property
    def path(self) -> Path:
        """Where it is on disk."""
        return REFERENCE_DIR / self.name


DISTRICTS = ReferenceFile("ubigeo_distrito.csv",
                          "INEI districts: codes, names, population, area, altitude, poverty")
CIIU_TITLES = ReferenceFile("ciiu_rev4_es.csv",
                            "Spanish titles of CIIU Rev.4 divisions and classes")

REFERENCE_FILES: tuple[ReferenceFile, ...] = (DISTRICTS, CIIU_TITLES)


@dataclass(frozen=True)
class Artifact:
    """One MLflow artifact of a planning run: its path in the run (a template) and what it holds."""

    name: str
    holds: str

    def path(self, **fields: str) -> str:
        """Its artifact path, fields filled."""
        return self.name.format(**fields)


INPUT_HASHES = Artifact("inputs_sha256.json", "sha256 of every input file of the run")
METRICS = Artifact("metrics.csv", "a child run's metric table (one model group, one window)")
FEATURE_CATALOG_DOC = Artifact("feature_catalog.md", "the feature catalog as Markdown")
SELECTION = Artifact("selection.txt", "why the model group was chosen")
ADAPTATION_NOTES = Artifact("adapted_to_the_data.md",
                            "what the run shrank, dropped or assumed to fit its data")
DATA_VALIDATION_SUMMARY = Artifact("data_validation/summary.json",
                                   "rows in, clean and quarantined per table")
DATA_DOCS = Artifact("data_validation/data_docs", "Great Expectations Data Docs (a folder)")
VALIDATION_FOR_PLANNERS = Artifact("validation_for_planners.json",
                                   "the chosen model's validation, read by the list writer")
MODEL = Artifact("model", "the registered scikit-learn pipeline (skops)")
FEATURE_PROFILE = Artifact("feature_profile.json", "drift profile of the training data")
SCORING_PROFILE = Artifact("scoring_profile.json",
                           "drift profile of every workplace at the newest training as-of date")
SCORE_PROFILE = Artifact("score_profile.json",
                         "drift profile of the model's scores at the newest training as-of date")
DRIFT_FEATURES = Artifact("drift/features.csv", "the challenger's data against the champion's")
DRIFT_TABLE = Artifact("drift/{name}.csv", "a listing's drift table (features or scores)")
CALIBRATION_FIGURE = Artifact("calibration_newest_window.png",
                              "the chosen model's calibration on the newest test window")
EXPLANATION_FIGURE = Artifact("explanations/{name}", "a SHAP figure of the list")
IMPORTANCE_FIGURE = Artifact("importancia_global.png", "global SHAP importance (Spanish)")
LISTS_FOLDER = Artifact("lists", "the national list CSV")
LIST_LOG_FOLDER = Artifact("list_log", "the list log")

ARTIFACTS: tuple[Artifact, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Artifact)
)

"""What a run reads, declared once, beside the catalog of what it writes (settings/catalog.py).

MLflow artifacts: every file a run logs to its MLflow run and that something reads back (the
next run, `vigia rank`, the notebooks, the tests). `{name}` fields are filled by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass


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
                           "drift profile of the scoring frame at the planning date")
SCORE_PROFILE = Artifact("score_profile.json", "drift profile of the scores at the planning date")
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

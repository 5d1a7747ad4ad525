"""All MLflow code: a local store, runs per pipeline run / model / split, registry and aliases.

The store is local and needs no network: the tracking URI and artifact location in config
(`mlflow:`) resolve against the project root, or against an explicit `root` (tests pass a
tmp dir). One experiment per project. A pipeline run is a parent run; each model group and
test split is a nested child run. The chosen model is logged with the sklearn flavour
(signature, input example, explicit pip requirements, explicit skops trusted types) and
registered; aliases `champion` and `challenger` mark the versions in service and in waiting.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from models.metrics import NEW_TARGETS_SUFFIX
from models.monitoring.drift import DriftProfile
from models.selection.promotion import PromotionDecision
from reporting.records import RunRecords
from settings import inputs
from settings.paths import PROJECT_ROOT
from settings.schema import MlflowConfig, VigiaConfig

CHAMPION = "champion"
CHALLENGER = "challenger"

# Types skops must load for our pipelines beyond the ones it trusts by default. This is a
# security boundary: add a type only when a model family needs it, never by discovery.
# Found with skops.io.get_untrusted_types on each calibrated family (sigmoid calibration).
SKOPS_TRUSTED_TYPES = [
    "numpy.dtype",  # dtype parameters of encoders and imputers
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
]


@dataclass(frozen=True)
class ChampionInfo:
    """Which registered version is champion, and its run and tags."""

    name: str
    version: str
    run_id: str
    tags: dict[str, str]


def resolve_store(mlflow_config: MlflowConfig, root: Path | None = None) -> tuple[str, str]:
    """Absolute tracking URI and artifact location URI; relative paths resolve against `root`.

    Only config names the store, never MLFLOW_TRACKING_URI: `mlflow.set_tracking_uri` writes that
    variable itself, so it would carry one run's store into the next run and its subprocesses.
    """
    base = Path(root) if root is not None else PROJECT_ROOT
    uri = str(mlflow_config.tracking_uri)
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        database = (base / uri[len(prefix):]).resolve()
        database.parent.mkdir(parents=True, exist_ok=True)
        uri = prefix + str(database)
    artifacts = Path(mlflow_config.artifact_location)
    if not artifacts.is_absolute():
        artifacts = base / artifacts
    return uri, artifacts.resolve().as_uri()


def setup_tracking(mlflow_config: MlflowConfig, root: Path | None = None) -> str:
    """Point MLflow at the local store and return the project's experiment id (created once)."""
    uri, artifact_location = resolve_store(mlflow_config, root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    name = mlflow_config.experiment
    experiment = mlflow.get_experiment_by_name(name)
    experiment_id = (
        experiment.experiment_id if experiment is not None
        else mlflow.create_experiment(name, artifact_location=artifact_location)
    )
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def git_commit(root: Path | None = None) -> str:
    """The checked-out commit of the project, or "unknown" outside a git work tree."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root or PROJECT_ROOT, capture_output=True,
            text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


def input_files(data_dir: Path) -> list[Path]:
    """The input tables of a run (for their sha256 in MLflow and the run fingerprint)."""
    return sorted(p for p in Path(data_dir).iterdir() if p.is_file())


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks so large exports do not fill memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def pipeline_run(mlflow_config: MlflowConfig, run_name: str,
                 input_files: Iterable[Path] = (), root: Path | None = None,
                 params: Mapping[str, Any] | None = None) -> Iterator[mlflow.ActiveRun]:
    """Parent run of one pipeline run, tagged with the git commit and every input's sha256."""
    setup_tracking(mlflow_config, root)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.set_tag("git_commit", git_commit(root))
        hashes = {Path(p).name: file_sha256(Path(p)) for p in input_files}
        if hashes:
            mlflow.log_dict(hashes, inputs.INPUT_HASHES.name)
            for name, digest in hashes.items():
                mlflow.set_tag(f"input_sha256.{name}", digest)
        if params:
            mlflow.log_params(_flat(params))
        yield run


@contextmanager
def child_run(model_group: str, split: str,
              params: Mapping[str, Any] | None = None) -> Iterator[mlflow.ActiveRun]:
    """Nested run for one model group on one test split, under the active pipeline run."""
    with mlflow.start_run(run_name=f"{model_group} @ {split}", nested=True) as run:
        mlflow.set_tags({"model_group": model_group, "split": split})
        if params:
            mlflow.log_params(_flat(params))
        yield run


def log_metric_table(table: pd.DataFrame) -> None:
    """Log a `models.metrics.score_table` frame: value and interval per metric, plus the table."""
    metrics: dict[str, float] = {}
    for row in table.itertuples(index=False):
        for suffix, value in (("", row.value), ("_ci_low", row.ci_low),
                              ("_ci_high", row.ci_high)):
            if pd.notna(value):
                metrics[f"{row.metric}{suffix}"] = float(value)
        if row.metric.endswith(NEW_TARGETS_SUFFIX):  # how thin the new targets' evidence is
            metrics[f"{row.metric}_n_labelled_in_top_k"] = float(row.n_labelled_in_top_k)
    mlflow.log_metrics(metrics)
    mlflow.log_text(table.to_csv(index=False), inputs.METRICS.name)


def log_figure(figure: Any, artifact_file: str) -> None:
    """A matplotlib figure as an artifact (e.g. the calibration plot)."""
    mlflow.log_figure(figure, artifact_file)


def log_json(data: Mapping[str, Any], artifact_file: str) -> None:
    """A JSON artifact (feature catalog, validation summary, selection explanation)."""
    mlflow.log_text(json.dumps(dict(data), indent=2, default=str, ensure_ascii=False),
                    artifact_file)


def load_run_json(run_id: str, artifact_file: str) -> dict[str, Any]:
    """A JSON artifact of a run (written with `log_json`), e.g. what the champion's run measured."""
    return json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/{artifact_file}"))


def _flat(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config flattened to dotted MLflow params (values as strings)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def pip_requirements() -> list[str]:
    """Pinned requirements of a served model, given explicitly (inference takes 8-14 s a call)."""
    return [f"{package}=={version(package)}"
            for package in ("scikit-learn", "pandas", "numpy", "scipy")]


def log_and_register_model(model: Any, features: pd.DataFrame,
                           mlflow_config: MlflowConfig,
                           tags: Mapping[str, str] | None = None) -> ModelVersion:
    """Log the fitted model in the active run and register it as a new version.

    The signature (column names and types only) maps the raw feature frame to the
    positive-class probability; the served predict function is `predict_proba`. No input
    example is stored: real rows would put workplaces' complaint counts in the model store.
    """
    sample = features.head(5)
    signature = infer_signature(sample, model.predict_proba(sample))
    info = mlflow.sklearn.log_model(
        model, name=inputs.MODEL.name, signature=signature,
        pip_requirements=pip_requirements(), pyfunc_predict_fn="predict_proba",
        serialization_format="skops", skops_trusted_types=SKOPS_TRUSTED_TYPES,
        registered_model_name=mlflow_config.registered_model,
    )
    registered = MlflowClient().get_model_version(
        mlflow_config.registered_model, str(info.registered_model_version)
    )
    set_version_tags(registered, tags or {})
    return registered


def alias_version(mlflow_config: MlflowConfig, alias: str) -> ModelVersion | None:
    """The version holding `alias`, or None when no version has it yet."""
    try:
        return MlflowClient().get_model_version_by_alias(mlflow_config.registered_model, alias)
    except MlflowException:
        return None


def set_version_tags(model_version: ModelVersion, tags: Mapping[str, str]) -> None:
    """Tags on a registered version (the gate's figures, training cut-off, calibration)."""
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_version.name, model_version.version, key, str(value))


def load_training_profile(run_id: str,
                          artifact: str = inputs.FEATURE_PROFILE.name) -> DriftProfile | None:
    """A training profile (features, or scores) logged with a version's run; None without one."""
    try:
        return DriftProfile(load_run_json(run_id, artifact))
    except (MlflowException, OSError):
        return None


def apply_promotion(mlflow_config: MlflowConfig, model_version: ModelVersion,
                    decision: PromotionDecision) -> None:
    """Move `champion` to the new version when the gate says so; otherwise mark it challenger.

    The decision's reason is stored on the version, so the registry says why.
    """
    client = MlflowClient()
    name, number = model_version.name, model_version.version
    client.set_model_version_tag(name, number, "promotion_reason", decision.reason)
    if decision.promote:
        client.set_registered_model_alias(name, CHAMPION, number)
        challenger = alias_version(mlflow_config, CHALLENGER)
        if challenger is not None and challenger.version == number:
            client.delete_registered_model_alias(name, CHALLENGER)
    else:
        client.set_registered_model_alias(name, CHALLENGER, number)


def load_champion(config: VigiaConfig, root: Path | None = None) -> tuple[Any, ChampionInfo]:
    """The champion model (native scikit-learn object) and its version information.

    Raises LookupError when no version is champion yet.
    """
    mlflow_config = config.mlflow
    setup_tracking(mlflow_config, root)
    champion = alias_version(mlflow_config, CHAMPION)
    if champion is None:
        raise LookupError(f"no {CHAMPION} version of {mlflow_config.registered_model} yet")
    # The trusted types were stored with the model at logging time (SKOPS_TRUSTED_TYPES).
    model = mlflow.sklearn.load_model(f"models:/{champion.name}@{CHAMPION}")
    info = ChampionInfo(champion.name, str(champion.version), str(champion.run_id),
                        dict(champion.tags))
    return model, info


# --- Stage-level records of a planning run. Each Prefect task resumes the parent run by id, so
# --- no task depends on another task's active-run state.

@dataclass
class Champion:
    """The registered champion version as the gate and the lists need it."""

    model: Any
    info: ChampionInfo
    profile: DriftProfile | None
    scoring_profile: DriftProfile | None = None
    score_profile: DriftProfile | None = None

    @property
    def calibrated(self) -> bool:
        """Whether its scores are calibrated probabilities (untagged versions: assume not)."""
        return self.info.tags.get("calibrated") == "True"


def champion_validation(champion: Champion) -> dict[str, Any]:
    """How the champion's model group was validated (its run's `validation_for_planners`)."""
    return load_run_json(champion.info.run_id, inputs.VALIDATION_FOR_PLANNERS.name)


def champion_or_none(config: VigiaConfig) -> Champion | None:
    """The champion with its training profile, or None before the first model is registered."""
    try:
        model, info = load_champion(config)
    except LookupError:
        return None
    return Champion(model, info, *(load_training_profile(info.run_id, artifact) for artifact in
                                   (inputs.FEATURE_PROFILE.name, inputs.SCORING_PROFILE.name,
                                    inputs.SCORE_PROFILE.name)))


@contextmanager
def resumed_run(mlflow_config: MlflowConfig, run_id: str) -> Iterator[mlflow.ActiveRun]:
    """The pipeline's parent run, active again for one stage."""
    setup_tracking(mlflow_config)
    with mlflow.start_run(run_id=run_id) as run:
        yield run


def start_planning_run(mlflow_config: MlflowConfig, run_name: str, input_files: list[Path],
                       params: Mapping[str, Any], tags: Mapping[str, str]) -> str:
    """Open the parent run of a planning run (commit, input hashes, config); return its id."""
    with pipeline_run(mlflow_config, run_name, input_files=input_files, params=params) as run:
        mlflow.set_tags(dict(tags))
        return run.info.run_id


def _log_records(records: RunRecords) -> None:
    """Log a stage's records on the active run."""
    if records.params:
        mlflow.log_params(dict(records.params))
    for path, artifact_dir in records.files:
        mlflow.log_artifact(str(path), artifact_dir)
    for artifact_dir, folder in records.folders.items():
        mlflow.log_artifacts(str(folder), artifact_dir)
    for name, text in records.texts.items():
        mlflow.log_text(text, name)
    for name, data in records.jsons.items():
        log_json(data, name)
    for name, figure in records.figures.items():
        mlflow.log_figure(figure, name)
    if records.metrics:
        mlflow.log_metrics({k: float(v) for k, v in records.metrics.items()})


def log_backtest(mlflow_config: MlflowConfig, run_id: str, records: RunRecords,
                 metrics: pd.DataFrame) -> None:
    """Validation, split plan, selection, what the run adapted (notes, dropped columns), and one
    child run per model group and test window."""
    with resumed_run(mlflow_config, run_id):
        _log_records(records)
        for (group, split), table in metrics.dropna(subset=["k"]).groupby(["model_group", "split"]):
            with child_run(group, split):
                log_metric_table(table)


def register_planning_model(mlflow_config: MlflowConfig, run_id: str, model: Any,
                            features: pd.DataFrame, profile: Mapping[str, Any],
                            tags: Mapping[str, str],
                            scoring_profiles: Mapping[str, Mapping[str, Any]] | None = None,
                            ) -> ModelVersion:
    """Log and register the planning model with its tags, its training-data profile and the
    profiles of its planning date's scoring frame and scores (artifact name -> profile)."""
    with resumed_run(mlflow_config, run_id):
        log_json(profile, inputs.FEATURE_PROFILE.name)
        for artifact, scoring_profile in (scoring_profiles or {}).items():
            log_json(scoring_profile, artifact)
        return log_and_register_model(model, features, mlflow_config, tags=tags)


def record_promotion(mlflow_config: MlflowConfig, run_id: str, model_version: ModelVersion,
                     decision: PromotionDecision, drift_csv: str | None) -> None:
    """Apply the gate's decision to the aliases, and keep it and the drift table on the run."""
    apply_promotion(mlflow_config, model_version, decision)
    with resumed_run(mlflow_config, run_id):
        mlflow.set_tag("promotion", decision.reason)
        if drift_csv is not None:
            mlflow.log_text(drift_csv, inputs.DRIFT_FEATURES.name)


def log_listing(mlflow_config: MlflowConfig, run_id: str, records: RunRecords) -> None:
    """The listing stage: figures, report and list files, headline metrics."""
    with resumed_run(mlflow_config, run_id):
        _log_records(records)


def log_drift(mlflow_config: MlflowConfig, run_id: str, tables: Mapping[str, pd.DataFrame],
              tags: Mapping[str, str]) -> None:
    """Drift tables (as `drift/<name>.csv`) and tags (e.g. why the run retrained) on a run."""
    with resumed_run(mlflow_config, run_id):
        for name, table in tables.items():
            mlflow.log_text(table.to_csv(index=False), inputs.DRIFT_TABLE.path(name=name))
        mlflow.set_tags(dict(tags))

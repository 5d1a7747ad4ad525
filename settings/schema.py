"""The types of config/default.yaml: one frozen model per section, its values only in the YAML.

No field has a default here: the shipped YAML holds every value, a user file overrides some of
them (deep merge), and this schema refuses unknown keys and wrong types, so a misspelt key stops
the run instead of being ignored. Each stage function receives only its own section.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Section(BaseModel):
    """A configuration section: frozen, no unknown keys, no silent type conversion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataConfig(Section):
    mapping: str | None


class DemoWorldConfig(Section):
    workplaces: int
    seed: int
    start: str
    end: str
    defect_share: float


class QualityConfig(Section):
    max_quarantine_share: float
    max_wrong_type_share: float


class LabelsConfig(Section):
    kind: str
    min_indicators: int
    label_timespan_months: int


class SplitsFloor(Section):
    test_splits: int
    min_training_as_of_dates: int
    burn_in_months: int


class SplitsConfig(Section):
    update_frequency_months: int
    test_splits: int
    max_training_as_of_dates: int
    burn_in_months: int
    outcome_lag_months: int
    floor: SplitsFloor


class FeaturesConfig(Section):
    area_prior_strength: float


class CalibrationConfig(Section):
    method: Literal["sigmoid", "isotonic"]
    as_of_dates: int
    min_positives: int


class BaselinesConfig(Section):
    complaints_column: str
    infractions_column: str
    sector_column: str
    region_column: str
    prior_smoothing: float


class MetricsConfig(Section):
    top_percents: list[float]
    bootstrap_samples: int
    confidence: float
    calibration_bins: int


class ModelConfig(Section):
    seed: int
    families: dict[str, dict[str, list[Any]]]
    calibration: CalibrationConfig
    baselines: BaselinesConfig
    metrics: MetricsConfig
    recency_half_life_months: float | None
    regular_negative_weight: Annotated[float, Field(gt=0.0, le=1.0)]
    fit_workers: Annotated[int, Field(ge=1)]


class SelectionConfig(Section):
    rule: str
    min_test_windows: int
    include_baselines: bool
    bootstrap_samples: int
    noise_confidence: float
    seed: int
    simplicity_order: list[str]
    worst_case_tolerance: float
    worst_case_confidence: float


class PromotionConfig(Section):
    metric: str
    required_checks: list[str]
    bootstrap_samples: int
    confidence: float
    min_gate_positives: int


class OffpolicyConfig(Section):
    min_propensity: float
    method: Literal["horvitz_thompson", "self_normalised", "doubly_robust"]
    confidence: float
    bootstrap_resamples: int
    max_interval_width: float
    max_pooled_periods: int
    weighted_training: bool
    weighted_metrics: bool
    list_period_months: int
    propensity_window_months: int
    propensity_as_of_dates: int
    propensity_step_months: int
    propensity_max_workplaces: Annotated[int, Field(gt=0)] | None
    calibration_bins: int
    propensity_model: dict[str, dict[str, list[Any]]]


class FairnessConfig(Section):
    reference_groups: dict[str, str]
    ratio_low: float
    ratio_high: float
    min_labelled: int
    min_positives: int
    min_workplaces: int
    gate_metrics: list[str]
    gate_tolerance: float


class DriftConfig(Section):
    bins: int
    max_psi: float
    max_missing_increase: float
    max_new_category_share: float
    max_score_psi: float
    psi_report_only: list[str]
    retrain_on_drift: bool


class Office(Section):
    name_es: str
    capacity: int


# An office code names output files (lista_<code>.xlsx): never a path.
OfficeCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class SpecializedTeam(Office):
    code: OfficeCode


class ListsConfig(Section):
    """The `lists:` section with the offices file (config/offices.yaml) merged in at load."""

    offices_file: str
    exploration_share: float
    exploration_uniform_weight: float
    exclude_inspected_months: int
    group_same_ruc_district: bool
    yield_confidence: float
    yield_draws: int
    yield_top_share: float
    yield_factor_by_team: bool
    yield_map_c: float
    yield_origins: list[str] | None
    follow_up_cap: float | None
    specialized_team: SpecializedTeam
    offices: dict[OfficeCode, Office]

    @property
    def total_capacity(self) -> int:
        """Inspections in one planning period: the specialised team plus every office."""
        return self.specialized_team.capacity + sum(o.capacity for o in self.offices.values())


class ReasonsConfig(Section):
    top: int
    complaints: Literal["coarse", "none"]
    complaint_min_workers: int
    complaint_bands_es: dict[int, str]
    complaint_phrases_es: dict[str, str]
    fallback_es: str


class ExplainConfig(Section):
    background_rows: int
    plot_top_features: int


class MlflowConfig(Section):
    tracking_uri: str
    artifact_location: str
    experiment: str
    registered_model: str
    log_lists: bool


class ScheduleConfig(Section):
    retraining_cron: str
    ranking_cron: str


class SplitRunnerConfig(Section):
    kind: str
    max_workers: int
    address: str | None
    cluster_kwargs: dict[str, Any]


class OrchestrationConfig(Section):
    io_retries: int
    retry_delay_seconds: float
    cache_days: float
    prefect_api_url: str | None
    split_runner: SplitRunnerConfig
    timeout_minutes: dict[str, float]


class TrainingSections(Section):
    """The sections a model is trained and measured with (a backtest window, the planning
    model, the propensity model), so those functions cannot reach the rest of the config."""

    labels: LabelsConfig
    features: FeaturesConfig
    model: ModelConfig
    offpolicy: OffpolicyConfig


class VigiaConfig(Section):
    """The whole configuration: one attribute per stage's section."""

    data: DataConfig
    demo_world: DemoWorldConfig
    quality: QualityConfig
    labels: LabelsConfig
    splits: SplitsConfig
    features: FeaturesConfig
    model: ModelConfig
    selection: SelectionConfig
    promotion: PromotionConfig
    offpolicy: OffpolicyConfig
    fairness: FairnessConfig
    drift: DriftConfig
    lists: ListsConfig
    reasons: ReasonsConfig
    explain: ExplainConfig
    mlflow: MlflowConfig
    schedule: ScheduleConfig
    orchestration: OrchestrationConfig

    def training(self) -> TrainingSections:
        """The sections model training reads (see `TrainingSections`)."""
        return TrainingSections(labels=self.labels, features=self.features, model=self.model,
                                offpolicy=self.offpolicy)

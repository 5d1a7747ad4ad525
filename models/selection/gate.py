"""The promotion gate of a run: which rows judge the models, data quality, the decision.

Gate rows (both models score every workplace at one as-of date; labels as in the backtest):

1. Preferred, "unseen outcomes": the label window from the LATER of the two models' label
   cut-offs (the end of the newest label window each trained on) up to the planning date, with
   outcomes known before the planning date. Labels come from inspections ORDERED in that window,
   so neither model trained on these outcomes. These windows are short (the outcome lag) and
   hold the quick closes, so they are used only with at least `promotion.min_gate_positives`
   positives.
2. Otherwise the newest backtest test window. The retrained challenger (and often the champion)
   trained on those outcomes, so the comparison is in-sample for both and the report says so.

`data_quality` fails when a table's quarantined share exceeds `quality.max_quarantine_share` or
when the challenger's training data drifted from the champion's beyond `drift:` in config
(population stability index, missing share, new categories; see `models.monitoring.drift`).
`fairness`
fails when the challenger's list at capacity is more disparate across offices, size bands,
sectors or person types than the champion's on the gate rows (config `fairness:`,
models/monitoring/fairness.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.labels import build_labels
from features.training_set import PlanningData, build_scoring_set
from models.metrics import rank
from models.monitoring.drift import drift_failures, quarantine_failures
from models.monitoring.fairness import audit_groups, audit_table, fairness_check
from models.offpolicy.estimators import top_k_mask
from models.selection.promotion import (
    PairedComparison,
    PromotionDecision,
    decide_promotion,
    metric_and_cut,
    paired_comparison,
)
from models.targeting.lists import office_of
from models.training.backtest import BacktestResult
from settings.schema import FairnessConfig, VigiaConfig

UNSEEN = "unseen outcomes"
NEWEST_TEST_WINDOW = "newest test window (in-sample for the retrained challenger)"


@dataclass
class GateRows:
    """Features of every workplace at `as_of`, their labels, and why these rows were chosen."""

    as_of: pd.Timestamp
    features: pd.DataFrame  # index workplace_id
    labels: pd.Series  # index workplace_id, NaN = not inspected in the window
    kind: str
    description: str
    # audit attributes per workplace (models.monitoring.fairness.audit_groups); None: fairness
    # unmeasured
    groups: pd.DataFrame | None = None


@dataclass
class GateOutcome:
    """The decision with every figure behind it, for tags, the report and the flow."""

    decision: PromotionDecision
    rows: GateRows
    comparison: PairedComparison | None
    checks: dict[str, bool]
    check_failures: list[str] = field(default_factory=list)

    def tags(self) -> dict[str, str]:
        tags = {
            "gate.rows": self.rows.kind, "gate.rows_as_of": str(self.rows.as_of.date()),
            "gate.decision": "promote" if self.decision.promote else "refuse",
            **{f"gate.check.{name}": str(ok) for name, ok in self.checks.items()},
        }
        if self.check_failures:
            tags["gate.check_failures"] = "; ".join(self.check_failures)[:4900]
        if self.comparison is not None:
            tags.update(self.comparison.as_tags())
        return tags

    def report(self) -> str:
        lines = [f"Gate rows: {self.rows.description}.",
                 "Checks: " + ", ".join(f"{k} {'passed' if v else 'FAILED'}"
                                        for k, v in self.checks.items())]
        lines += [f"- {failure}" for failure in self.check_failures]
        lines.append(f"Decision: {self.decision.reason}")
        return "\n\n".join(lines)


def months_between(start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Whole calendar months from `start` to `end` (label windows are whole months)."""
    return (end.year - start.year) * 12 + end.month - start.month


def gate_rows(data: PlanningData, cutoffs: list[pd.Timestamp], backtest: BacktestResult,
              config: VigiaConfig) -> GateRows:
    """The rows both models are judged on (module docstring: unseen outcomes first)."""
    tables, districts, planning_date = data.tables, data.districts, data.planning_date
    labels_cfg = config.labels
    prior = config.features.area_prior_strength
    start = max(cutoffs)
    months = months_between(start, planning_date)
    if months >= 1:
        labels = build_labels(tables, start, months, kind=labels_cfg.kind,
                              known_before=planning_date,
                              min_indicators=labels_cfg.min_indicators)
        positives = int((labels == 1.0).sum())
        if positives >= config.promotion.min_gate_positives:
            return _scored_rows(tables, districts, start, labels, prior, UNSEEN,
                                f"{UNSEEN}: inspections ordered {start.date()} .. "
                                f"{planning_date.date()} (after both models' label cut-offs), "
                                f"{int(labels.notna().sum())} labelled, {positives} positive")
    newest = max(backtest.test_labels["split"])
    test = backtest.test_labels[backtest.test_labels["split"] == newest]
    labels = test.set_index("workplace_id")["label"]
    return _scored_rows(tables, districts, pd.Timestamp(newest), labels, prior,
                        NEWEST_TEST_WINDOW,
                        f"{NEWEST_TEST_WINDOW}: as-of {newest}, {int(labels.notna().sum())} "
                        f"labelled, {int((labels == 1.0).sum())} positive (too few unseen "
                        f"outcomes after {start.date()})")


def _scored_rows(tables: dict[str, pd.DataFrame], districts: pd.DataFrame, as_of: pd.Timestamp,
                 labels: pd.Series, prior: float, kind: str, description: str) -> GateRows:
    X, meta = build_scoring_set(tables, districts, as_of, prior)
    features = X.set_index(pd.Index(meta["workplace_id"].astype(str), name="workplace_id"))
    workplaces = tables["workplaces"]
    groups = audit_groups(workplaces, office_of(workplaces.set_index("workplace_id")["ubigeo"]))
    return GateRows(as_of, features, labels.reindex(features.index), kind, description,
                    groups.reindex(features.index))


def data_quality(accounting: pd.DataFrame, drift: pd.DataFrame | None,
                 config: VigiaConfig) -> tuple[bool, list[str]]:
    """The `data_quality` check: quarantine shares and drift against the champion's data."""
    failures = quarantine_failures(accounting, config.quality.max_quarantine_share)
    if drift is not None:
        failures += drift_failures(drift, config.drift)
    return not failures, failures


def fairness(challenger_scores: pd.Series, champion_scores: pd.Series | None, rows: GateRows,
             settings: FairnessConfig, capacity: int) -> tuple[bool, list[str]]:
    """The `fairness` check: both models' lists at capacity audited on the gate rows
    (models/monitoring/fairness.py); the challenger may not be more disparate beyond the
    tolerance."""
    def audit(scores: pd.Series) -> pd.DataFrame:
        return audit_table(top_k_mask(scores, capacity), rows.labels, rows.groups, settings)

    return fairness_check(audit(challenger_scores),
                          None if champion_scores is None else audit(champion_scores), settings)


def score(model: Any, features: pd.DataFrame) -> pd.Series:
    """Positive-class probability per workplace (index of `features`)."""
    return pd.Series(model.predict_proba(features)[:, 1], index=features.index)


def run_gate(challenger: Any, champion: Any | None, rows: GateRows, checks: dict[str, bool],
             check_failures: list[str], config: VigiaConfig, capacity: int) -> GateOutcome:
    """Score both models on the gate rows, compare them (paired bootstrap) and decide."""
    promotion = config.promotion
    metric_name = promotion.metric
    challenger_scores = score(challenger, rows.features)
    champion_scores = None if champion is None else score(champion, rows.features)
    if rows.groups is not None:
        passed, failures = fairness(challenger_scores, champion_scores, rows, config.fairness,
                                    capacity)
        checks, check_failures = {**checks, "fairness": passed}, [*check_failures, *failures]
    comparison, value = None, None
    if champion_scores is not None:
        comparison = paired_comparison(
            rows.labels, challenger_scores, champion_scores, metric_name,
            capacity, n_samples=promotion.bootstrap_samples,
            seed=config.model.seed, confidence=promotion.confidence,
        )
    else:
        metric, k = metric_and_cut(metric_name, len(challenger_scores), capacity)
        value = metric.function(rank(rows.labels, challenger_scores), k, None)
    decision = decide_promotion(comparison, checks, promotion.required_checks, value)
    return GateOutcome(decision, rows, comparison, checks, check_failures)


@dataclass(frozen=True)
class Contender:
    """A model before the gate, with the end of the newest label window it trained on."""

    model: Any
    label_cutoff: pd.Timestamp

    @classmethod
    def registered(cls, model: Any, tags: dict[str, str]) -> Contender:
        """A registered version, its cut-off from its tags; versions registered before it was
        tagged count as having trained on everything before their planning date (the cautious
        reading)."""
        return cls(model, pd.Timestamp(tags.get("label_cutoff") or tags["planning_date"]))


def promotion_gate(data: PlanningData, accounting: pd.DataFrame, backtest: BacktestResult,
                   config: VigiaConfig, *, challenger: Contender, champion: Contender | None,
                   drift: pd.DataFrame | None) -> GateOutcome:
    """Choose the gate rows, compute `data_quality`, compare the models and decide."""
    contenders = [challenger] if champion is None else [challenger, champion]
    rows = gate_rows(data, [c.label_cutoff for c in contenders], backtest, config)
    passed, failures = data_quality(accounting, drift, config)
    capacity = config.lists.total_capacity
    return run_gate(challenger.model, None if champion is None else champion.model, rows,
                    {"data_quality": passed}, failures, config, capacity)

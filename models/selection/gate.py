"""The promotion gate of a run: the out-of-sample rows that judge both models, the checks, the
decision.

Gate evidence, always out of sample for both models (neither trained on the outcomes):

1. "unseen outcomes": both registered models score every workplace at the LATER of their label
   cut-offs (the end of the newest label window each trained on); the labels are inspections
   ORDERED from there up to the planning date whose outcomes are known before it. Used when they
   hold at least `promotion.min_gate_positives` positives (these windows are short: the outcome
   lag).
2. Otherwise "recipes on the newest test window": the challenger's recipe (model group) and the
   champion's, each as the backtest fitted it for its newest test window with labels known
   before that window, are compared on that window's outcomes. The retrained models themselves
   trained on those outcomes, so they are never judged there.
3. Otherwise (too few positives there too, or the champion's recipe is not in this backtest's
   grid): not enough new evidence, and the champion stays.

Checks, each able to fail on realistic input (a check that cannot be measured is not reported as
passed): `drift` fails when the challenger's training data drifted from the champion's beyond
`drift:` (population stability index, missing share, new categories; see
`models.monitoring.drift`), or when the champion has no training profile to compare with;
`fairness` fails when the challenger's list at capacity is more disparate across offices, size
bands, sectors or person types than the champion's on the gate rows (config `fairness:`,
models/monitoring/fairness.py). Without a champion both are "not applicable" (None), which only
the very first model may pass with. Quarantine shares are not a gate check: the quality gate
already stops a run whose quarantine exceeds `quality.max_quarantine_share`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from features.labels import build_labels
from features.training_set import PlanningData, build_scoring_set
from models.metrics import rank
from models.monitoring.drift import drift_failures
from models.monitoring.fairness import audit_groups, audit_table, fairness_check
from models.offpolicy.estimators import top_k_mask
from models.selection.promotion import (
    PairedComparison,
    PromotionDecision,
    decide_promotion,
    metric_and_cut,
    not_enough_evidence,
    paired_comparison,
)
from models.targeting.lists import office_of
from models.training.backtest import BacktestResult
from models.training.planning import Contender, score
from settings.schema import FairnessConfig, VigiaConfig

UNSEEN = "unseen outcomes"
RECIPES = "recipes on the newest test window"
NO_EVIDENCE = "not enough new evidence"
NOT_APPLICABLE = "not applicable"
# What each check compares, said wherever its verdict is printed: neither judges the delivered
# lists in absolute terms (their audit is models/offpolicy/estimates.py `list_audit`).
CHECK_MEANING = {
    "drift": "challenger's training data no more drifted from the champion's than config drift: "
             "allows",
    "fairness": "challenger's list at capacity no more disparate than the champion's on the gate "
                "rows",
}


@dataclass(frozen=True)
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

    @property
    def positives(self) -> int:
        return int((self.labels == 1.0).sum())


@dataclass(frozen=True)
class GateScores:
    """Both models' out-of-sample scores on the gate rows (index workplace_id); a missing series
    means that model could not be scored there."""

    challenger: pd.Series | None
    champion: pd.Series | None


@dataclass(frozen=True)
class GateOutcome:
    """The decision with every figure behind it, for tags, the report and the flow."""

    decision: PromotionDecision
    rows: GateRows
    comparison: PairedComparison | None
    checks: dict[str, bool | None]  # None: not applicable (no champion to compare with)
    check_failures: list[str] = field(default_factory=list)

    def tags(self) -> dict[str, str]:
        tags = {
            "gate.rows": self.rows.kind, "gate.rows_as_of": str(self.rows.as_of.date()),
            "gate.decision": "promote" if self.decision.promote else "refuse",
            **{f"gate.check.{name}": check_word(ok, "True", "False")
               for name, ok in self.checks.items()},
        }
        if self.check_failures:
            tags["gate.check_failures"] = "; ".join(self.check_failures)[:4900]
        if self.comparison is not None:
            tags.update(self.comparison.as_tags())
        return tags

    def report(self) -> str:
        lines = [f"Gate rows: {self.rows.description}.",
                 "Checks: " + "; ".join(check_sentence(name, ok)
                                        for name, ok in self.checks.items())]
        lines += [f"- {failure}" for failure in self.check_failures]
        lines.append(f"Decision: {self.decision.reason}")
        return "\n\n".join(lines)


def check_word(ok: bool | None, passed: str, failed: str) -> str:
    """How a check's result reads: passed, failed or not applicable."""
    return NOT_APPLICABLE if ok is None else passed if ok else failed


def check_sentence(name: str, ok: bool | None) -> str:
    """A check's verdict with what it compares: "fairness (challenger's list ...): passed"."""
    meaning = CHECK_MEANING.get(name)
    return (f"{name} ({meaning}): " if meaning else f"{name}: ") + check_word(ok, "passed",
                                                                             "FAILED")




def months_between(start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Whole calendar months from `start` to `end` (label windows are whole months)."""
    return (end.year - start.year) * 12 + end.month - start.month


def unseen_rows(data: PlanningData, start: pd.Timestamp, config: VigiaConfig) -> GateRows | None:
    """Inspections ordered from `start` (the later label cut-off) to the planning date with
    outcomes known before it; None when that is not a whole month."""
    months = months_between(start, data.planning_date)
    if months < 1:
        return None
    labels_cfg = config.labels
    labels = build_labels(data.tables, start, months, kind=labels_cfg.kind,
                          known_before=data.planning_date,
                          min_indicators=labels_cfg.min_indicators)
    return scored_rows(data, start, labels, config, UNSEEN,
                       f"{UNSEEN}: inspections ordered {start.date()} .. "
                       f"{data.planning_date.date()} (after both models' label cut-offs)")


def newest_window_rows(data: PlanningData, backtest: BacktestResult,
                       config: VigiaConfig) -> GateRows:
    """The newest backtest test window's workplaces and outcomes."""
    newest = backtest.newest_split()
    test = backtest.test_labels[backtest.test_labels["split"] == newest]
    labels = test.set_index("workplace_id")["label"]
    return scored_rows(data, pd.Timestamp(newest), labels, config, RECIPES,
                       f"{RECIPES}: as-of {newest}, each recipe as the backtest fitted it with "
                       "labels known before that date")


def scored_rows(data: PlanningData, as_of: pd.Timestamp, labels: pd.Series, config: VigiaConfig,
                kind: str, description: str) -> GateRows:
    """Every workplace's features at `as_of` with its label and audit attributes."""
    X, meta = build_scoring_set(data.tables, data.districts, as_of,
                                config.features.area_prior_strength)
    features = X.set_index(pd.Index(meta["workplace_id"].astype(str), name="workplace_id"))
    workplaces = data.tables["workplaces"]
    groups = audit_groups(workplaces, office_of(workplaces.set_index("workplace_id")["ubigeo"]))
    labels = labels.reindex(features.index)
    counts = f"{int(labels.notna().sum())} labelled, {int((labels == 1.0).sum())} positive"
    return GateRows(as_of, features, labels, kind, f"{description}; {counts}",
                    groups.reindex(features.index))






def gate_evidence(data: PlanningData, backtest: BacktestResult, config: VigiaConfig,
                  challenger: Contender,
                  champion: Contender | None) -> tuple[GateRows, GateScores]:
    """The rows and out-of-sample scores that judge the models (module docstring, in order)."""
    cutoffs = [c.label_cutoff for c in (challenger, champion) if c is not None]
    unseen = unseen_rows(data, max(cutoffs), config)
    if unseen is not None and unseen.positives >= config.promotion.min_gate_positives:
        return unseen, GateScores(score(challenger.model, unseen.features),
                                  None if champion is None else score(champion.model,
                                                                      unseen.features))
    rows = newest_window_rows(data, backtest, config)
    split, ids = backtest.newest_split(), rows.features.index
    return rows, GateScores(
        backtest.recipe_scores(split, challenger.model_group, ids),
        None if champion is None else backtest.recipe_scores(split, champion.model_group, ids))


def missing_evidence(rows: GateRows, scores: GateScores, champion: Contender | None,
                     config: VigiaConfig) -> str | None:
    """Why the gate rows cannot judge a challenger against the champion (None: they can)."""
    if champion is None:
        return None
    absent = [name for name, values in (("the challenger's recipe", scores.challenger),
                                        (f"the champion's recipe {champion.model_group!r}",
                                         scores.champion)) if values is None]
    if absent:
        return f"{' and '.join(absent)} not in this backtest's grid"
    needed = config.promotion.min_gate_positives
    if rows.positives < needed:
        return (f"{rows.positives} positive outcomes where both are out of sample, fewer than "
                f"promotion.min_gate_positives ({needed})")
    return None


def drift_check(drift: pd.DataFrame | None, champion: Contender | None,
                config: VigiaConfig) -> tuple[bool | None, list[str]]:
    """The `drift` check: the challenger's training data against the champion's."""
    if champion is None:
        return None, []
    if drift is None:
        return False, ["drift: not measurable (the champion has no training-data profile)"]
    failures = drift_failures(drift, config.drift)
    return not failures, failures


def fairness_check_on_rows(scores: GateScores, rows: GateRows, settings: FairnessConfig,
                           capacity: int) -> tuple[bool | None, list[str]]:
    """The `fairness` check: both models' lists at capacity audited on the gate rows
    (models/monitoring/fairness.py); the challenger may not be more disparate beyond the
    tolerance. Not applicable without a champion (nothing to compare with)."""
    if scores.champion is None or scores.challenger is None or rows.groups is None:
        return None, []

    def audit(values: pd.Series) -> pd.DataFrame:
        return audit_table(top_k_mask(values, capacity), rows.labels, rows.groups, settings)

    return fairness_check(audit(scores.challenger), audit(scores.champion), settings)


def judge(rows: GateRows, scores: GateScores, checks: dict[str, bool | None],
          check_failures: list[str], config: VigiaConfig) -> GateOutcome:
    """Compare the two score series on the gate rows (paired bootstrap), run the fairness
    check and decide; without a champion, the challenger's metric alone."""
    promotion, capacity = config.promotion, config.lists.total_capacity
    passed, failures = fairness_check_on_rows(scores, rows, config.fairness, capacity)
    checks, check_failures = {**checks, "fairness": passed}, [*check_failures, *failures]
    if scores.champion is None:
        metric, k = metric_and_cut(promotion.metric, len(rows.labels), capacity)
        value = (metric.function(rank(rows.labels, scores.challenger), k, None)
                 if scores.challenger is not None else float("nan"))
        decision = decide_promotion(None, checks, promotion.required_checks, value)
        return GateOutcome(decision, rows, None, checks, check_failures)
    comparison = paired_comparison(
        rows.labels, scores.challenger, scores.champion, promotion.metric, capacity,
        n_samples=promotion.bootstrap_samples, seed=config.model.seed,
        confidence=promotion.confidence)
    decision = decide_promotion(comparison, checks, promotion.required_checks)
    return GateOutcome(decision, rows, comparison, checks, check_failures)


def promotion_gate(data: PlanningData, backtest: BacktestResult, config: VigiaConfig, *,
                   challenger: Contender, champion: Contender | None,
                   drift: pd.DataFrame | None) -> GateOutcome:
    """Choose the out-of-sample gate rows, run the checks, compare the models and decide."""
    rows, scores = gate_evidence(data, backtest, config, challenger, champion)
    passed, failures = drift_check(drift, champion, config)
    checks: dict[str, bool | None] = {"drift": passed}
    missing = missing_evidence(rows, scores, champion, config)
    if missing is not None:
        refused = GateRows(rows.as_of, rows.features, rows.labels, NO_EVIDENCE,
                           f"{NO_EVIDENCE}: {missing} ({rows.description})", rows.groups)
        return GateOutcome(not_enough_evidence(missing), refused, None, checks, failures)
    return judge(rows, scores, checks, failures, config)

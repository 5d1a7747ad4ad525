"""The fairness audit on a hand-made case with known rates, and the gate's fairness check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.monitoring.fairness import audit_groups, audit_table, fairness_check, worst_disparities
from settings.loader import load_config
from settings.schema import FairnessConfig

SETTINGS = load_config().fairness.model_copy(update={
    "min_labelled": 10, "min_workplaces": 10, "min_positives": 5,
    "gate_metrics": ["selection_rate", "recall"]})


def settings_with(**changes: object) -> FairnessConfig:
    """The test settings with some values changed."""
    return SETTINGS.model_copy(update=changes)


def hand_made() -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Office A: 100 workplaces, 20 listed, 40 labelled (listed: 20 labelled, 10 positive;
    unlisted: 20 labelled, 5 positive). Office B: 100 workplaces, 10 listed, 40 labelled
    (listed: 10 labelled, 8 positive; unlisted: 30 labelled, 2 positive)."""
    ids = [f"{o}{i:03d}" for o in "AB" for i in range(100)]
    listed = np.zeros(200, bool)
    labels = np.full(200, np.nan)
    listed[:20] = True
    labels[:10], labels[10:20] = 1, 0
    labels[20:25], labels[25:40] = 1, 0
    listed[100:110] = True
    labels[100:108], labels[108:110] = 1, 0
    labels[110:112], labels[112:140] = 1, 0
    workplaces = pd.DataFrame({
        "workplace_id": ids, "size_band": ["micro"] * 200,
        "ciiu": ["0111"] * 200, "ruc": ["10" + "0" * 9] * 50 + ["20" + "0" * 9] * 150,
    })
    office = pd.Series(["A"] * 100 + ["B"] * 100, index=ids)
    return (pd.Series(listed, index=ids), pd.Series(labels, index=ids),
            audit_groups(workplaces, office))


def test_audit_known_rates_and_ratios() -> None:
    listed, labels, groups = hand_made()
    audit = audit_table(listed, labels, groups, settings_with(reference_groups={"office": "A"}))
    office = audit[audit["attribute"] == "office"].set_index("group")
    assert office.loc["A", "n_workplaces"] == 100 and office.loc["A", "n_listed"] == 20
    assert office.loc["A", "n_labelled"] == 40 and office.loc["A", "n_positive"] == 15
    assert office.loc["A", "list_share"] == pytest.approx(20 / 30)
    assert office.loc["A", "selection_rate"] == pytest.approx(0.2)
    assert office.loc["A", "precision"] == pytest.approx(10 / 20)
    assert office.loc["A", "recall"] == pytest.approx(10 / 15)
    assert office.loc["B", "precision"] == pytest.approx(8 / 10)
    assert office.loc["B", "recall"] == pytest.approx(8 / 10)
    assert office.loc["B", "selection_rate_ratio"] == pytest.approx(0.5)
    assert office.loc["B", "precision_ratio"] == pytest.approx(1.6)
    assert office.loc["B", "recall_ratio"] == pytest.approx(1.2)
    assert set(office.loc["B", "flagged"].split(";")) == {"selection_rate", "precision"}
    assert office.loc["A", "flagged"] == "" and (office["reference"] == "A").all()
    person = audit[audit["attribute"] == "person_type"].set_index("group")
    assert person.loc["persona_natural", "n_workplaces"] == 50
    assert (person["reference"] == "empresa").all()


def test_small_groups_are_not_flagged() -> None:
    listed, labels, groups = hand_made()
    audit = audit_table(listed, labels, groups, settings_with(
        min_labelled=50, reference_groups={"office": "A"}))
    b = audit[(audit["attribute"] == "office") & (audit["group"] == "B")].iloc[0]
    assert b["few_labelled"] and b["flagged"] == "selection_rate"


def test_fairness_check_refuses_a_worse_disparity() -> None:
    listed, labels, groups = hand_made()
    settings = settings_with(reference_groups={"office": "A"})
    champion = audit_table(listed, labels, groups, settings)
    assert fairness_check(champion, champion, settings) == (True, [])
    fairer = listed.copy()
    fairer.iloc[112:122] = True  # more of B listed, none of its positives: ratios nearer 1
    assert fairness_check(audit_table(fairer, labels, groups, settings), champion,
                          settings) == (True, [])
    # the challenger lists almost nobody in B: a worse selection-rate disparity than 2x
    unfair = listed.copy()
    unfair.iloc[102:110] = False
    passed, failures = fairness_check(audit_table(unfair, labels, groups, settings), champion,
                                      settings)
    assert not passed and any("selection_rate disparity by office" in f for f in failures)
    assert "group B" in failures[0]
    worst = worst_disparities(champion, settings).set_index(["attribute", "metric"])
    assert worst.loc[("office", "selection_rate"), "worst"] == pytest.approx(2.0)
    assert fairness_check(champion, None, settings) == (True, [])


def test_the_report_states_the_gate_verdict_and_the_delivered_flags_without_contradiction(
        ) -> None:
    """The gate's check (challenger vs champion) and the delivered lists' flags are two answers;
    the report says which is which, with the counts of the audit table it prints."""
    from models.selection.gate import CHECK_MEANING, check_sentence
    from reporting.estimates import fairness_statement

    listed, labels, groups = hand_made()
    groups["case"] = np.where(labels.eq(1.0), "seguimiento", "nuevo")
    audit = audit_table(listed, labels, groups, settings_with(reference_groups={"office": "A"}))
    flagged = audit[audit["flagged"] != ""]
    assert len(flagged) and "case" in set(audit["attribute"])
    for verdict, word in ((True, "passed"), (False, "FAILED"), (None, "not applicable")):
        statement = fairness_statement(verdict, audit)
        assert statement.startswith(f"Fairness check of the gate ({CHECK_MEANING['fairness']})"
                                    f": {word}. It compares two models")
        assert f"flags {len(flagged)} of {len(audit)} groups (" in statement
        for attribute, n in flagged.groupby("attribute").size().items():
            assert f"{attribute} {n}" in statement
        assert check_sentence("fairness", verdict) == (
            f"fairness ({CHECK_MEANING['fairness']}): {word}")
    clean = audit.assign(flagged="")
    assert fairness_statement(True, clean).endswith(f"flags 0 of {len(clean)} groups.")

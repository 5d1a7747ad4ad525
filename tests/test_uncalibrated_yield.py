"""Expected yield from an uncalibrated model is labelled as an estimate, never as a count."""

from __future__ import annotations

import pytest
from support import AS_OF, lists_settings, synthetic_world

from cleaning.contract import load_districts
from models.targeting.lists import (
    CALIBRATED_ESTIMATE,
    UNCALIBRATED_ESTIMATE,
    WorkplaceRegistry,
    build_target_lists,
    yield_by_office,
)
from reporting.planner_report import _yield_sentence
from reporting.run_report import yield_note


@pytest.fixture(scope="module")
def target():
    scores, workplaces, last = synthetic_world()
    registry = WorkplaceRegistry(workplaces, load_districts(), last)
    return build_target_lists(scores, registry, lists_settings(), AS_OF, seed=1)


def test_uncalibrated_yield_is_labelled_for_planners_and_in_the_report(target) -> None:
    table = yield_by_office(target, 0.9, calibrated=False)
    assert (table["estimate"] == UNCALIBRATED_ESTIMATE).all()
    sentence = _yield_sentence(table.loc["TOTAL"])
    assert sentence.startswith("Estimación sin calibrar")
    assert "UNCALIBRATED ESTIMATE" in yield_note(False, table)


def test_calibrated_yield_reads_as_expected_findings(target) -> None:
    table = yield_by_office(target, 0.9)
    assert (table["estimate"] == CALIBRATED_ESTIMATE).all()
    sentence = _yield_sentence(table.loc["TOTAL"])
    assert sentence.startswith("Hallazgos de trabajo forzoso esperados")
    expected = f"{table.loc['TOTAL', 'expected_findings']:.1f}".replace(".", ",")
    assert f"esperados: {expected} " in sentence  # decimal comma, as planners write numbers
    assert "calibrated probabilities" in yield_note(True, table)

"""Row and table rules: each broken input gives exactly one outcome (stop, or which rows and why).

`canonical_world()` is a small valid world in the canonical string form; the other test modules
of the quality gate import it too, and each test breaks it in one place.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from support import SHIPPED
from worlds import KNOWN_UBIGEOS, as_raw, assert_accounting, canonical_world, quarantined, run

from cleaning.contract import is_valid_ruc, isin_text, list_items, valid_ruc_mask
from cleaning.validation import (
    DataContractError,
    check_quarantine_share,
    codes_known_mask,
    expectation_flags,
    validate_tables,
)


def test_valid_world_is_all_clean_with_contract_dtypes() -> None:
    outcome = run(canonical_world())
    assert outcome.accounting["rows_quarantined"].tolist() == [0, 0, 0, 0]
    assert outcome.accounting["rows_in"].tolist() == [20, 40, 20, 0]
    inspections = outcome.clean["inspections"]
    assert str(inspections["ordered_on"].dtype) == "datetime64[ns]"
    assert inspections["closed_on"].isna().sum() == 20
    assert inspections["infraction_found"].dtype == bool
    assert inspections["workers_covered"].dtype == "int64"
    assert inspections["fine_uit"].dtype == "float64"
    assert inspections["subjects"].tolist()[:3] == ["wages;hours", "forced_labour", ""]
    workplaces = outcome.clean["workplaces"]
    assert workplaces["contractor_of"].isna().sum() == 19
    assert "name" not in workplaces.columns
    assert "complainant_doc" not in outcome.clean["complaints"].columns


def test_bad_check_digit_is_quarantined_and_its_references_follow() -> None:
    world = canonical_world()
    good = world["workplaces"].loc[3, "ruc"]
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    world["workplaces"].loc[3, ["ruc", "workplace_id"]] = [bad, f"{bad}-0000"]
    world["inspections"].loc[[3, 23], "workplace_id"] = f"{bad}-0000"
    world["complaints"].loc[3, "workplace_id"] = f"{bad}-0000"
    outcome = run(world)
    assert quarantined(outcome, "workplaces") == {4: "ruc_check_digit"}
    assert quarantined(outcome, "inspections") == {4: "quarantined_workplace",
                                                  24: "quarantined_workplace"}
    assert quarantined(outcome, "complaints") == {4: "quarantined_workplace"}
    detail = outcome.quarantine["workplaces"]["detail"].iloc[0]
    assert detail == f"ruc='{bad}' has a wrong check digit"
    assert outcome.accounting.set_index("table")["rows_clean"].tolist() == [19, 38, 19, 0]
    assert_accounting(outcome)


def test_unknown_ubigeo() -> None:
    world = canonical_world()
    world["workplaces"].loc[5, "ubigeo"] = "999999"
    outcome = run(world)
    assert quarantined(outcome, "workplaces") == {6: "unknown_ubigeo"}
    assert "ubigeo='999999'" in outcome.quarantine["workplaces"]["detail"].iloc[0]


def test_ubigeo_that_lost_its_leading_zero_is_quarantined_by_name() -> None:
    """A spreadsheet turns 010101 into 10101; without `zero_pad` in the mapping it is named."""
    world = canonical_world()
    world["workplaces"].loc[2, "ubigeo"] = "10101"
    outcome = run(world)
    assert quarantined(outcome, "workplaces") == {3: "unknown_ubigeo"}
    assert "ubigeo='10101'" in outcome.quarantine["workplaces"]["detail"].iloc[0]


def test_duplicate_id_keeps_the_first_occurrence() -> None:
    world = canonical_world()
    world["inspections"].loc[7, "inspection_id"] = "I0002"
    outcome = run(world)
    assert quarantined(outcome, "inspections") == {8: "duplicate_id"}
    assert outcome.quarantine["inspections"]["detail"].iloc[0] == (
        "inspection_id='I0002' already on row 3"
    )
    assert "I0002" in set(outcome.clean["inspections"]["inspection_id"])


def test_orphan_reference() -> None:
    world = canonical_world()
    world["complaints"].loc[2, "workplace_id"] = "20999999999-0000"
    outcome = run(world)
    assert quarantined(outcome, "complaints") == {3: "orphan_workplace"}
    assert_accounting(outcome)


def test_dates_out_of_order() -> None:
    world = canonical_world()
    world["inspections"].loc[0, "closed_on"] = "2023-12-31"
    outcome = run(world)
    assert quarantined(outcome, "inspections") == {1: "date_order"}
    assert outcome.quarantine["inspections"]["detail"].iloc[0] == (
        "closed_on=2023-12-31 is before ordered_on=2024-01-10"
    )


def test_timestamps_where_dates_are_expected_keep_their_date() -> None:
    """Exports write `2024-01-10 00:00:00` or ISO timestamps; the day as written is the date."""
    world = canonical_world()
    world["inspections"].loc[0, "ordered_on"] = "2024-01-10 00:00:00"
    world["inspections"].loc[1, "ordered_on"] = "2024-02-03T14:22:05-05:00"
    world["complaints"].loc[0, "received_on"] = "2023-11-20T08:00"
    world["inspections"].loc[2, "ordered_on"] = "2024-02-03 noon"
    outcome = run(world)
    assert quarantined(outcome, "inspections") == {3: "bad_type"}
    assert outcome.clean["inspections"]["ordered_on"].iloc[:2].tolist() == [
        pd.Timestamp("2024-01-10"), pd.Timestamp("2024-02-03")]
    assert outcome.clean["complaints"]["received_on"].iloc[0] == pd.Timestamp("2023-11-20")


def test_no_complaints_and_no_inspections_are_valid_tables() -> None:
    world = canonical_world()
    world["complaints"] = world["complaints"].iloc[0:0]
    world["inspections"] = world["inspections"].iloc[0:0]
    outcome = run(world)
    assert outcome.clean["complaints"].empty and outcome.clean["inspections"].empty
    assert len(outcome.clean["workplaces"]) == len(world["workplaces"])
    assert_accounting(outcome)


def test_future_date_relative_to_the_reference_date() -> None:
    world = canonical_world()
    world["complaints"].loc[4, "received_on"] = "2026-07-01"
    outcome = run(world)
    assert quarantined(outcome, "complaints") == {5: "future_date"}
    later = validate_tables(as_raw(world), known_ubigeos=KNOWN_UBIGEOS,
                            reference_date=date(2026, 7, 1),
                            wrong_type_stop_share=SHIPPED.quality.max_wrong_type_share)
    assert later.accounting["rows_quarantined"].sum() == 0


def test_negative_fine() -> None:
    world = canonical_world()
    world["inspections"].loc[9, "fine_uit"] = "-2.5"
    outcome = run(world)
    assert quarantined(outcome, "inspections") == {10: "negative_value"}
    assert outcome.quarantine["inspections"]["detail"].iloc[0] == "fine_uit='-2.5' is below 0"


def test_unknown_code_in_a_category_and_in_a_list() -> None:
    world = canonical_world()
    world["inspections"].loc[0, "origin"] = "denuncia"
    world["inspections"].loc[1, "fl_indicators"] = "debt_bondage;slavery;magic"
    outcome = run(world)
    assert quarantined(outcome, "inspections") == {1: "unknown_code", 2: "unknown_code"}
    details = outcome.quarantine["inspections"]["detail"].tolist()
    assert details == ["origin='denuncia' is not a known code",
                       "fl_indicators has unknown code(s) 'slavery', 'magic'"]


def test_several_rules_on_one_row_are_all_recorded() -> None:
    world = canonical_world()
    world["inspections"].loc[0, ["team", "victims_identified", "closed_on"]] = [
        "swat", "-1", "2020-01-01"]
    outcome = run(world)
    assert quarantined(outcome, "inspections") == {1: "unknown_code;negative_value;date_order"}
    assert outcome.quarantine["inspections"]["detail"].iloc[0].count(" | ") == 2
    counts = outcome.rule_counts.set_index(["table", "rule"])["rows"]
    assert counts[("inspections", "date_order")] == 1


def test_bad_type_and_missing_value() -> None:
    world = canonical_world()
    world["workplaces"].loc[0, "declared_workers"] = "doce"
    world["inspections"].loc[0, "ordered_on"] = ""
    world["inspections"].loc[1, "forced_labour_found"] = "maybe"
    outcome = run(world)
    assert quarantined(outcome, "workplaces") == {1: "bad_type"}
    # The workplace is gone, so both of its inspections and its complaint follow it.
    assert quarantined(outcome, "inspections") == {
        1: "missing_value;quarantined_workplace", 2: "bad_type", 21: "quarantined_workplace"}


def test_contractor_must_be_a_valid_ruc() -> None:
    world = canonical_world()
    world["workplaces"].loc[0, "contractor_of"] = "20123"
    outcome = run(world)
    assert quarantined(outcome, "workplaces") == {1: "contractor_ruc"}


def test_blank_row_is_quarantined_once() -> None:
    world = canonical_world()
    world["complaints"].loc[6, :] = ""
    outcome = run(world)
    assert quarantined(outcome, "complaints") == {7: "empty_row"}


def test_missing_column_stops_with_file_column_and_rule() -> None:
    world = canonical_world()
    world["inspections"] = world["inspections"].drop(columns=["closed_on"])
    with pytest.raises(DataContractError, match=r"ordenes\.csv: required column\(s\) closed_on "
                                                r"missing \[rule column_missing\]"):
        run(world, sources={"inspections": "ordenes.csv"})


def test_column_almost_all_of_the_wrong_type_stops() -> None:
    world = canonical_world()
    world["inspections"]["fine_uit"] = "S/ 1.000"
    with pytest.raises(DataContractError, match=r"inspections\.csv: column fine_uit: 40 of 40 "
                                                r"values are not a number .*column_wrong_type"):
        run(world)


def test_too_much_quarantine_stops_the_run() -> None:
    world = canonical_world()
    world["complaints"].loc[[0, 1], "channel"] = "fax"
    outcome = run(world)
    check_quarantine_share(outcome.accounting, outcome.rule_counts, max_share=0.15)
    with pytest.raises(DataContractError, match=r"complaints\.csv: 2 of 20 rows quarantined "
                                                r"\(10\.0%, limit 5\.0%\).*unknown_code \(2\)"):
        check_quarantine_share(outcome.accounting, outcome.rule_counts, max_share=0.05)


def test_expectation_flags_agree_with_the_quarantine() -> None:
    world = canonical_world()
    world["inspections"].loc[1, "subjects"] = "wages;bribes"
    world["workplaces"].loc[2, "ubigeo"] = "150199"
    outcome = run(world)
    clean_ids = outcome.clean["workplaces"]["workplace_id"]
    flags = expectation_flags("inspections", outcome.typed["inspections"], clean_ids,
                              KNOWN_UBIGEOS)
    assert flags.index[~flags["subjects__codes_known"]].tolist() == [2]
    assert flags.index[~flags["workplace_id__exists"]].tolist() == [3, 23]
    wflags = expectation_flags("workplaces", outcome.typed["workplaces"], clean_ids,
                               KNOWN_UBIGEOS)
    assert wflags.index[~wflags["ubigeo__known"]].tolist() == [3]
    assert codes_known_mask(pd.Series(["a;b", "", None]), ["a", "b"]).tolist() == [True] * 3


def test_isin_text_answers_what_pandas_isin_answers() -> None:
    ids = pd.Series(["20100047218-0001", None, "20100047218-0002", "x", ""], dtype="str")
    for members in ({"20100047218-0001", ""}, {"x", None}, set(), {"nobody"}):
        for values in (ids, pd.Index(ids), ids.astype(object)):
            assert isin_text(values, members).tolist() == list(values.isin(members)), members
    assert isin_text(ids, ["x", "x"]).dtype == bool


def test_the_ruc_mask_and_the_one_ruc_rule_agree() -> None:
    rucs = pd.Series(["20100047218", "20100047219", "10460278975", "2010004721", "30100047218",
                      None, "20I00047218", "20١٠٠٠٤٧٢١٨"], dtype="str")
    assert valid_ruc_mask(rucs).tolist() == [
        isinstance(r, str) and is_valid_ruc(r) for r in rucs]


def test_list_items_are_the_split_and_exploded_lists() -> None:
    lists = pd.Series(["wages;hours", None, "", "osh;;debt", ";", "x"], index=[5, 3, 9, 1, 2, 2],
                      dtype="str")
    expected = lists.fillna("").astype("str").str.split(";").explode()
    pd.testing.assert_series_equal(list_items(lists), expected, check_dtype=False)

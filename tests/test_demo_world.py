"""Demo world: contract-valid except recorded defects, reproducible, honest to its hidden truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import DEFECT_SHARE

from cleaning.contract import (
    REQUIRED_TABLES,
    TABLES,
    column_names,
    is_valid_ruc,
    load_districts,
    valid_ruc_mask,
)
from demo_world.generate import DemoWorld, generate_world
from demo_world.writing import write_world
from evaluation.truth import forced_labour_active, latent_risk, load_truth

START, END = "2018-07-01", "2026-06-30"
FL_TOPICS = ("withheld_documents", "threats_violence", "confinement", "debt")


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    return generate_world(n_workplaces=2500, seed=7, start=START, end=END,
                          defect_share=DEFECT_SHARE)


@pytest.fixture(scope="module")
def written(world: DemoWorld, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(world, out)
    return out


def _defect_ids(world: DemoWorld, defect: str) -> set[str]:
    d = world.truth["injected_defects"]
    return set(d.loc[d["defect"] == defect, "id"])


def test_tables_have_contract_columns_in_order(world: DemoWorld) -> None:
    for name in REQUIRED_TABLES:
        assert list(getattr(world, name).columns) == column_names(name)


def test_every_ruc_valid_except_injected(world: DemoWorld) -> None:
    wp = world.workplaces
    invalid = set(wp.loc[~valid_ruc_mask(wp["ruc"]), "workplace_id"])
    assert invalid == _defect_ids(world, "wrong_check_digit")
    assert invalid, "the wrong-check-digit defect must be present"
    prefixes = wp["ruc"].str[:2].value_counts(normalize=True)
    assert prefixes["10"] > 0.3 and prefixes["20"] > 0.3
    assert {"15", "17"} & set(prefixes.index)
    assert (wp["workplace_id"].str[:11] == wp["ruc"]).sum() == len(wp) - len(invalid)
    assert wp["workplace_id"].str.fullmatch(r"\d{11}-\d{4}").all()
    assert wp["workplace_id"].is_unique


def test_several_establishments_per_ruc(world: DemoWorld) -> None:
    per_ruc = world.workplaces["workplace_id"].str[:11].value_counts()
    assert (per_ruc > 1).sum() > 50
    assert world.workplaces["workplace_id"].str.endswith("-0000").mean() > 0.6


def test_ubigeo_known_except_injected(world: DemoWorld) -> None:
    known = set(load_districts()["inei"])
    wp = world.workplaces
    unknown = set(wp.loc[~wp["ubigeo"].isin(known), "workplace_id"])
    assert unknown == _defect_ids(world, "unknown_ubigeo") and unknown


def test_codes_in_contract_sets_except_injected(world: DemoWorld) -> None:
    unknown_code_defects = {"unknown_subject_code", "unknown_indicator_code",
                            "unknown_topic_code"}
    d = world.truth["injected_defects"]
    allowed_bad = set(d.loc[d["defect"].isin(unknown_code_defects), "id"])
    for name in REQUIRED_TABLES:
        columns = TABLES[name]
        df = getattr(world, name)
        id_col = columns[0].name
        for col in columns:
            if col.kind == "cat":
                assert df[col.name].isin(col.codes).all(), (name, col.name)
            if col.kind == "list":
                codes = df[col.name].fillna("").str.split(";").explode()
                bad_rows = df.loc[codes[~codes.isin((*col.codes, ""))].index.unique(), id_col]
                assert set(bad_rows) <= allowed_bad, (name, col.name)
    assert len(allowed_bad) >= 3


def test_closed_not_before_ordered_except_injected(world: DemoWorld) -> None:
    insp = world.inspections
    ordered = pd.to_datetime(insp["ordered_on"])
    closed = pd.to_datetime(insp["closed_on"])
    backwards = set(insp.loc[closed < ordered, "inspection_id"])
    assert backwards == _defect_ids(world, "closed_before_ordered") and backwards
    assert insp["closed_on"].isna().any(), "recent inspections must still be open"
    delay = (closed - ordered).dt.days[closed >= ordered]
    assert delay.median() < 200 and delay.quantile(0.99) > 365


def test_other_defects_are_where_recorded(world: DemoWorld) -> None:
    insp, comp = world.inspections, world.complaints
    dup = insp.loc[insp["inspection_id"].duplicated(keep=False), "inspection_id"]
    assert set(dup) == _defect_ids(world, "duplicated_inspection_id") and len(dup)
    negative = set(insp.loc[insp["fine_uit"].astype(float) < 0, "inspection_id"])
    assert negative == _defect_ids(world, "negative_fine") and negative
    orphans = set(comp.loc[~comp["workplace_id"].isin(world.workplaces["workplace_id"]),
                           "complaint_id"])
    assert orphans == _defect_ids(world, "orphan_workplace_id") and orphans
    assert world.truth["injected_defects"]["defect"].nunique() == 9
    share = len(world.truth["injected_defects"]) / (len(insp) + len(comp) + 2500)
    assert share < 0.01


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    paths = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        out = tmp_path / name
        write_world(generate_world(400, seed, START, END, defect_share=DEFECT_SHARE), out)
        paths.append(out)
    for file in ("workplaces.csv", "inspections.csv", "complaints.csv", "truth/fl_spells.csv"):
        assert (paths[0] / file).read_bytes() == (paths[1] / file).read_bytes(), file
    other = (paths[2] / "inspections.csv").read_bytes()
    assert (paths[0] / "inspections.csv").read_bytes() != other


def test_csv_format(written: Path) -> None:
    header = (written / "inspections.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(column_names("inspections"))
    insp = pd.read_csv(written / "inspections.csv", dtype=str, keep_default_na=False)
    assert set(insp["forced_labour_found"]) == {"true", "false"}
    assert insp["ordered_on"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (insp["closed_on"] == "").any()
    assert (written / "truth" / "README.md").read_text(encoding="utf-8").startswith("# Hidden")


def test_findings_happen_where_forced_labour_is_real(world: DemoWorld, written: Path) -> None:
    truth = load_truth(written / "truth")
    found = world.inspections["forced_labour_found"].eq("true").to_numpy()
    hidden = world.truth["inspections"]
    assert found.sum() >= 5
    kinds = hidden.loc[found, "finding"]
    assert kinds.isin(["true_positive", "false_positive"]).all()
    assert (kinds == "false_positive").mean() < 0.15
    true_positive = hidden[found & (hidden["finding"] == "true_positive").to_numpy()]
    for row in true_positive.itertuples():
        assert forced_labour_active(truth, row.ordered_on)[row.workplace_id], row.inspection_id
    # Specialised team detects far better than the regular one.
    team = world.inspections["team"].to_numpy()
    active = hidden["fl_active"].to_numpy()
    rate = {t: found[active & (team == t)].mean() for t in ("regular", "specialized")}
    assert rate["specialized"] > 1.5 * rate["regular"]


def test_regional_sector_mix(world: DemoWorld) -> None:
    wp = world.workplaces
    dept = wp["ubigeo"].str[:2]
    mining = wp["ciiu"] == "0729"
    assert mining[dept == "17"].mean() > 10 * max(mining[dept == "15"].mean(), 0.001)
    assert (dept == "15").mean() > 0.2, "Lima dominates by population"
    assert dept.nunique() == 25
    domestic = (wp["ciiu"] == "9700").groupby(dept).any()
    assert domestic["15"] and domestic.sum() >= 6
    assert wp["ciiu"].str.fullmatch(r"\d{4}").all()


def test_complaints_at_forced_labour_carry_its_topics(world: DemoWorld) -> None:
    topics = world.complaints["topics"].fillna("")
    has_fl_topic = topics.str.contains("|".join(FL_TOPICS)).to_numpy()
    at_fl = world.truth["complaints"]["fl_active"].to_numpy()
    assert at_fl.sum() >= 10
    assert has_fl_topic[at_fl].mean() > 4 * has_fl_topic[~at_fl].mean()
    assert has_fl_topic[~at_fl].mean() < 0.15


def test_personal_data_looks_real(world: DemoWorld) -> None:
    comp = world.complaints
    anonymous = comp["anonymous"] == "true"
    assert comp.loc[anonymous, "complainant_name"].isna().all()
    names = comp.loc[~anonymous, "complainant_name"]
    assert names.str.contains("[áéíóúñÁÉÍÓÚÑ]").mean() > 0.3
    assert names.str.split().str.len().ge(3).all()
    docs = comp["complainant_doc"].dropna()
    assert docs.str.fullmatch(r"\d{8}|\d{9}").all() and docs.str.len().eq(9).any()
    wp = world.workplaces
    persons = wp.loc[wp["ruc"].str.startswith("10"), "name"]
    assert persons.str.isupper().all()
    firms = wp.loc[wp["ruc"].str.startswith("20"), "name"]
    assert firms.str.contains(r"S\.A\.C\.|E\.I\.R\.L\.|S\.R\.L\.|S\.A\.").all()


def test_base_rates_in_sane_ranges(world: DemoWorld, written: Path) -> None:
    insp, wp = world.inspections, world.workplaces
    origin = insp["origin"].value_counts(normalize=True)
    assert 0.6 < origin["complaint"] < 0.8
    assert 0.25 < insp["infraction_found"].eq("true").mean() < 0.45
    assert 0.02 < insp["team"].eq("specialized").mean() < 0.15
    per_workplace_year = len(insp) / len(wp) / 8
    assert 0.04 < per_workplace_year < 0.15
    assert (wp["declared_workers"] == "0").mean() > 0.2
    assert wp["contractor_of"].notna().mean() < 0.15
    assert (pd.to_datetime(wp["activity_start"]) < pd.Timestamp("2000-01-01")).any()
    truth = load_truth(written / "truth")
    active = (truth["workplaces"]["active_from"] <= "2022-01-01") & (
        truth["workplaces"]["active_until"].isna()
        | (truth["workplaces"]["active_until"] > "2022-01-01"))
    fl = forced_labour_active(truth, "2022-01-01")
    prevalence = fl[active.to_numpy()].mean()
    assert 0.005 < prevalence < 0.03
    infraction = insp["infraction_found"] == "true"
    assert (insp.loc[~infraction, "fine_uit"].astype(float) == 0).all()
    victims = insp["victims_identified"].astype(int) > 0
    found = (insp["forced_labour_found"] == "true") | (insp["child_labour_found"] == "true")
    assert found[victims].mean() > 0.7


def test_truth_readers(written: Path) -> None:
    truth = load_truth(written / "truth")
    now = forced_labour_active(truth, "2023-01-01")
    ahead = forced_labour_active(truth, "2023-01-01", horizon_months=6)
    assert now.index.name == "workplace_id" and now.dtype == bool
    assert (ahead | ~now).all() and ahead.sum() > now.sum()
    risk = latent_risk(truth, "2023-02-15")
    assert risk.between(0, 1).all()
    assert risk[now.index[now]].mean() > 5 * risk[now.index[~now]].mean()
    with pytest.raises(ValueError):
        latent_risk(truth, "2010-01-01")


def test_guarded_truth_ids_are_strings(written: Path) -> None:
    truth = load_truth(written / "truth")
    assert truth["workplaces"]["ruc"].map(is_valid_ruc).all()
    assert np.issubdtype(truth["fl_spells"]["start"].dtype, np.datetime64)

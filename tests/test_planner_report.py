"""The planners' files: per-office files with their rows only, identity only in xlsx/html,
Excel formats, CSV with BOM, and the HTML report measured in headless Chromium (maps, print)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from support import SHIPPED

from cleaning.contract import load_districts
from models.metrics import METRICS
from models.offpolicy.propensity import OFFPOLICY_METRIC
from models.targeting.lists import (
    WorkplaceRegistry,
    build_target_lists,
    office_of,
    with_case,
    with_context,
    yield_by_office,
)
from reporting.planner_report import PlannerLists, metric_es, write_planning_outputs
from settings.schema import ListsConfig

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
AS_OF = pd.Timestamp("2026-07-01")
OFFICES = {"16": 12, "ILM": 10, "17": 6}
TEAM = {"code": "GEIT-TFI", "name_es": "Grupo especializado GEIT-TFI", "capacity": 6}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Lists of three offices over their real districts, written as the planners' files."""
    rng = np.random.default_rng(5)
    districts = load_districts()
    pools = {o: districts.loc[office_of(districts["inei"]) == o, "inei"].to_numpy()
             for o in OFFICES}
    ubigeos = np.concatenate([rng.choice(pool, 60) for pool in pools.values()])
    rucs = [f"20{i:09d}" for i in range(len(ubigeos))]
    workplaces = pd.DataFrame({
        "workplace_id": [f"{r}-0000" for r in rucs], "ruc": rucs, "ubigeo": ubigeos,
        "ciiu": rng.choice(["0729", "0220", "5510"], len(rucs)), "contractor_of": pd.NA,
    })
    scores = pd.DataFrame({"workplace_id": workplaces["workplace_id"],
                           "score": rng.beta(1, 12, len(rucs))})
    scores["calibrated_probability"] = scores["score"]
    settings = ListsConfig.model_validate({
        **SHIPPED.lists.model_dump(exclude={"offices", "specialized_team"}),
        "exploration_share": 0.25, "exploration_uniform_weight": 0.5,
        "exclude_inspected_months": 6, "group_same_ruc_district": True,
        "specialized_team": TEAM,
        "offices": {o: {"name_es": f"Oficina {o}", "capacity": c} for o, c in OFFICES.items()}})
    registry = WorkplaceRegistry(workplaces, districts, pd.Series(dtype="datetime64[ns]"))
    target = build_target_lists(scores, registry, settings, AS_OF, seed=3)
    target = with_context(target, workplaces, workplaces.iloc[0:0].assign(
        inspection_id="", ordered_on=pd.NaT, closed_on=pd.NaT, forced_labour_found=False,
        infraction_found=False), AS_OF)
    target = with_case(target, pd.Index(target["workplace_id"].iloc[::4]))  # some known cases
    identity = pd.DataFrame({"name": [f"Empresa Ñandú {i} S.A.C." for i in range(len(rucs))],
                             "address": [f"Jr. Próspero {i}, Iquitos" for i in range(len(rucs))]},
                            index=workplaces["workplace_id"])
    out = tmp_path_factory.mktemp("planner")
    validation = {"model_group": "m", "metric": "recall_at_top_1pct", "label_timespan_months": 6,
                  "windows": [{"as_of": "2025-01-01", "value": 0.25, "ci_low": 0.125,
                               "ci_high": 0.375, "labelled_in_list": 12, "capacity": 50}],
                  "comparison": []}
    lists = PlannerLists(target, yield_by_office(target, 0.9), validation,
                         scores.set_index("workplace_id")["score"], {})
    files = write_planning_outputs(out, AS_OF, lists, districts, identity=identity,
                                   team_code=TEAM["code"])
    return {"target": target, "identity": identity, "folder": files.list_csv.parent,
            "root": out}


def test_each_office_file_holds_only_its_office_and_the_team_as_context(written):
    target, folder = written["target"], written["folder"]
    for office in [*OFFICES, TEAM["code"]]:
        book = load_workbook(folder / f"lista_{office}.xlsx")
        rows = list(book[office].iter_rows(min_row=3, values_only=True))
        ids = {r[1] for r in rows}
        assert ids == set(target.loc[target["office"] == office, "workplace_id"]), office
        team_sheets = [s for s in book.sheetnames if s.startswith(TEAM["code"] + " ")]
        team = target[(target["office"] == TEAM["code"])
                      & (office_of(target["ubigeo"]) == office)]
        if len(team):
            context = {r[1] for r in book[team_sheets[0]].iter_rows(min_row=3, values_only=True)}
            assert context == set(team["workplace_id"])
        page = (folder / f"reporte_{office}.html").read_text(encoding="utf-8")
        others = target.loc[(target["office"] != office)
                            & ~target["workplace_id"].isin(team["workplace_id"]), "workplace_id"]
        assert not [w for w in others if w in page], office
        assert page.count('<table class="lista">') == 1


def test_identity_only_in_xlsx_and_html_and_csv_has_a_bom(written):
    folder, identity = written["folder"], written["identity"]
    listed_name = identity.loc[written["target"]["workplace_id"].iloc[0], "name"]
    raw = (folder / "lista_priorizada.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    listing = pd.read_csv(folder / "lista_priorizada.csv", dtype=str, encoding="utf-8-sig")
    assert listing.columns[0] == "clasificacion"
    for column in ["rank", "workplace_id", "ruc", "department", "province", "district", "ciiu",
                   "score", "reason_1", "reason_2", "reason_3", "chance", "activity"]:
        assert column in listing.columns
    assert "Ñandú" not in raw.decode("utf-8") and "Próspero" not in raw.decode("utf-8")
    assert "Ñandú" not in (folder / "lista_priorizada.json").read_text(encoding="utf-8")
    assert listed_name in (folder / "reporte.html").read_text(encoding="utf-8")
    sheet = load_workbook(folder / "lista_priorizada.xlsx")["16"]
    headers = [c.value for c in sheet[2]]
    assert headers[:5] == ["Prioridad", "Centro de trabajo", "RUC", "Empleador", "Dirección"]


def test_excel_has_number_formats_autofilter_print_setup_and_marked_exploration(written):
    sheet = load_workbook(written["folder"] / "lista_16.xlsx")["16"]
    headers = [c.value for c in sheet[2]]
    probability = sheet.cell(row=3, column=headers.index("Probabilidad estimada de hallazgo") + 1)
    assert probability.number_format == "0.0%" and isinstance(probability.value, float)
    assert sheet.auto_filter.ref == f"A2:{sheet.cell(row=2, column=len(headers)).column_letter}" \
        f"{sheet.max_row}"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$2:$2"
    selection = headers.index("Selección")
    explored = [r for r in sheet.iter_rows(min_row=3) if r[selection].value == "Exploración"]
    assert explored and all(r[0].fill.fgColor.rgb.endswith("D6EAF8") for r in explored)
    chance = headers.index("Probabilidad de sorteo")
    assert all(re.fullmatch(r"1 en [\d.]+", r[chance].value) for r in explored)
    reasons = headers.index("Razón 1")
    assert all(r[reasons].value.startswith("visita de exploración") for r in explored)


MEASURE = """<script>
const box = e => e.getBoundingClientRect();
const maps = [...document.querySelectorAll('svg.mapa')].map(svg => {
  const r = box(svg);
  const points = [...svg.querySelectorAll('g.listed circle')].map(box);
  return {left: r.left, right: r.right, width: r.width, height: r.height,
          inside: points.every(p => p.left >= r.left - 1 && p.right <= r.right + 1
                                    && p.top >= r.top - 1 && p.bottom <= r.bottom + 1),
          visits: [...svg.querySelectorAll('g.listed')].reduce((a, g) => a + +g.dataset.count, 0),
          exploration: svg.querySelectorAll('g.listed.exploracion, g.listed.mixto').length};
});
const pre = document.createElement('pre'); pre.id = 'medidas';
pre.textContent = JSON.stringify({width: innerWidth, height: innerHeight, maps,
  scroll: document.documentElement.scrollWidth});
document.body.appendChild(pre);
</script>"""


def chromium(root: Path) -> list[str]:
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium is required (.ci/run installs it)"
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={root / 'chromium'}"]


def measured(page: Path, root: Path, width: int, height: int) -> dict:
    """The report's maps measured by a script run in a copy of the page at one window size."""
    copy = root / f"measure_{width}_{page.name}"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
                    encoding="utf-8")
    dom = subprocess.run(chromium(root) + [f"--window-size={width},{height}", "--dump-dom",
                                           copy.as_uri()],
                         check=True, capture_output=True, timeout=120, text=True).stdout
    found = re.search(r'<pre id="medidas">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("width", [1024, 1400])
def test_office_map_fits_the_viewport_and_shows_every_listed_visit(written, width):
    ARTIFACTS.mkdir(exist_ok=True)
    height = 900
    for office in OFFICES:
        page = written["folder"] / f"reporte_{office}.html"
        metrics = measured(page, written["root"], width, height)
        rows = written["target"][written["target"]["office"] == office]
        (office_map,) = metrics["maps"]
        assert 0 <= office_map["left"] and office_map["right"] <= metrics["width"], office
        assert 150 < office_map["height"] <= height, office
        assert office_map["inside"], f"{office}: a listed point falls outside its map"
        assert office_map["visits"] == len(rows)
        assert office_map["exploration"] >= 1
        assert metrics["scroll"] <= metrics["width"], "the page scrolls sideways"
    shot = ARTIFACTS / f"reporte_16_{width}.png"
    subprocess.run(chromium(written["root"]) + [f"--window-size={width},{height}",
                                                f"--screenshot={shot}",
                                                (written["folder"] / "reporte_16.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.stat().st_size > 20_000


def pdf_pages(page: Path, root: Path) -> int:
    pdf = ARTIFACTS / f"{page.stem}.pdf"
    subprocess.run(chromium(root) + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                                     page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def test_print_runs_each_office_on_its_own_pages_as_in_its_office_report(written):
    ARTIFACTS.mkdir(exist_ok=True)
    folder, root, target = written["folder"], written["root"], written["target"]
    per_office = {o: pdf_pages(folder / f"reporte_{o}.html", root)
                  for o in target["office"].unique()}
    for office, pages in per_office.items():
        rows = int((target["office"] == office).sum())
        assert 1 <= pages <= 1 + rows // 4, (office, pages)
    national = folder / "reporte.html"
    front = root / "front.html"
    front.write_text(re.sub(r'<section class="oficina".*?</section>', "",
                            national.read_text(encoding="utf-8"), flags=re.S), encoding="utf-8")
    # offices never share a page: the national print is its front matter plus each office's run
    assert pdf_pages(national, root) == pdf_pages(front, root) + sum(per_office.values())


def test_the_validation_section_names_the_metric_the_model_was_validated_with(written):
    report = (written["folder"] / "reporte.html").read_text(encoding="utf-8")
    assert "<th>Cobertura en el 1 % superior</th>" in report
    assert "<td>25.0%</td><td>12.5% a 37.5%</td>" in report
    assert "Precisión a capacidad" not in report


def test_every_metric_a_run_can_validate_on_has_spanish_words():
    for base in METRICS:
        assert metric_es(f"{base}_at_capacity")[0]
    assert metric_es(OFFPOLICY_METRIC)[0] == "Precisión corregida por selección a capacidad"
    assert metric_es("brier_score")[2] is False


def test_each_visit_says_new_or_follow_up_and_the_office_yield_keeps_them_apart(written):
    target, folder = written["target"], written["folder"]
    book = load_workbook(folder / "lista_priorizada.xlsx")
    office = next(iter(OFFICES))
    sheet = book[office]
    header = [c.value for c in sheet[2]]
    column = header.index("Tipo de visita")
    cases = {r[1]: r[column] for r in sheet.iter_rows(min_row=3, values_only=True)}
    expected = target[target["office"] == office].set_index("workplace_id")["case"]
    assert cases == {w: {"nuevo": "Nuevo", "seguimiento": "Seguimiento"}[c]
                     for w, c in expected.items()}
    page = (folder / f"reporte_{office}.html").read_text(encoding="utf-8")
    new = int((expected == "nuevo").sum())
    assert f"De ellas, {new} son centros nuevos" in page

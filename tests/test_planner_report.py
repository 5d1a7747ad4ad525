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
from models.offpolicy.list_log import list_log_entries
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

pytestmark = pytest.mark.whole_runs

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
    inspected = workplaces.iloc[::2]  # half inspected once before: real date cells
    target = with_context(target, workplaces, inspected.assign(
        inspection_id=inspected["workplace_id"], ordered_on=pd.Timestamp("2025-03-10"),
        closed_on=pd.Timestamp("2025-04-01"), forced_labour_found=False,
        infraction_found=True), AS_OF)
    target = with_case(target, pd.Index(target["workplace_id"].iloc[::4]))  # some known cases
    identity = pd.DataFrame({"name": [f"Empresa Ñandú {i} S.A.C." for i in range(len(rucs))],
                             "address": [None if i % 5 == 0 else f"Jr. Próspero {i}, Iquitos"
                                         for i in range(len(rucs))]},
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
        rows = list(book[f"Detalle {office}"].iter_rows(min_row=3, values_only=True))
        ids = {r[1] for r in rows}
        assert ids == set(target.loc[target["office"] == office, "workplace_id"]), office
        team_sheets = [s for s in book.sheetnames if s == f"Detalle {TEAM['code']}"]
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
    sheet = load_workbook(folder / "lista_priorizada.xlsx")["Detalle 16"]
    headers = [c.value for c in sheet[2]]
    assert headers[:5] == ["Prioridad", "Centro de trabajo", "RUC", "Empleador", "Dirección"]


def test_excel_has_number_formats_autofilter_print_setup_and_marked_exploration(written):
    sheet = load_workbook(written["folder"] / "lista_16.xlsx")["Detalle 16"]
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
    reasons = headers.index("Motivo 1")
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
        assert len(metrics["maps"]) == 2  # the summary page's and the office section's
        for office_map in metrics["maps"]:
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
    # each office report: its one-page summary, then its own run of pages
    per_office = {o: pdf_pages(folder / f"reporte_{o}.html", root) - 1
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
    sheet = book[f"Detalle {office}"]
    header = [c.value for c in sheet[2]]
    column = header.index("Tipo de visita")
    cases = {r[1]: r[column] for r in sheet.iter_rows(min_row=3, values_only=True)}
    expected = target[target["office"] == office].set_index("workplace_id")["case"]
    assert cases == {w: {"nuevo": "Nuevo", "seguimiento": "Seguimiento"}[c]
                     for w, c in expected.items()}
    page = (folder / f"reporte_{office}.html").read_text(encoding="utf-8")
    new = int((expected == "nuevo").sum())
    assert f"De ellas, {new} son centros nuevos" in page


FIELD_HEADERS = ["Prioridad", "Seguimiento / Nuevo", "Empleador", "Dirección", "Distrito",
                 "Motivos", "Última inspección", "Resultado de la última inspección",
                 "N.º orden de inspección", "Fecha de la visita", "Hallazgo de trabajo forzoso"]
A4_LANDSCAPE_MM = 297.0
MM_PER_WIDTH_UNIT = 7 * 25.4 / 96  # Excel's width unit is about 7 pixels at 96 dpi


def test_the_first_sheet_prints_what_an_inspector_reads_at_70_percent_or_more(written):
    book = load_workbook(written["folder"] / "lista_16.xlsx")
    assert book.sheetnames[:2] == ["16", "Detalle 16"] and book.sheetnames[-1] == "Metodo"
    sheet = book["16"]
    assert [c.value for c in sheet[4]] == FIELD_HEADERS
    assert sheet.freeze_panes == "D5"  # priority, follow-up/new and the employer stay in view
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.print_area == f"'16'!$A$1:$K${sheet.max_row}"
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth) == ("landscape", 9, 1)
    printable = A4_LANDSCAPE_MM - 25.4 * (sheet.page_margins.left + sheet.page_margins.right)
    width = sum(sheet.column_dimensions[c].width for c in "ABCDEFGHIJK") * MM_PER_WIDTH_UNIT
    assert printable / width >= 0.70
    rows = written["target"][written["target"]["office"] == "16"]
    assert sheet.max_row == 4 + len(rows)
    reasons = [r[5] for r in sheet.iter_rows(min_row=5)]
    assert all(c.alignment.wrap_text for c in reasons)
    assert [c for c in reasons if c.value] and all(
        c.value.startswith("1. ") for c in reasons if c.value)
    dates = [r[6] for r in sheet.iter_rows(min_row=5) if r[6].value is not None]
    assert dates and all(c.is_date and c.number_format == "dd/mm/yyyy" for c in dates)
    assert all(isinstance(r[0].value, int) for r in sheet.iter_rows(min_row=5))
    assert {r[1].value for r in sheet.iter_rows(min_row=5)} <= {"Seguimiento", "Nuevo"}


def test_the_first_sheet_opens_with_expected_findings_and_a_result_block_to_fill(written):
    sheet = load_workbook(written["folder"] / "lista_16.xlsx")["16"]
    yields = yield_by_office(written["target"], 0.9)
    expected = f"{yields.loc['16', 'expected_findings']:.1f}".replace(".", ",")
    assert re.fullmatch(rf"Hallazgos de trabajo forzoso esperados: {expected} \(intervalo del "
                        r"90 %: \d+ a \d+\) en 12 visitas\.", sheet["A2"].value)
    assert sheet["I3"].value.startswith("Resultado de la visita")
    assert all(r[8].value is None and r[10].value is None for r in sheet.iter_rows(min_row=5))
    validations = {v.type: v for v in sheet.data_validations.dataValidation}
    assert validations["list"].formula1 == '"sí,no"'
    assert str(validations["list"].sqref) == f"K5:K{sheet.max_row}"
    assert str(validations["date"].sqref) == f"J5:J{sheet.max_row}"


def test_no_duplicated_columns_no_technical_words_and_chance_only_for_exploration(written):
    for path in written["folder"].glob("*.xlsx"):
        book = load_workbook(path)
        for sheet in book:
            words = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
            assert not re.search(r"SHAP|[Pp]untaje|\bscore|\bmodelo\b", words), (path, sheet)
            if sheet.title.startswith("Detalle"):
                headers = [c.value for c in sheet[2]]
                assert len(headers) == len(set(headers)) and "Puntaje de riesgo" not in headers
                selection, chance = headers.index("Selección"), headers.index(
                    "Probabilidad de sorteo")
                for row in sheet.iter_rows(min_row=3, values_only=True):
                    assert (row[chance] is not None) == (row[selection] == "Exploración")


def test_a_missing_address_says_why_and_how_to_find_the_place(written):
    folder, identity, target = written["folder"], written["identity"], written["target"]
    sheet = load_workbook(folder / "lista_priorizada.xlsx")["Detalle 16"]
    headers = [c.value for c in sheet[2]]
    address, ident, ruc = (headers.index(h) for h in ("Dirección", "Centro de trabajo", "RUC"))
    missing = 0
    for row in sheet.iter_rows(min_row=3, values_only=True):
        assert row[address], "an empty address cell"
        if pd.isna(identity.loc[row[ident], "address"]):
            missing += 1
            assert row[address].startswith("sin dirección en el registro: ubicar por RUC "
                                           f"{row[ruc]}")
    assert missing
    field = load_workbook(folder / "lista_16.xlsx")["16"]
    assert all(r[3] for r in field.iter_rows(min_row=5, values_only=True))
    assert "sin dirección en el registro" not in (folder / "lista_priorizada.csv").read_text(
        encoding="utf-8-sig"), "identity words stay out of the CSV"
    assert target is not None


HOSTILE = ['=HYPERLINK("http://x.invalid","x")', "+SUM(1;1)", "-2+3", "@cmd",
           "<script>alert(1)</script>", "\t=1+1", "\r=1+1"]


def test_hostile_names_and_addresses_are_inert_in_every_written_file(written, tmp_path):
    target = written["target"]
    identity = pd.DataFrame({
        "name": [HOSTILE[i % len(HOSTILE)] for i in range(len(target))],
        "address": [HOSTILE[(i + 3) % len(HOSTILE)] for i in range(len(target))],
    }, index=target["workplace_id"])
    hostile = target.assign(reason_3=[HOSTILE[i % len(HOSTILE)] for i in range(len(target))])
    lists = PlannerLists(hostile, yield_by_office(hostile, 0.9), {
        "model_group": "<script>alert(1)</script>", "metric": "recall_at_top_1pct",
        "label_timespan_months": 6, "windows": [], "comparison": []},
        pd.Series(0.1, index=target["workplace_id"]), {})
    files = write_planning_outputs(tmp_path, AS_OF, lists, load_districts(), identity=identity,
                                   team_code=TEAM["code"])
    folder, seen = files.list_csv.parent, 0
    for path in folder.glob("*.xlsx"):
        for sheet in load_workbook(path):
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
                        seen += cell.value.lstrip("'") in HOSTILE
    assert seen >= 3 * len(target)  # names, addresses and a reason, all kept as text
    listing = pd.read_csv(folder / "lista_priorizada.csv", dtype=str, encoding="utf-8-sig",
                          keep_default_na=False)
    for column in listing:
        assert not listing[column].str.match(r"[=+\-@\t\r]").any(), column
    assert (listing["reason_3"] == "'-2+3").any()
    for page in folder.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "&lt;script&gt;alert(1)" in text, page.name


def summary_only(page: Path, root: Path) -> Path:
    """A copy of a report holding only its first section, the summary."""
    text = page.read_text(encoding="utf-8")
    head = text[:text.index("<body")]
    (summary,) = re.findall(r'<section class="resumen">.*?</section>', text, flags=re.S)
    copy = root / f"summary_{page.name}"
    copy.write_text(f'{head}<body class="una-oficina">{summary}</body></html>', encoding="utf-8")
    return copy


def test_the_first_page_of_every_report_is_a_one_page_summary_to_decide(written):
    ARTIFACTS.mkdir(exist_ok=True)
    folder, root, target = written["folder"], written["root"], written["target"]
    for name in ["reporte.html", *(f"reporte_{o}.html" for o in target["office"].unique())]:
        page = (folder / name).read_text(encoding="utf-8")
        assert page.index('<section class="resumen">') < page.index("</h1>") + 10, name
        assert pdf_pages(summary_only(folder / name, root), root) == 1, name
        summary = re.search(r'<section class="resumen">.*?</section>', page, re.S).group(0)
        assert "Hallazgos de trabajo forzoso esperados" in summary and "intervalo" in summary
        assert "Es la primera lista" in summary and "<svg" in summary
        first_rows = re.search(r'<table class="primeras">.*?</table>', summary, re.S).group(0)
        office = name.removeprefix("reporte").removesuffix(".html").lstrip("_") or TEAM["code"]
        shown = min(10, int((target["office"] == office).sum()))  # national: the team's list
        assert first_rows.count("<tr>") == 1 + shown, name
        assert "visitas:" in summary
        assert not re.search(r"SHAP|[Pp]untaje|Pipeline\(|Classifier", page), name
    office = folder / "reporte_16.html"
    text = office.read_text(encoding="utf-8")
    assert '<a href="lista_16.xlsx">' in text
    team = target[(target["office"] == TEAM["code"]) & (office_of(target["ubigeo"]) == "16")]
    if len(team):
        assert f"visitará {len(team)} centros en su territorio" in text
        ranks = ", ".join(team["rank"].astype(str))
        assert f"(prioridad {ranks} de su lista" in text


def test_the_summary_tells_what_changed_since_the_previous_list(written, tmp_path):
    target = written["target"]
    log = list_log_entries(target.iloc[:8].assign(office="16"), AS_OF - pd.DateOffset(months=3),
                           3, "1")
    log.to_parquet(tmp_path / "list_log.parquet")
    lists = PlannerLists(target, yield_by_office(target, 0.9), {
        "model_group": "m", "metric": "recall_at_top_1pct", "label_timespan_months": 6,
        "windows": [], "comparison": []}, pd.Series(0.1, index=target["workplace_id"]), {})
    files = write_planning_outputs(tmp_path, AS_OF, lists, load_districts(),
                                   team_code=TEAM["code"])
    page = (files.list_csv.parent / "reporte_16.html").read_text(encoding="utf-8")
    now = set(target.loc[target["office"] == "16", "workplace_id"])
    then = set(log["workplace_id"])
    assert (f"Cambios desde la lista del 01/04/2026: {len(now & then)} centros siguen, "
            f"{len(now - then)} entran y {len(then - now)} salen.") in page
    other = (files.list_csv.parent / "reporte_17.html").read_text(encoding="utf-8")
    assert "Es la primera lista" in other


def test_maps_print_district_names_and_priorities_and_list_counts_beside(written):
    folder, target = written["folder"], written["target"]
    for office in [*OFFICES, TEAM["code"]]:
        page = (folder / f"reporte_{office}.html").read_text(encoding="utf-8")
        labels = re.findall(r'<text class="nombre"[^>]*>(.*?)</text>', page)
        rows = target[target["office"] == office]
        for district, ranks in rows.groupby("district", sort=False)["rank"]:
            assert any(label.startswith(f"{district} (") and all(
                str(r) in label for r in ranks) for label in labels), (office, district)
        if office != TEAM["code"]:
            table = re.search(r'<table class="distritos">.*?</table>', page, re.S).group(0)
            assert table.count("<tr>") == 1 + rows["district"].nunique()
    first_map = re.search(r'<svg class="mapa".*?</svg>',
                          (folder / "reporte_16.html").read_text(encoding="utf-8"), re.S).group(0)
    positions = [tuple(map(float, m)) for m in re.findall(
        r'<text class="nombre" x="([\d.-]+)" y="([\d.-]+)"', first_map)]
    assert len(positions) == len(set(positions)), "two labels printed on the same spot"

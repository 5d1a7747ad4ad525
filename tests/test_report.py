"""Report files: Excel re-read, CSV/JSON, atomic folder, HTML rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from test_explain import MODEL_CONFIG, synthetic_features
from test_targeting import AS_OF, DISTRICTS, lists_settings, synthetic_world

from features.catalog import FEATURE_CATALOG
from features.contract import load_districts
from models.candidates import build_candidates
from models.explain import explain
from models.targeting import build_target_lists
from pipelines.report import (
    CONFIDENTIAL,
    CSV_FILE,
    EXCEL_FILE,
    HTML_FILE,
    JSON_FILE,
    scores_with_office,
    write_list_outputs,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
VALIDATION = {
    "summary_es": "Validación temporal en 4 fechas de corte posteriores al entrenamiento.",
    "precision_at_capacity": 0.031,
    "table": pd.DataFrame({"fecha": ["2025-07-01", "2025-10-01"], "precisión": [0.03, 0.032]}),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    districts = load_districts()
    scores, workplaces, last = synthetic_world()
    target_list = build_target_lists(scores, workplaces, districts, last, lists_settings(),
                                     AS_OF, seed=1)
    target_list["reason_1"] = "distrito con 68% de pobreza extrema y más"
    frame, label = synthetic_features(rows=300)
    grid = {**MODEL_CONFIG, "families": {"hist_gradient_boosting": {"max_iter": [20]}}}
    model = next(iter(build_candidates(grid, frame.dtypes, FEATURE_CATALOG).values()))
    explanation = explain(model.fit(frame, label), frame.iloc[:50])
    out = tmp_path_factory.mktemp("outputs")
    folder = write_list_outputs(
        target_list, out, AS_OF, districts, scores_with_office(scores, workplaces), VALIDATION,
        explanation=explanation, labels_es={n: s.label_es for n, s in FEATURE_CATALOG.items()},
    )
    return folder, target_list


def test_outputs_land_in_a_dated_folder_without_leftovers(written):
    folder, _ = written
    assert folder.name == "lista_2026-07-01"
    assert {p.name for p in folder.iterdir()} >= {EXCEL_FILE, CSV_FILE, JSON_FILE, HTML_FILE,
                                                  "shap_importance.png", "shap_beeswarm.png"}
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder


def test_excel_has_one_confidential_sheet_per_office_with_capacity_rows(written):
    folder, target_list = written
    workbook = load_workbook(folder / EXCEL_FILE)
    assert workbook.sheetnames[-1] == "Metodo"
    assert len(workbook.sheetnames) == 1 + len(DISTRICTS) + 1  # GEIT-TFI + offices + Metodo
    capacity = {"GEIT-TFI": 5, **{code: 10 for code in DISTRICTS}}
    for name in workbook.sheetnames[:-1]:
        sheet = workbook[name]
        assert sheet["A1"].value.startswith(CONFIDENTIAL)
        headers = [c.value for c in sheet[2]]
        assert headers[:4] == ["oficina", "nombre_oficina", "prioridad", "centro_de_trabajo"]
        assert "motivo_1" in headers and "probabilidad_seleccion" in headers
        assert sheet.freeze_panes == "A3"
        assert sheet.column_dimensions["D"].width > 10
        office = sheet["A3"].value
        assert sheet.max_row - 2 == capacity[office]
    method = workbook["Metodo"]
    assert method["A1"].value.startswith(CONFIDENTIAL)
    assert any("exploracion" in str(c.value) for row in method.iter_rows() for c in row)


def test_csv_and_json_carry_the_same_rows_and_the_mark(written):
    folder, target_list = written
    csv = pd.read_csv(folder / CSV_FILE, dtype=str, encoding="utf-8-sig")
    assert (csv["clasificacion"] == CONFIDENTIAL).all() and len(csv) == len(target_list)
    assert csv["motivo_1"].iat[0] == "distrito con 68% de pobreza extrema y más"
    document = json.loads((folder / JSON_FILE).read_text(encoding="utf-8"))
    assert document["clasificacion"] == CONFIDENTIAL
    assert len(document["filas"]) == len(target_list)
    total = next(r for r in document["rendimiento_esperado"] if r["office"] == "TOTAL")
    assert total["expected_findings"] == pytest.approx(target_list["probability"].sum())


def test_html_is_self_contained_and_complete(written):
    folder, target_list = written
    html = (folder / HTML_FILE).read_text(encoding="utf-8")
    assert "CONFIDENCIAL" in html and "Precisión a la capacidad" in html and "3.1%" in html
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing loaded from the network
    assert html.count('<section class="office"') == 1 + len(DISTRICTS)
    assert html.count("<use href=\"#distritos\"/>") == 1 + len(DISTRICTS)
    assert "data:image/png;base64," in html and "Hallazgos esperados" in html


@pytest.mark.skipif(CHROMIUM is None, reason="apt-get install -y chromium")
def test_html_renders_in_headless_chromium(written, tmp_path):
    folder, target_list = written
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "reporte.png"
    screenshot.unlink(missing_ok=True)
    common = [CHROMIUM, *CHROMIUM_FLAGS]
    url = (folder / HTML_FILE).as_uri()
    dom = subprocess.run([*common, f"--user-data-dir={tmp_path / 'dom'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count('<tr class="modelo">') + dom.count('<tr class="exploracion">') == len(
        target_list)
    assert dom.count('class="mapa"') == 1 + len(DISTRICTS) and "<img" in dom
    subprocess.run([*common, f"--user-data-dir={tmp_path / 'shot'}", "--window-size=1280,2000",
                    f"--screenshot={screenshot}", url],
                   capture_output=True, timeout=120, check=True)
    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1280
    assert float(np.std(pixels[..., :3])) > 0.05  # not a blank page
    # the red CONFIDENCIAL banner is drawn at the top
    assert pixels[5, 640, 0] > 0.4 and pixels[5, 640, 1] < 0.2

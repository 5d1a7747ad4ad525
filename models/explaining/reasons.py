"""Reasons in plain Spanish: what about THIS workplace raised its risk, from its SHAP values.

Each listed workplace gets up to `top` sentences (default 3) from the features that RAISE its
risk, rendered from the catalog's `reason_es` with the workplace's own value, e.g.
"3 hallazgos de trabajo forzoso en otros locales de la misma empresa". A planner needs reasons
about the workplace, not about its area (every workplace of a district shares the district's
poverty), so the positive contributions are said in three levels, in each what sets the
workplace apart from the other listed ones first (see `workplace_reasons`):

1. evidence about the workplace: its own inspections, told in ONE sentence with how many, the
   last one's age and the results that raised the risk (`inspection_history`, so no inspection
   is counted twice in different words), its principal's, recruiter's or sister
   establishments' findings, its complaints (under the privacy rule below);
2. what the registry says about it: the sector's risk tier, size, regime, subcontracting (never
   the activity itself: the list's Actividad column shows it);
3. at most ONE area-level reason (district context or area finding rates).

A contribution is only said when its value means something in words: a missing value, or a zero
(no complaints, not a subcontractor) that happens to push the score up, is skipped, because
"0 denuncias" or "subcontratista" for a firm that is not one would mislead a planner. The
department is never said: it is the office's own territory. A workplace whose positive
contributions cannot be said gets `reasons.fallback_es`, so no row is left without a reason.
Numbers use decimal commas, as planners write them.

Privacy (config `reasons.complaints`): nothing may let an employer infer that a worker
complained. The rule covers EVERY complaint-derived feature, including inspections that a
complaint originated (`inspections_complaint_*`).
- `coarse` (default): a workplace with fewer than `reasons.complaint_min_workers` declared
  workers (or an unknown number) gets no complaint-derived sentence at all; above it, at most
  one, with the count only as a band (`reasons.complaint_bands_es`: "tiene", "tiene varias",
  "tiene muchas") and the window's phrase (`reasons.complaint_phrases_es`: "recientes" only for
  the last year). Channels, topics and the days since the last complaint are never said.
- `none`: complaint-derived features never become reasons.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.catalog import FeatureSpec
from models.explaining.explain import Explanation, explain
from settings.schema import ReasonsConfig

log = logging.getLogger(__name__)

COMPLAINT_ORIGIN_PREFIX = "inspections_complaint_"
EVIDENCE, REGISTRY, AREA = 0, 1, 2
AREA_SOURCES = ("districts", "area_rates")
ACTIVITY_FEATURES = ("sector_risk_group", "ciiu_class", "ciiu_division")  # one activity reason
# Complaint counts a list may say as a band; channels, topics and dates never.
SAYABLE_COMPLAINT_FAMILIES = ("complaints", "inspections_complaint")
ALL_TIME_ES = "en todo el historial"
# Own-inspection families that only shape the history sentence's head (how many, how long ago).
HISTORY_HEADER = ("inspections", "inspections_planned", "inspections_ex_officio",
                  "days_since_last_inspection")
MAX_HISTORY_PARTS = 3
# The office's own territory, and the activity the list's Actividad column already shows.
NEVER_SAID = ("department_code", "ciiu_class", "ciiu_division")
# Ordinal and coded registry values in words (the catalog's template would print a bare code).
SECTOR_TIER_ES = {
    1: "sector de riesgo medio de trabajo forzoso",
    2: "sector de riesgo alto de trabajo forzoso",
}
SIZE_ES = {0: "microempresa", 1: "pequeña empresa", 2: "mediana empresa", 3: "gran empresa"}
# Plural words a catalog sentence puts after its count, for a count of one.
SINGULAR_ES = {
    "inspecciones": "inspección", "hallazgos": "hallazgo", "denuncias": "denuncia",
    "indicadores": "indicador", "infracciones": "infracción", "víctimas": "víctima",
    "identificadas": "identificada", "planificadas": "planificada", "originadas": "originada",
    "establecimientos": "establecimiento", "trabajadores": "trabajador",
    "declarados": "declarado", "años": "año", "días": "día",
}
REGIME_ES = {
    "agrario": "régimen laboral agrario", "construccion": "régimen de construcción civil",
    "hogar": "régimen de trabajo del hogar", "micro": "régimen laboral de microempresa",
    "pequena": "régimen laboral de pequeña empresa", "general": "régimen laboral general",
}


def reason_level(spec: FeatureSpec) -> int:
    """EVIDENCE (history, network, complaints), REGISTRY (the workplace's record) or AREA."""
    if spec.source in AREA_SOURCES:
        return AREA
    return REGISTRY if spec.source == "workplaces" else EVIDENCE


def reason_topic(spec: FeatureSpec) -> str:
    """Reasons on one topic are said once: area, activity, the principal of a subcontractor,
    a count over several windows ("2 inspecciones ... historial", "1 ... últimos 3 años")."""
    if reason_level(spec) == AREA:
        return "area"
    if spec.name == "is_subcontractor" or spec.name.startswith("principal_"):
        return "principal"  # "subcontratista de una empresa con 6 infracciones" says both
    if spec.name in ACTIVITY_FEATURES:
        return "activity"
    if is_complaint_based(spec):
        return "complaints"  # at most one complaint sentence per row
    return spec.name.removesuffix(f"_{spec.window}")  # one count per family, whatever window


def is_complaint_based(spec: FeatureSpec) -> bool:
    """Complaint-derived, counting inspections a complaint originated: both reveal a complaint."""
    return spec.complaint_derived or spec.name.startswith(COMPLAINT_ORIGIN_PREFIX)


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _is_zero(value: object) -> bool:
    return not isinstance(value, str) and pd.api.types.is_number(value) and value == 0


def _row_value(row: Mapping[str, Any] | None, feature: str) -> object:
    return None if row is None or feature not in row else row[feature]


def _complaint_sentence(spec: FeatureSpec, value: float, settings: ReasonsConfig,
                        row: Mapping[str, Any] | None) -> str | None:
    """What the privacy rule lets a list say about a complaint-based feature: a coarse band of
    the count in its window, never for a small workplace, never a channel, topic or date."""
    family = spec.name.removesuffix(f"_{spec.window}")
    if settings.complaints == "none" or family not in SAYABLE_COMPLAINT_FAMILIES:
        return None
    workers = _row_value(row, "declared_workers")
    if _is_missing(workers) or float(workers) < settings.complaint_min_workers:
        return None  # a small workplace could tell who complained from any mention at all
    bands = [words for start, words in sorted(settings.complaint_bands_es.items())
             if value >= start]
    phrase = settings.complaint_phrases_es.get(spec.window)
    return None if not bands or phrase is None else f"{bands[-1]} {phrase}"


def _registry_sentence(spec: FeatureSpec, value: object) -> str | None:
    """Coded registry values in words; None where only a bare code could be said, or where the
    list already has the fact in a column (the activity)."""
    if spec.name in NEVER_SAID:
        return None
    if spec.name == "sector_risk_group":
        return SECTOR_TIER_ES.get(int(float(value)))
    if spec.name == "size_band_ordinal":
        return SIZE_ES.get(int(float(value)))
    if spec.name == "labour_regime":
        return REGIME_ES.get(str(value))
    if spec.name == "establishments_same_ruc" and float(value) == 1:
        return "empresa de un solo establecimiento"
    return spec.reason_es.format(value=value if spec.kind == "categorical" else float(value))


def _singular(sentence: str) -> str:
    """'1 inspecciones planificadas' -> '1 inspección planificada' (the count's two words)."""
    def one(match: re.Match) -> str:
        words = match.group(2).split(" ")
        return match.group(1) + " ".join(SINGULAR_ES.get(w, w) for w in words)
    return re.sub(r"((?<![\d.,])1 )(\w+(?: \w+)?)", one, sentence)


def _ago(days: float) -> str:
    """A gap in days as a planner says it: in years from one year on, else in months."""
    if days >= 365:
        years = round(days / 365.25)
        return f"hace {years} año{'s' if years != 1 else ''}"
    months = max(1, round(days / 30.4))
    return f"hace {months} mes{'es' if months != 1 else ''}"


def _spanish(sentence: str) -> str:
    """Counts of one in singular, decimal commas (Peruvian usage), composed accents."""
    return unicodedata.normalize("NFC", re.sub(r"(?<=\d)\.(?=\d)", ",", _singular(sentence)))


def render_reason(spec: FeatureSpec, value: object, settings: ReasonsConfig,
                  row: Mapping[str, Any] | None = None) -> str | None:
    """One Spanish sentence for a feature and the workplace's value; None if it cannot be said.

    `row` is the workplace's whole feature row: the privacy rule reads its declared workers.
    The workplace's own inspections are said together by `inspection_history`.
    """
    if _is_missing(value) or _is_zero(value):
        return None
    if is_complaint_based(spec):
        sentence = _complaint_sentence(spec, float(value), settings, row)
    elif spec.source == "workplaces":
        sentence = _registry_sentence(spec, value)
    else:
        sentence = spec.reason_es.format(value=float(value))
    return None if sentence is None else _spanish(sentence)


def _history_part(family: str, value: float, catalog: Mapping[str, FeatureSpec],
                  visits: float) -> str:
    """One result of the history, from the catalog's all-time sentence without its window:
    "2 hallazgos de retención de documentos"; counts of inspections as "2 con infracción"
    ("con infracción" after a single inspection)."""
    spec = catalog[f"{family}_all"]
    part = spec.reason_es.format(value=value).removesuffix(f" {ALL_TIME_ES}")
    counted = re.match(r"(\d+) inspecciones (.+)", part)
    if counted is None:
        return part
    return counted.group(2) if visits == 1 else f"{counted.group(1)} {counted.group(2)}"


def inspection_history(raised: Mapping[str, float], row: Mapping[str, Any],
                       catalog: Mapping[str, FeatureSpec]) -> str:
    """The workplace's own inspections in ONE sentence, so no inspection is told twice: how
    many, the last one's age, then the results that raised the risk (`raised`: per feature
    family, its largest contribution above the listed workplaces' typical one), most
    distinctive first, e.g. "3 inspecciones, la última hace 1 año: 1 hallazgo de trabajo
    forzoso, 2 con infracción"."""
    visits = _row_value(row, "inspections_all")
    visits = 0.0 if _is_missing(visits) else float(visits)
    days = _row_value(row, "days_since_last_inspection")
    when = "" if _is_missing(days) else _ago(float(days))
    if visits == 1:
        head = f"1 inspección{', ' + when if when else ''}"
    elif visits > 1:
        head = f"{visits:.0f} inspecciones{', la última ' + when if when else ''}"
    else:
        head = f"inspeccionado, la última vez {when}" if when else "inspeccionado"
    parts = [_history_part(family, float(_row_value(row, f"{family}_all")), catalog, visits)
             for family in sorted(raised, key=raised.get, reverse=True)
             if family not in HISTORY_HEADER and f"{family}_all" in catalog
             and not _is_missing(_row_value(row, f"{family}_all"))
             and not _is_zero(_row_value(row, f"{family}_all"))][:MAX_HISTORY_PARTS]
    return _spanish(head + (": " + ", ".join(parts) if parts else ""))


def _is_own_inspection(spec: FeatureSpec) -> bool:
    return spec.source == "inspections" and not is_complaint_based(spec)


def _candidates(contributions: pd.Series, values: pd.Series,
                catalog: Mapping[str, FeatureSpec], settings: ReasonsConfig,
                typical: pd.Series) -> list[tuple]:
    """(level, -distinct, -contribution, sentence, topic) of every sayable positive contribution;
    the own inspections merged into one `inspection_history` candidate ranked by its best part."""
    candidates, history, best = [], {}, None
    for feature, contribution in contributions[contributions > 0].items():
        spec = catalog.get(str(feature))
        if spec is None or _is_missing(values[feature]) or _is_zero(values[feature]):
            continue
        distinct = float(contribution) - float(typical.get(feature, 0.0))
        key = (EVIDENCE, -distinct, -float(contribution))
        if _is_own_inspection(spec):
            family = spec.name.removesuffix(f"_{spec.window}")
            history[family] = max(history.get(family, -math.inf), distinct)
            best = key if best is None else min(best, key)
            continue
        sentence = render_reason(spec, values[feature], settings, values)
        if sentence is not None:
            candidates.append((reason_level(spec), key[1], key[2], sentence, reason_topic(spec)))
    if best is not None:
        candidates.append((*best, inspection_history(history, values, catalog), "inspections"))
    return candidates


def workplace_reasons(contributions: pd.Series, values: pd.Series,
                      catalog: Mapping[str, FeatureSpec], settings: ReasonsConfig,
                      typical: pd.Series | None = None) -> list[str]:
    """Up to `top` distinct sentences: evidence, then registry, then area; one per topic.

    Within a level, what sets this workplace apart comes first: its contribution above the
    `typical` one (the mean positive contribution of that feature over the listed workplaces),
    then the larger contribution. A factor that pushes every listed workplace alike would
    otherwise open every row and tell the planner nothing about this one. A workplace with
    positive contributions of which none can be said gets the fallback sentence.
    """
    typical = pd.Series(0.0, index=contributions.index) if typical is None else typical
    sentences: list[str] = []
    topics: set[str] = set()
    for *_, sentence, topic in sorted(_candidates(contributions, values, catalog, settings,
                                                  typical)):
        if sentence in sentences or topic in topics:
            continue
        topics.add(topic)
        sentences.append(sentence)
        if len(sentences) == settings.top:
            break
    return sentences or [settings.fallback_es]


PLURAL_ES = {singular: plural for plural, singular in SINGULAR_ES.items()}


def reason_template(sentence: str) -> str:
    """A sentence with its numbers masked and words in plural: reasons that differ only in a
    count ("1 inspección", "3 inspecciones") share one template."""
    def plural(match: re.Match) -> str:
        return "# " + " ".join(PLURAL_ES.get(w, w) for w in match.group(1).split(" "))
    masked = re.sub(r"\d+(?:[.,]\d+)?", "#", sentence)
    return re.sub(r"# (\w+(?: \w+)?)", plural, masked)


def reasons_frame(explanation: Explanation, catalog: Mapping[str, FeatureSpec],
                  settings: ReasonsConfig) -> pd.DataFrame:
    """reason_1..reason_3 per explained workplace ("" where fewer reasons can be said)."""
    uncatalogued = [c for c in explanation.values.columns if c not in catalog]
    if uncatalogued:
        log.warning("features without a catalog entry never become reasons: %s", uncatalogued)
    typical = explanation.values.clip(lower=0).mean()
    rows = {
        workplace: workplace_reasons(explanation.values.loc[workplace],
                                     explanation.data.loc[workplace], catalog, settings, typical)
        for workplace in explanation.values.index
    }
    columns = [f"reason_{i + 1}" for i in range(settings.top)]
    return pd.DataFrame(
        [sentences + [""] * (len(columns) - len(sentences)) for sentences in rows.values()],
        index=explanation.values.index, columns=columns,
    )


def reasons_for_workplaces(model: object, features: pd.DataFrame, workplace_ids: pd.Index,
                           catalog: Mapping[str, FeatureSpec],
                           settings: ReasonsConfig,
                           background_rows: int, seed: int) -> pd.DataFrame:
    """Explain only the listed workplaces (SHAP is costly) against the whole frame as background."""
    explanation = explain(model, features.loc[workplace_ids], background=features,
                          background_rows=background_rows, seed=seed)
    return reasons_frame(explanation, catalog, settings)

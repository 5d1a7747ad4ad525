"""The feature catalog: every feature's meaning, source, window and the Spanish words planners read.

Reasons on the lists are rendered from `reason_es`, so a feature without a catalog entry cannot
reach a planner. `docs/FEATURES.md` is generated from this catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class FeatureSpec:
    """One feature as documented for data scientists (English) and planners (Spanish).

    - `reason_es` is a format string with `{value}` (the workplace's own value), e.g.
      "{value:.0f} hallazgos de retención de documentos en los últimos 3 años".
    - `monotonic` is +1 when the domain says more of it never lowers risk, -1 for the reverse,
      0 when the domain is silent; tree models may use it as a monotonic constraint.
    - `complaint_derived` marks features computed from complaints, whose rendering in reasons is
      limited by the privacy rule in config so that no complainant can be singled out.
    - `registry_snapshot` marks features read from registry fields that inspections can change
      (declared workers, size band, establishments, contractor links): the contract holds
      today's value only, so at a past as-of date they may carry what an inspection caused.
    """

    name: str
    meaning: str
    source: str  # workplaces, inspections, complaints, districts, network, area_rates
    window: str  # e.g. "1y", "3y", "all", "static"
    label_es: str
    reason_es: str
    kind: str = "numeric"  # numeric or categorical
    monotonic: int = 0
    complaint_derived: bool = False
    registry_snapshot: bool = False


# Windows over the history before the as-of date; the Spanish phrase closes a reason sentence.
WINDOWS: dict[str, tuple[int | None, str]] = {
    "1y": (1, "en el último año"),
    "3y": (3, "en los últimos 3 años"),
    "all": (None, "en todo el historial"),
}

# ILO forced-labour indicators grouped into the families planners recognise (DOMAIN.md).
INDICATOR_FAMILIES: dict[str, tuple[tuple[str, ...], str]] = {
    "documents": (("retention_of_documents",), "retención de documentos"),
    "debt": (("debt_bondage",), "servidumbre por deudas"),
    "wages": (("withholding_of_wages",), "retención de salarios"),
    "movement": (
        ("restriction_of_movement", "isolation"),
        "restricción de movimiento o aislamiento",
    ),
    "violence": (
        ("physical_sexual_violence", "intimidation_threats"),
        "violencia o amenazas",
    ),
    "deception": (("deception", "abuse_of_vulnerability"), "engaño o abuso de vulnerabilidad"),
    "conditions": (
        ("abusive_conditions", "excessive_overtime"),
        "condiciones abusivas u horas extra excesivas",
    ),
}

# Complaint topics grouped by the forced-labour mechanism they hint at.
TOPIC_GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "wages_debt": (("unpaid_wages", "debt"), "salarios impagos o deudas"),
    "documents": (("withheld_documents",), "documentos retenidos"),
    "coercion": (("threats_violence", "confinement"), "amenazas, violencia o encierro"),
    "deception": (
        ("recruitment_deception", "no_contract"),
        "engaño en la contratación o falta de contrato",
    ),
    "conditions": (
        ("excessive_hours", "unsafe_conditions"),
        "jornadas excesivas o condiciones inseguras",
    ),
    "child": (("child_labour",), "trabajo infantil"),
}

ORIGIN_ES = {
    "complaint": "originadas en denuncia",
    "planned": "planificadas",
    "ex_officio": "de oficio",
    "authority_request": "a pedido de otra autoridad",
}
CHANNEL_ES = {
    "web": "web", "phone": "teléfono", "in_person": "presencial", "referral": "derivación",
}

# CIIU Rev.4 classes DOMAIN.md names as forced-labour settings: 2 = extractive and hidden work
# (gold mining, logging, forest products, brick kilns, domestic work), 1 = other named sectors.
SECTOR_RISK_VERY_HIGH_CLASSES = ("0729", "0220", "0230", "2392", "9700")
SECTOR_RISK_HIGH_CLASSES = ("0311", "0312", "1410", "5510", "5610")
SECTOR_RISK_HIGH_DIVISIONS = ("01", "41", "42", "43")


def _history_rows() -> list[tuple[str, str, str, str, str, int]]:
    """(name, source, meaning, Spanish label, Spanish reason, monotonic) for one window."""
    rows = [
        ("inspections", "inspections", "Inspections ordered (existence known from ordered_on)",
         "Inspecciones", "{value:.0f} inspecciones", 0),
    ]
    rows += [
        (f"inspections_{origin}", "inspections", f"Inspections ordered with origin {origin}",
         f"Inspecciones {origin_es}", f"{{value:.0f}} inspecciones {origin_es}", 0)
        for origin, origin_es in ORIGIN_ES.items()
    ]
    rows += [
        ("inspections_specialized", "inspections",
         "Inspections by the specialised forced/child labour team",
         "Inspecciones del equipo especializado",
         "{value:.0f} inspecciones del equipo especializado en trabajo forzoso e infantil", 1),
        ("infractions", "inspections",
         "Inspections whose known outcome (closed_on < t) was an infraction",
         "Inspecciones con infracción", "{value:.0f} inspecciones con infracción", 1),
        ("fl_indicators", "inspections",
         "ILO forced-labour indicators documented in known outcomes",
         "Indicadores OIT de trabajo forzoso", "{value:.0f} indicadores OIT de trabajo forzoso", 1),
    ]
    rows += [
        (f"fl_{family}", "inspections",
         f"Inspections whose known outcome documents {' or '.join(codes)}",
         f"Hallazgos de {family_es}", f"{{value:.0f}} hallazgos de {family_es}", 1)
        for family, (codes, family_es) in INDICATOR_FAMILIES.items()
    ]
    rows += [
        ("forced_labour_found", "inspections", "Known outcomes concluding forced labour",
         "Hallazgos de trabajo forzoso", "{value:.0f} hallazgos de trabajo forzoso", 1),
        ("child_labour_found", "inspections", "Known outcomes finding child labour",
         "Hallazgos de trabajo infantil", "{value:.0f} hallazgos de trabajo infantil", 1),
        ("fines_uit", "inspections", "Proposed fines in known outcomes, in UIT",
         "Multas propuestas (UIT)", "multas propuestas por {value:.1f} UIT", 1),
        ("victims", "inspections", "Victims identified in known outcomes",
         "Víctimas identificadas", "{value:.0f} víctimas identificadas", 1),
        ("complaints", "complaints", "Complaints received (known from received_on)",
         "Denuncias recibidas", "{value:.0f} denuncias", 1),
    ]
    rows += [
        (f"complaints_{group}", "complaints", f"Complaints with a topic in {', '.join(codes)}",
         f"Denuncias sobre {group_es}", f"{{value:.0f}} denuncias sobre {group_es}", 1)
        for group, (codes, group_es) in TOPIC_GROUPS.items()
    ]
    rows += [
        (f"complaints_{channel}", "complaints",
         f"Complaints received through the {channel} channel",
         f"Denuncias por canal {channel_es}", f"{{value:.0f}} denuncias por canal {channel_es}", 1)
        for channel, channel_es in CHANNEL_ES.items()
    ]
    return rows


def _history_specs() -> list[FeatureSpec]:
    """Counts over the inspection and complaint history, one spec per family and window."""
    return [
        FeatureSpec(
            name=f"{name}_{window}", meaning=f"{meaning} ({window} before the as-of date)",
            source=source, window=window, label_es=f"{label} ({when})",
            reason_es=f"{reason} {when}", monotonic=mono,
            complaint_derived=source == "complaints",
        )
        for window, (_, when) in WINDOWS.items()
        for name, source, meaning, label, reason, mono in _history_rows()
    ]


def _spec(name: str, meaning: str, source: str, label_es: str, reason_es: str,
          **traits: Any) -> FeatureSpec:
    """A static or network spec: window "static" unless `traits` say otherwise; the other
    `traits` (kind, monotonic, complaint_derived) are FeatureSpec's own fields."""
    return FeatureSpec(name=name, meaning=meaning, source=source, label_es=label_es,
                       reason_es=reason_es, **{"window": "static", **traits})


_OTHER_SPECS = [
    _spec("days_since_last_inspection",
          "Days from the last inspection ordered before t to t; NaN when never inspected",
          "inspections", "Días desde la última inspección",
          "{value:.0f} días desde la última inspección", window="all"),
    _spec("days_since_last_complaint",
          "Days from the last complaint received before t to t; NaN when none",
          "complaints", "Días desde la última denuncia",
          "{value:.0f} días desde la última denuncia", window="all", monotonic=-1,
          complaint_derived=True),
    _spec("ciiu_division", "CIIU Rev.4 division (first two digits of ciiu)", "workplaces",
          "División CIIU", "actividad económica de la división CIIU {value}", kind="categorical"),
    _spec("ciiu_class", "CIIU Rev.4 class (four digits)", "workplaces", "Clase CIIU",
          "actividad económica CIIU {value}", kind="categorical"),
    _spec("department_code", "INEI department code (first two digits of ubigeo)", "workplaces",
          "Departamento", "departamento con código INEI {value}", kind="categorical"),
    _spec("sector_risk_group",
          "2 = gold mining, logging, forest products, bricks, domestic work; 1 = agriculture, "
          "fishing, apparel, construction, hotels and restaurants; 0 = other (DOMAIN.md)",
          "workplaces", "Grupo de riesgo del sector",
          "sector de riesgo alto de trabajo forzoso (grupo {value:.0f} de 2)", monotonic=1),
    _spec("size_band_ordinal", "Size band as 0 micro, 1 pequeña, 2 mediana, 3 grande "
          "(latest registry_periods row before t when given, else the registry snapshot)",
          "workplaces", "Tamaño de empresa",
          "tamaño de empresa (nivel {value:.0f} de 3)"),
    _spec("labour_regime", "Labour regime code", "workplaces", "Régimen laboral",
          "régimen laboral {value}", kind="categorical"),
    _spec("age_years", "Years since activity_start at t, 0 when activities start after t",
          "workplaces", "Antigüedad (años)", "{value:.0f} años de actividad"),
    _spec("declared_workers", "Workers declared in the electronic payroll (latest "
          "registry_periods row before t when given, else the registry snapshot)", "workplaces",
          "Trabajadores declarados",
          "{value:.0f} trabajadores declarados en planilla"),
    _spec("natural_person", "1 when the RUC belongs to a natural person (prefix 10)",
          "workplaces", "Persona natural con negocio", "empleador persona natural"),
    _spec("establishments_same_ruc", "Workplaces registered under the same RUC", "workplaces",
          "Establecimientos del mismo RUC", "{value:.0f} establecimientos con el mismo RUC"),
    _spec("is_subcontractor", "1 when contractor_of names a principal RUC", "workplaces",
          "Subcontratista o intermediario", "subcontratista o intermediario de otra empresa",
          monotonic=1),
    _spec("district_poverty_pct", "Total monetary poverty of the district, % (INEI); missing "
          "districts take the province, else department, else national mean", "districts",
          "Pobreza del distrito (%)", "distrito con {value:.0f}% de pobreza", monotonic=1),
    _spec("district_extreme_poverty_pct", "Extreme poverty of the district, % (INEI); imputed "
          "like poverty", "districts", "Pobreza extrema del distrito (%)",
          "distrito con {value:.0f}% de pobreza extrema", monotonic=1),
    _spec("district_hdi", "Human development index 2019 of the district; imputed like poverty",
          "districts", "IDH del distrito", "distrito con IDH de {value:.2f}", monotonic=-1),
    _spec("district_density", "Population per km² in 2020; imputed like poverty", "districts",
          "Densidad poblacional", "distrito con {value:.0f} habitantes por km²"),
    _spec("district_altitude_m", "District capital altitude, m; imputed like poverty",
          "districts", "Altitud (m)", "distrito a {value:.0f} m de altitud"),
    _spec("district_food_vulnerability", "Food vulnerability index of the district; imputed "
          "like poverty", "districts", "Vulnerabilidad alimentaria",
          "distrito con índice de vulnerabilidad alimentaria de {value:.2f}", monotonic=1),
    _spec("km_to_department_capital", "Great-circle km from the district to its department "
          "capital (district DD0101) from the real coordinates", "districts",
          "Distancia a la capital departamental (km)",
          "a {value:.0f} km de la capital del departamento"),
    _spec("km_to_lima", "Great-circle km from the district to Lima (150101)", "districts",
          "Distancia a Lima (km)", "a {value:.0f} km de Lima"),
    _spec("low_density", "1 when the district has fewer than 10 inhabitants per km² "
          "(remote, sparsely populated)", "districts", "Zona poco poblada",
          "distrito remoto y poco poblado"),
    _spec("principal_fl_findings", "Forced-labour findings known before t at the principal's "
          "workplaces (contractor_of RUC)", "network", "Trabajo forzoso en la empresa principal",
          "subcontratista de una empresa con {value:.0f} hallazgos de trabajo forzoso",
          window="all", monotonic=1),
    _spec("principal_indicator_findings", "Known inspections with any ILO indicator at the "
          "principal's workplaces", "network", "Indicadores OIT en la empresa principal",
          "subcontratista de una empresa con {value:.0f} inspecciones con indicadores de "
          "trabajo forzoso", window="all", monotonic=1),
    _spec("principal_infractions", "Known infractions at the principal's workplaces",
          "network", "Infracciones en la empresa principal",
          "subcontratista de una empresa con {value:.0f} infracciones", window="all",
          monotonic=1),
    _spec("co_contractor_fl_findings", "Forced-labour findings known before t at other "
          "subcontractors of the same principal", "network",
          "Trabajo forzoso en otros subcontratistas",
          "otros subcontratistas de la misma empresa principal con {value:.0f} hallazgos de "
          "trabajo forzoso", window="all", monotonic=1),
    _spec("same_ruc_fl_findings", "Forced-labour findings known before t at other "
          "establishments of the same RUC", "network", "Trabajo forzoso en otros locales",
          "{value:.0f} hallazgos de trabajo forzoso en otros locales de la misma empresa",
          window="all", monotonic=1),
    _spec("same_ruc_indicator_findings", "Known inspections with any ILO indicator at other "
          "establishments of the same RUC", "network", "Indicadores OIT en otros locales",
          "{value:.0f} inspecciones con indicadores de trabajo forzoso en otros locales de la "
          "misma empresa", window="all", monotonic=1),
    _spec("same_ruc_infractions", "Known infractions at other establishments of the same RUC",
          "network", "Infracciones en otros locales",
          "{value:.0f} infracciones en otros locales de la misma empresa", window="all",
          monotonic=1),
]

AREA_LEVELS_ES = {
    "district": "el distrito",
    "province": "la provincia",
    "ciiu_department": "su actividad en el departamento",
}
AREA_OUTCOMES_ES = {"fl": "trabajo forzoso", "infraction": "infracción"}


def _area_specs() -> list[FeatureSpec]:
    """Leave-one-out, prior-smoothed finding rates per inspection in the workplace's areas."""
    return [
        FeatureSpec(
            name=f"area_{outcome}_rate_{level}",
            meaning=f"Share of known inspections with {outcome} findings in the {level} "
            "(outcomes closed before t), excluding this workplace's own inspections and "
            "smoothed toward the parent area's rate (district -> province -> department -> "
            "nation; CIIU division x department -> division -> nation) with an additive prior",
            source="area_rates", window="all",
            label_es=f"Tasa de {outcome_es} en {level_es}",
            reason_es=f"{{value:.1%}} de las inspecciones en {level_es} hallaron {outcome_es}",
            monotonic=1,
        )
        for outcome, outcome_es in AREA_OUTCOMES_ES.items()
        for level, level_es in AREA_LEVELS_ES.items()
    ]


# Registry fields an inspection can change (an employer formalises workers, splits or closes
# establishments, ends a subcontract): today's values at every past as-of date.
REGISTRY_SNAPSHOT_FEATURES = frozenset({
    "size_band_ordinal", "declared_workers", "establishments_same_ruc", "is_subcontractor",
    "principal_fl_findings", "principal_indicator_findings", "principal_infractions",
    "co_contractor_fl_findings",
})

# Of those, the ones the optional `registry_periods` table gives as of each date (source column
# -> feature): with the table, they hold the latest period's value strictly before t.
REGISTRY_PERIOD_FEATURES = {"declared_workers": "declared_workers",
                            "size_band": "size_band_ordinal"}

FEATURE_CATALOG: dict[str, FeatureSpec] = {
    spec.name: replace(spec, registry_snapshot=spec.name in REGISTRY_SNAPSHOT_FEATURES)
    for spec in [*_history_specs(), *_OTHER_SPECS, *_area_specs()]
}

"""Fake but realistic Peruvian names and documents, drawn from seeded lists.

The names exist so that the privacy rules (personal columns dropped at ingestion) can be tested
on data that looks like the real thing: accents, ñ, two surnames, Venezuelan migrants with
foreigner's cards. None of them refers to a real person or firm.
"""

from __future__ import annotations

import numpy as np

FIRST_NAMES = (
    "Juan", "José", "Luis", "Carlos", "Jorge", "Víctor", "César", "Raúl", "Ángel", "Julio",
    "Martín", "Jesús", "Efraín", "Rubén", "Hernán", "Iván", "Óscar", "Néstor", "Teófilo",
    "Wílber", "Edwin", "Percy", "Walter", "Yuri", "Máximo", "Simón", "Nicanor", "Saúl",
    "María", "Rosa", "Ana", "Carmen", "Julia", "Lucía", "Sofía", "Mónica", "Inés", "Raquel",
    "Gladys", "Yolanda", "Flor", "Marisol", "Rocío", "Begoña", "Nélida", "Zoraida", "Maribel",
    "Fortunata", "Eugenia", "Verónica", "Judith", "Milagros", "Ximena", "Sonia", "Noemí",
)
VENEZUELAN_FIRST_NAMES = (
    "Yorman", "Yéiber", "Deivis", "Jhonder", "Wuilmer", "Yusneidy", "Dayana", "Oriana",
    "Yuleisy", "Génesis", "Andreína", "Maryelis", "Rosángela", "Leidimar", "Anyelo", "Yonaiker",
)
SURNAMES = (
    "Quispe", "Mamani", "Huamán", "Condori", "Choque", "Apaza", "Ccama", "Ticona", "Vilca",
    "Cusi", "Ñahui", "Ñaupari", "Yáñez", "Peña", "Muñoz", "Ibáñez", "Núñez", "Cóndor",
    "Chávez", "Gómez", "Pérez", "Rodríguez", "Sánchez", "Flores", "García", "Ramírez",
    "Vásquez", "Díaz", "Torres", "López", "Castillo", "Mendoza", "Rojas", "Gutiérrez",
    "Huanca", "Cárdenas", "Salazar", "Tapia", "Espinoza", "Paucar", "Ayala", "Inga",
    "Huarcaya", "Ccori", "Yupanqui", "Añazco", "Zúñiga", "Ordóñez", "Mendívil", "Alarcón",
)
VENEZUELAN_SURNAMES = (
    "Hernández", "González", "Rodríguez", "Pérez", "Martínez", "Briceño", "Useche", "Rangel",
    "Colmenares", "Carrillo", "Piñango", "Guédez", "Aponte", "Montilla",
)

BUSINESS_PREFIXES = {
    "mining": ("Minera Aurífera", "Corporación Minera", "Compañía Minera", "Minera"),
    "logging": ("Maderera", "Forestal", "Industrial Maderera", "Aserradero"),
    "nuts": ("Castañera", "Recolectora Amazónica", "Exportadora de Castañas"),
    "agro": ("Agroexportadora", "Agrícola", "Fundo", "Agroindustrial"),
    "fishing": ("Pesquera", "Inversiones Pesqueras", "Armadora Pesquera"),
    "garments": ("Confecciones", "Textil", "Creaciones", "Industrias Textiles"),
    "bricks": ("Ladrillera", "Ladrillos", "Fábrica de Ladrillos"),
    "construction": ("Constructora", "Contratistas Generales", "Ingeniería y Construcción"),
    "hospitality": ("Hotel", "Hostal", "Restaurante", "Pollería", "Cevichería"),
    "domestic": ("Servicios del Hogar",),
    "trade": ("Comercial", "Distribuidora", "Inversiones", "Importaciones", "Bodega"),
    "transport": ("Transportes", "Empresa de Transportes", "Turismo y Transportes"),
    "manufacturing": ("Panificadora", "Industrias Alimentarias", "Molino"),
    "services": ("Servicios Generales", "Consultora", "Seguridad Integral", "Corporación"),
}
BUSINESS_CORES = (
    "Los Andes", "El Dorado", "Santa Rosa", "San Martín de Porres", "Señor de los Milagros",
    "Inca", "Amazonía", "Nuevo Amanecer", "Pachacútec", "Huáscar", "Sol del Pacífico",
    "Virgen de la Candelaria", "Cóndor Real", "Tres Hermanos", "Ñusta", "Killa", "Wari",
    "Chimú", "Tahuantinsuyo", "Río Madre", "La Esperanza", "Sagrado Corazón", "Señor de Muruhuay",
    "Perú Norte", "Mi Perú", "Cruz del Sur", "Valle Verde", "Vilcanota", "Mañaraní", "Titicaca",
)
LEGAL_FORMS = ("S.A.C.", "E.I.R.L.", "S.R.L.", "S.A.")
LEGAL_FORM_WEIGHTS = np.array([0.55, 0.25, 0.12, 0.08])


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def person_names(
    rng: np.random.Generator, venezuelan: np.ndarray, registry_style: bool = False
) -> np.ndarray:
    """Full names: 'Nombre Apellido Apellido', or SUNAT's 'APELLIDO APELLIDO NOMBRE' style."""
    n = len(venezuelan)
    first = np.where(venezuelan, _pick(rng, VENEZUELAN_FIRST_NAMES, n), _pick(rng, FIRST_NAMES, n))
    second_given = _pick(rng, FIRST_NAMES, n)
    double = rng.random(n) < 0.35
    given = np.where(double, first + " " + second_given, first)
    surnames_pool = np.where(
        venezuelan[:, None],
        _pick(rng, VENEZUELAN_SURNAMES, 2 * n).reshape(n, 2),
        _pick(rng, SURNAMES, 2 * n).reshape(n, 2),
    )
    surnames = surnames_pool[:, 0] + " " + surnames_pool[:, 1]
    if registry_style:
        return np.array([s.upper() for s in surnames + " " + given], dtype=object)
    return given + " " + surnames


def business_names(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    """Plausible company names by sector group, e.g. 'Minera Aurífera El Dorado S.A.C.'."""
    n = len(groups)
    prefixes = np.empty(n, dtype=object)
    for group, options in BUSINESS_PREFIXES.items():
        mask = groups == group
        prefixes[mask] = _pick(rng, options, int(mask.sum()))
    cores = np.where(
        rng.random(n) < 0.3,
        _pick(rng, SURNAMES, n) + " Hermanos",
        _pick(rng, BUSINESS_CORES, n),
    )
    forms = np.asarray(LEGAL_FORMS, dtype=object)[
        rng.choice(len(LEGAL_FORMS), size=n, p=LEGAL_FORM_WEIGHTS)
    ]
    return prefixes + " " + cores + " " + forms


def identity_documents(rng: np.random.Generator, foreign: np.ndarray) -> np.ndarray:
    """DNI (8 digits) for Peruvians, foreigner's card (9 digits, leading zeros) for migrants."""
    n = len(foreign)
    dni = rng.integers(10_000_000, 79_999_999, n)
    card = rng.integers(1_000_000, 9_999_999, n)
    return np.where(
        foreign,
        np.char.zfill(card.astype(str), 9).astype(object),
        dni.astype(str).astype(object),
    )


STREET_TYPES = ("Av.", "Jr.", "Calle", "Psje.", "Prol.")
STREET_TYPE_WEIGHTS = np.array([0.3, 0.3, 0.25, 0.08, 0.07])
STREET_NAMES = (
    "Grau", "Bolognesi", "Túpac Amaru", "Arequipa", "Los Incas", "San Martín", "Ramón Castilla",
    "Próspero", "Sargento Lores", "Andrés Avelino Cáceres", "Huáscar", "Las Begonias",
    "Mariscal Nieto", "José Olaya", "Señor de los Milagros", "Micaela Bastidas", "Ayacucho",
    "Independencia", "La Marina", "Miraflores", "28 de Julio", "Amazonas", "Ucayali", "Ñaña",
)
RURAL_PLACES = ("Caserío", "Centro Poblado", "Comunidad Nativa", "Anexo", "Fundo")


def addresses(rng: np.random.Generator, districts: np.ndarray, rural: np.ndarray) -> np.ndarray:
    """Establishment addresses: 'Jr. Próspero 452, Iquitos', or a rural place; some unknown.

    `rural` marks sparsely populated districts, where addresses name a place, not a street.
    Draw them from their own generator so no other column of the demo world changes.
    """
    n = len(districts)
    kinds = np.asarray(STREET_TYPES, dtype=object)[
        rng.choice(len(STREET_TYPES), size=n, p=STREET_TYPE_WEIGHTS)]
    numbers = rng.integers(1, 2000, n).astype(str)
    street = kinds + " " + _pick(rng, STREET_NAMES, n) + " " + numbers
    place = _pick(rng, RURAL_PLACES, n) + " " + _pick(rng, BUSINESS_CORES, n)
    text = np.where(rural, place, street) + ", " + districts.astype(object)
    return np.where(rng.random(n) < 0.04, None, text)

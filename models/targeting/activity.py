"""Economic activities in words: Spanish titles of CIIU Rev.4 codes (reference data).

A bare code ("CIIU 1410") tells a planner nothing; lists and reasons say the title instead.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from settings import inputs


@cache
def ciiu_titles(path: Path = inputs.CIIU_TITLES.path) -> dict[str, str]:
    """Spanish titles of CIIU Rev.4 divisions (2 digits) and classes (4 digits), reference data."""
    table = pd.read_csv(path, dtype=str)
    return dict(zip(table["code"], table["title_es"], strict=True))


def activity_title(ciiu: object) -> str | None:
    """The class title, else its division's title, else None (a bare code is never said)."""
    code = str(ciiu)
    titles = ciiu_titles()
    return titles.get(code) or titles.get(code[:2])


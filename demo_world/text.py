"""Public columns as they appear in CSV: ISO dates, true/false and ';'-joined codes."""

from __future__ import annotations

import numpy as np


def join_codes(matrix: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """Boolean code matrix -> ';'-joined strings, via the few distinct rows (no per-row loop)."""
    keys = matrix.astype(np.int64) @ (1 << np.arange(matrix.shape[1], dtype=np.int64))
    unique, inverse = np.unique(keys, return_inverse=True)
    text = [";".join(c for j, c in enumerate(codes) if key >> j & 1) for key in unique]
    return np.asarray(text, dtype=object)[inverse]


def iso(dates: np.ndarray) -> np.ndarray:
    """Dates as YYYY-MM-DD text; missing dates (NaT) as None, an empty CSV cell."""
    text = np.datetime_as_string(dates.astype("datetime64[D]"), unit="D").astype(object)
    text[np.isnat(dates)] = None
    return text


def bool_text(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false").astype(object)

"""Precision at k against the demo world's hidden truth, for models, baselines and the oracle.

Inspected labels only show what inspectors happened to find. In the demo world we also know
which workplaces really were in forced labour, so a list can be scored on all of its k
workplaces: truth precision@k = workplaces of the top k in forced labour at `as_of` (or
during [as_of, as_of + horizon)) / k. The oracle ranks by the hidden latent risk: it is the
best a list can hope for, so model / oracle says how close to the limit the model is.
Ranking and ties follow models.metrics (score descending, then sha256 of the workplace id).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluation.truth import forced_labour_active, latent_risk
from models.metrics import top_k_ids

ORACLE = "oracle:latent_risk"


def truth_precision_at_k(active: pd.Series, scores: pd.Series, k: int) -> float:
    """Share of the top k (by `scores`) really in forced labour; workplaces unknown to truth count
    as not active."""
    top = top_k_ids(scores, min(k, len(scores)))
    if not top:
        return float("nan")
    return float(active.reindex(top).fillna(False).astype(bool).mean())


def truth_table(truth: Mapping[str, pd.DataFrame], as_of: str | pd.Timestamp,
                horizon_months: int, scores_by_group: Mapping[str, pd.Series],
                k: int) -> pd.DataFrame:
    """Rows per model group plus the oracle: truth precision@k, share of the oracle, base rate.

    `scores_by_group[group]` holds one score per workplace (index `workplace_id`) for `as_of`.
    """
    active = forced_labour_active(truth, as_of, horizon_months)
    oracle_scores = latent_risk(truth, as_of).reindex(active.index).fillna(0.0)
    oracle = truth_precision_at_k(active, oracle_scores, k)
    rows = [{"model_group": ORACLE, "truth_precision_at_k": oracle}]
    rows += [
        {"model_group": group, "truth_precision_at_k": truth_precision_at_k(active, scores, k)}
        for group, scores in scores_by_group.items()
    ]
    table = pd.DataFrame(rows)
    table["share_of_oracle"] = table["truth_precision_at_k"] / oracle if oracle > 0 else float(
        "nan"
    )
    table["k"] = k
    table["as_of"] = pd.Timestamp(as_of)
    table["horizon_months"] = horizon_months
    table["base_rate"] = float(active.mean())
    table["active_workplaces"] = int(active.sum())
    return table

"""Figures for the reports (matplotlib, Agg): the split plan, calibration, SHAP importance,
the fairness audit.

Stage modules compute tables and explanations; the figures of them are drawn here, so the run
report, MLflow, the planners' HTML and the notebooks draw them alike.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from features.splits import Split  # noqa: E402
from models.explaining.explain import Explanation, global_importance  # noqa: E402
from models.monitoring.fairness import ATTRIBUTES  # noqa: E402
from settings import files


def plot_split_plan(splits: list[Split], path: str | Path) -> Path:
    """Draw each split's training label windows and its test window (PNG via matplotlib Agg)."""
    fig, ax = plt.subplots(figsize=(10, 1 + 0.6 * len(splits)))
    for row, split in enumerate(splits):
        for k, t in enumerate(split.train_as_of_dates):
            end = t + pd.DateOffset(months=split.label_timespan_months)
            ax.plot([t, end], [row - 0.15 + 0.3 * k / max(1, len(split.train_as_of_dates)),
                               row - 0.15 + 0.3 * k / max(1, len(split.train_as_of_dates))],
                     color="tab:blue", linewidth=2, label="training label window" if
                     row == 0 and k == 0 else None)
        test_end = split.test_as_of + pd.DateOffset(months=split.label_timespan_months)
        ax.plot([split.test_as_of, test_end], [row + 0.25, row + 0.25], color="tab:red",
                linewidth=5, label="test label window" if row == 0 else None)
        ax.axvline(split.test_as_of, color="tab:red", linewidth=0.5, linestyle=":")
    ax.set_yticks(range(len(splits)), [f"test {s.test_as_of:%Y-%m-%d}" for s in splits])
    ax.set_xlabel("as-of date and label window")
    ax.set_title("Split plan: training label windows end by the test as-of date")
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    out = Path(path)
    with files.replaced(out) as partial:
        fig.savefig(partial, dpi=100, format="png")
    plt.close(fig)
    return out


def plot_calibration(table: pd.DataFrame, title: str = "Calibration"):
    """A reliability diagram (matplotlib Figure) from `models.metrics.calibration_table`."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    top = float(max(table["mean_predicted"].max(), table["observed_rate"].max(), 0.01)) \
        if len(table) else 1.0
    axis.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
    axis.plot(table["mean_predicted"], table["observed_rate"], marker="o", label="model")
    axis.set_xlabel("mean predicted probability")
    axis.set_ylabel("observed rate among labelled")
    axis.set_title(title)
    axis.legend(loc="upper left")
    figure.tight_layout()
    return figure


def _labels(names: list[str], labels_es: dict[str, str] | None) -> list[str]:
    return [(labels_es or {}).get(n, n) for n in names]


def importance_bar_figure(explanation: Explanation, labels_es: dict[str, str] | None,
                          top: int) -> Figure:
    """Horizontal bar chart of mean |SHAP| per raw feature (Spanish labels when given)."""
    importance = global_importance(explanation).head(top)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(importance) + 1.2))
    ax.barh(_labels(list(importance.index), labels_es), importance.to_numpy(), color="#b03a2e")
    unit = "log-odds" if explanation.output == "log_odds" else "probabilidad"
    ax.set_xlabel(f"Contribución media absoluta (SHAP, {unit})")
    ax.set_title("Qué pesa más en el puntaje de riesgo")
    fig.tight_layout()
    return fig


def beeswarm_figure(explanation: Explanation, labels_es: dict[str, str] | None,
                    top: int) -> Figure:
    """SHAP beeswarm of the top features; categorical values are coloured by their codes."""
    names = list(global_importance(explanation).head(top).index)
    data = explanation.data[names].apply(
        lambda c: c if pd.api.types.is_numeric_dtype(c) else c.astype("category").cat.codes
    ).astype(float)
    shap.summary_plot(
        explanation.values[names].to_numpy(), data.to_numpy(),
        feature_names=_labels(names, labels_es), max_display=top, show=False,
    )
    fig = plt.gcf()
    fig.tight_layout()
    return fig


def plot_audit(audit: pd.DataFrame, band: tuple[float, float],
               metric: str = "selection_rate") -> Figure:
    """A metric's disparity ratios per group (one panel per attribute, log scale) against the
    flag `band` (config `fairness.ratio_low`, `ratio_high`); red where that metric is flagged."""
    low, high = band
    attributes = list(audit["attribute"].unique()) or list(ATTRIBUTES)
    figure, axes = plt.subplots(1, len(attributes), figsize=(4 * len(attributes), 5))
    for axis, attribute in zip(np.atleast_1d(axes), attributes, strict=True):
        part = audit[audit["attribute"] == attribute]
        colours = ["#c0392b" if metric in f.split(";") else "#2c7fb8" for f in part["flagged"]]
        ratios = part[f"{metric}_ratio"].replace([0.0, np.inf], np.nan).fillna(1.0)
        positions = np.arange(len(part))  # group codes like "01" must stay labels, not numbers
        axis.scatter(ratios, positions, c=colours, s=18, zorder=2)
        axis.set_yticks(positions, part["group"].astype(str))
        axis.set_xscale("log")
        axis.set_xlim(min(low / 1.6, ratios.min() / 1.5), max(high * 1.6, ratios.max() * 1.5))
        axis.axvspan(low, high, color="#e8f4e8", zorder=0)
        axis.axvline(1.0, color="black", linewidth=0.8)
        axis.set_title(attribute)
        axis.tick_params(axis="y", labelsize=6)
    figure.suptitle(f"{metric} ratio to the reference group (log scale; red: flagged, green: "
                    f"[{low:g}, {high:g}]; missing ratios drawn at 1)")
    figure.tight_layout()
    return figure

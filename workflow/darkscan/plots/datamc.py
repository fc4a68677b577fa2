"""Data vs. simulation figures of the validation notebook.

Each figure is mplhep's data-model comparison (:func:`mplhep.comp.data_model`): the backgrounds
stacked, their summed MC-statistics uncertainty as a hatched band, the data with Poisson
intervals, and the data / MC ratio in a lower panel. On top of it: signal shapes scaled to the
expected upper limit (dashed lines, not part of the model), the cut thresholds on the drawn
variable (dotted lines, an arrow on the kept side) and, for the fit variable, the hypothesis of
the largest local excess.
"""

from __future__ import annotations

import dataclasses
import re

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np

#: Largest / median positive bin of the summed MC above which the y axis is logarithmic.
LOG_DYNAMIC_RANGE = 30.0

_UNIT = re.compile(r"\[([^\[\]]+)\]\s*$")


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A cut value on the drawn variable: events on side ``kept`` (``<``, ``>``, ...) pass."""

    value: float
    kept: str
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Marker:
    """A vertical line at ``value`` with a legend ``label`` (e.g. the largest local excess)."""

    value: float
    label: str


def axis_unit(label: str) -> str | None:
    """The unit in the trailing brackets of an axis label (``"p [GeV]"`` -> ``"GeV"``), else None."""
    match = _UNIT.search(label or "")
    return match.group(1) if match else None


def events_label(axis) -> str:
    """``Events / <bin width> <unit>`` for a regular axis (``Events / bin`` for a variable one)."""
    widths = np.asarray(axis.widths)
    if not np.allclose(widths, widths[0], rtol=1e-6):
        return "Events / bin"
    unit = axis_unit(axis.label)
    return f"Events / {widths[0]:.3g}" + (f" {unit}" if unit else "")


def use_log_scale(total: np.ndarray) -> bool:
    """Whether the summed MC spans more than :data:`LOG_DYNAMIC_RANGE` (peak over median bin)."""
    positive = total[total > 0]
    return bool(len(positive) and positive.max() > LOG_DYNAMIC_RANGE * np.median(positive))


def _draw_thresholds(ax, thresholds: list[Threshold]) -> None:
    """Dotted lines at the cut values, with an arrow pointing to the kept side."""
    low, high = ax.get_xlim()
    for k, threshold in enumerate(thresholds):
        if not low <= threshold.value <= high:
            continue
        ax.axvline(threshold.value, color="crimson", linestyle=":", linewidth=2, label="cut" if k == 0 else None)
        direction = 1.0 if threshold.kept.startswith(">") else -1.0
        ax.annotate(
            "",
            xy=(threshold.value + direction * 0.06 * (high - low), 0.9),
            xytext=(threshold.value, 0.9),
            xycoords=("data", "axes fraction"),
            arrowprops={"arrowstyle": "->", "color": "crimson", "linewidth": 2},
        )


def data_mc_figure(
    histograms: dict[str, hist.Hist],
    *,
    labels: dict[str, str],
    signals: dict[str, hist.Hist] | None = None,
    thresholds: list[Threshold] = (),
    markers: list[Marker] = (),
    title: str = "",
    log: bool | None = None,
    data_label: str = "Pseudo-data",
) -> plt.Figure:
    """Data vs. stacked MC of one variable, with the ratio panel (see the module docstring).

    Args:
        histograms: sample -> histogram on one shared axis; ``data`` is the data, the others the
            background MC (weights in events).
        labels: legend label per background sample.
        signals: legend label -> signal histogram on the same axis, drawn as dashed lines.
        thresholds: cut values on this variable.
        markers: vertical lines with their own legend entries.
        title: drawn above the main panel.
        log: logarithmic y axis; None chooses by :func:`use_log_scale`.
        data_label: legend label of the data.
    """
    backgrounds = [name for name in histograms if name != "data"]
    if "data" not in histograms or not backgrounds:
        raise ValueError(f"a data/MC figure needs data and at least one MC sample, got {sorted(histograms)}")
    axis = histograms["data"].axes[0]
    fig, ax, ax_ratio = mplhep.comp.data_model(
        histograms["data"],
        stacked_components=[histograms[name] for name in backgrounds],
        stacked_labels=[labels.get(name, name) for name in backgrounds],
        xlabel=axis.label,
        ylabel=events_label(axis),
        data_label=data_label,
        flow="none",
        comparison="split_ratio",
    )
    for k, (label, h) in enumerate((signals or {}).items()):
        mplhep.histplot(h, ax=ax, histtype="step", linestyle="--", linewidth=2, color=f"C{k + 4}", label=label)
    total = sum(histograms[name].values() for name in backgrounds)
    if log if log is not None else use_log_scale(total):
        ax.set_yscale("log")
        positive = total[total > 0]
        ax.set_ylim(max(positive.min() * 0.3, 1e-2) if len(positive) else 0.1, total.max() * 30)
    else:
        ax.set_ylim(0, 1.35 * max(total.max(), histograms["data"].values().max(), 1.0))
    _draw_thresholds(ax, list(thresholds))
    for marker in markers:
        ax.axvline(marker.value, color="black", linestyle="-.", linewidth=1.5, label=marker.label)
        ax_ratio.axvline(marker.value, color="black", linestyle="-.", linewidth=1.5)
    ax.legend(frameon=False, fontsize="x-small", ncols=2, loc="upper right")
    ax_ratio.set_ylabel("Data / MC")
    if title:
        ax.set_title(title, fontsize="small", loc="left")
    return fig

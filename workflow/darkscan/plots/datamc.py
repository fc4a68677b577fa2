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
import mplhep.utils
import numpy as np
from matplotlib.container import ErrorbarContainer

#: Largest over the 10% quantile of the positive bins of the summed MC above which the y axis is
#: logarithmic (a spike, as of the extra energy at zero, or a long low tail)
LOG_DYNAMIC_RANGE = 30.0
LOG_LOW_QUANTILE = 0.1
#: width, height (inches): wide enough for a two-column legend inside the axes
FIGURE_SIZE = (12.0, 9.5)
#: height (axes fraction) of the arrows at the cut values: below the legend
ARROW_HEIGHT = 0.55

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
    color: str = "black"
    linestyle: str = "-."


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
    """Whether the summed MC spans more than :data:`LOG_DYNAMIC_RANGE` from its low bins (the
    :data:`LOG_LOW_QUANTILE` quantile of the positive bins) to its peak."""
    positive = total[total > 0]
    if len(positive) < 2:
        return False
    low = np.quantile(positive, LOG_LOW_QUANTILE, method="lower")  # a bin's content, even of few bins
    return bool(positive.max() > LOG_DYNAMIC_RANGE * low)


#: fraction of the height of a logarithmic axis above the highest bin (room for the legend)
LOG_HEADROOM = 0.4
#: the same for a linear axis: the top at (1 + LINEAR_HEADROOM) x the highest bin
LINEAR_HEADROOM = 0.55


def _hide_empty_data_bins(ax, label: str) -> None:
    """On a log axis, drop the markers and error bars of data bins with no event (their Poisson
    upper edge would draw a comb down to the axis in every empty bin)."""
    for container in ax.containers:
        if not isinstance(container, ErrorbarContainer) or container.get_label() != label:
            continue
        line, _, bars = container
        y = np.asarray(line.get_ydata(), float)
        empty = y <= 0
        line.set_ydata(np.where(empty, np.nan, y))
        for collection in bars:
            segments = collection.get_segments()
            if len(segments) == len(y):
                collection.set_segments([s for s, e in zip(segments, empty, strict=True) if not e])


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
            xy=(threshold.value + direction * 0.06 * (high - low), ARROW_HEIGHT),
            xytext=(threshold.value, ARROW_HEIGHT),
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
    fig, (ax_main, ax_comparison) = mplhep.utils.subplots(nrows=2, figsize=FIGURE_SIZE)
    fig, ax, ax_ratio = mplhep.comp.data_model(
        histograms["data"],
        stacked_components=[histograms[name] for name in backgrounds],
        stacked_labels=[labels.get(name, name) for name in backgrounds],
        xlabel=axis.label,
        ylabel=events_label(axis),
        data_label=data_label,
        flow="none",
        comparison="split_ratio",
        fig=fig,
        ax_main=ax_main,
        ax_comparison=ax_comparison,
    )
    for k, (label, h) in enumerate((signals or {}).items()):
        mplhep.histplot(
            h, ax=ax, histtype="step", yerr=False, linestyle="--", linewidth=2.5, color=f"C{k + 4}", label=label
        )
    total = sum(histograms[name].values() for name in backgrounds)
    highest = max(total.max(), histograms["data"].values().max(), 1.0)
    if log if log is not None else use_log_scale(total):
        ax.set_yscale("log")
        positive = total[total > 0]
        bottom = max(positive.min() * 0.3, 1e-2) if len(positive) else 0.1
        decades = np.log10(highest / bottom)
        ax.set_ylim(bottom, highest * 10 ** (decades * LOG_HEADROOM / (1.0 - LOG_HEADROOM)))
        _hide_empty_data_bins(ax, data_label)
    else:
        ax.set_ylim(0, (1.0 + LINEAR_HEADROOM) * highest)
    _draw_thresholds(ax, list(thresholds))
    for marker in markers:
        style = {"color": marker.color, "linestyle": marker.linestyle, "linewidth": 1.5}
        ax.axvline(marker.value, label=marker.label, **style)
        ax_ratio.axvline(marker.value, **style)
    ax.legend(frameon=False, fontsize="x-small", ncols=2, loc="upper right")
    ax_ratio.set_ylabel("Data / MC")
    if title:
        ax.set_title(title, fontsize="small", loc="left")
    return fig

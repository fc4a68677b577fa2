"""Limit maps of two-mass scans (limits.csv with ``mass`` and ``mass2``), e.g. dark Higgsstrahlung.

The map is a regular (mass, mass2) grid (``MAP_BINS`` per axis, ``pcolormesh``): each bin shows
the hypothesis whose signal ellipse is nearest in units of its resolutions (the scan steps in
resolutions, so at small recoil mass one hypothesis covers GeV-wide steps), and bins that no
ellipse (``fit.signal_sigmas`` resolutions) reaches stay empty; so the uneven scan grid draws no
fans or streaks and no value is interpolated between hypotheses; contours give the median expected limit (its median in
a coarser grid, smoothed, so MC noise does not draw them), with their levels and unit in the
legend. The coupling figure has one map per coupling scenario, side by side. Same outputs as the 1D plots (PNG and PDF).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from scipy import ndimage, stats

from darkscan.physics.models import get_model
from darkscan.plots.style import experiment_label, limit_level, save_figure, use_style


@dataclasses.dataclass(frozen=True)
class Panel:
    """One map of a figure: ``column`` of limits.csv coloured, with ``contours`` of another column."""

    column: str
    colour_label: str
    title: str = ""
    log: bool = True
    contours: str | None = None
    contour_unit: str = ""


def _map(
    frame: pd.DataFrame,
    panels: list[Panel],
    channel: dict,
    experiment: dict,
    png,
    pdf,
    *,
    marker=None,
    marker_label: str = "largest local excess",
) -> None:
    """One figure with a map per panel side by side (e.g. one per coupling scenario)."""
    use_style()
    fig, axes = plt.subplots(1, len(panels), figsize=(12.5 * len(panels), 8), squeeze=False)
    fig.subplots_adjust(wspace=0.42)  # room for each colour bar's label before the next map
    for ax, panel in zip(axes[0], panels, strict=True):
        _draw_panel(fig, ax, frame, panel, channel)
        if marker is not None:
            ax.plot([marker[0]], [marker[1]], "r*", ms=16, label=marker_label)
            ax.legend(loc="upper right", frameon=False, fontsize=16)
        if panel.title:
            ax.set_title(panel.title, fontsize="small", loc="left", pad=40)
        experiment_label(ax, channel, experiment)
    save_figure(fig, png, pdf)


def _draw_panel(fig, ax, frame: pd.DataFrame, panel: Panel, channel: dict) -> None:
    column, log = panel.column, panel.log
    ok = frame[column].notna() & (frame[column] > 0 if log else True)
    sub = frame[ok]
    x, y, z = sub["mass"].to_numpy(), sub["mass2"].to_numpy(), sub[column].to_numpy()
    unit = channel["fit"].get("unit", "GeV")
    norm = LogNorm(vmin=max(z.min(), 1e-30), vmax=z.max()) if log and len(z) else None
    if len(sub) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
        x_edges, y_edges = np.linspace(x.min(), x.max(), MAP_BINS + 1), np.linspace(y.min(), y.max(), MAP_BINS + 1)
        reach = float(channel["fit"].get("signal_sigmas", 2.0))
        scales = (sub["resolution"].to_numpy(), sub["resolution2"].to_numpy()) if "resolution2" in sub else None
        grid = nearest_hypothesis_map(x, y, z, x_edges, y_edges, scales=scales, reach=reach)
        art = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(grid).T, norm=norm, cmap="viridis")
        if panel.contours and frame[panel.contours].notna().sum() >= 3:
            levels = _smooth_contours(ax, frame, panel.contours, log=log)
            values = ", ".join(f"{v:.2g}" for v in levels)
            label = f"expected (median) contours:\n{values} {panel.contour_unit}".rstrip()
            ax.plot([], [], "w--", lw=1.2, label=label)
            # the contours are white on the map: a dark legend box shows their handle
            ax.legend(loc="upper right", frameon=True, facecolor="0.3", framealpha=0.9, labelcolor="white", fontsize=14)
    else:
        art = ax.scatter(x, y, c=z, norm=norm, cmap="viridis", s=40)
    fig.colorbar(art, ax=ax, label=panel.colour_label)
    failed = frame["status"] == "failed"
    if failed.any():
        ax.plot(frame.loc[failed, "mass"], frame.loc[failed, "mass2"], "rx", ms=5, label="failed")
        ax.legend(loc="upper right", frameon=False)
    model = get_model(channel["model"])
    ax.set_xlabel(f"{model.mass_label} [{unit}]")
    ax.set_ylabel(f"{model.mass2_label} [{unit}]")


#: bins per axis of the limit maps
MAP_BINS = 90


def nearest_hypothesis_map(x, y, z, x_edges, y_edges, *, scales=None, reach: float = np.inf, chunk: int = 256):
    """(len(x_edges) - 1, len(y_edges) - 1) grid of ``z`` of the hypothesis nearest to each bin
    centre, the distance in units of the hypothesis' resolutions ``scales`` = (sx, sy) (plain
    distance if None); NaN where the nearest is farther than ``reach`` resolutions."""
    cx = 0.5 * (x_edges[1:] + x_edges[:-1])
    cy = 0.5 * (y_edges[1:] + y_edges[:-1])
    gx, gy = (a.ravel() for a in np.meshgrid(cx, cy, indexing="ij"))
    sx, sy = (
        (np.ones_like(x), np.ones_like(y))
        if scales is None
        else (np.maximum(scales[0], 1e-12), np.maximum(scales[1], 1e-12))
    )
    out = np.full(gx.shape, np.nan)
    for start in range(0, len(gx), chunk):
        d2 = ((gx[start : start + chunk, None] - x) / sx) ** 2 + ((gy[start : start + chunk, None] - y) / sy) ** 2
        best = np.argmin(d2, axis=1)
        near = d2[np.arange(len(best)), best] <= reach**2
        out[start : start + chunk] = np.where(near, z[best], np.nan)
    return out.reshape(len(cx), len(cy))


#: width (coarse-grid bins) of the Gaussian that smooths the median expected limit before contouring
CONTOUR_SMOOTHING_BINS = 1.0


def smooth_nan(grid: np.ndarray, *, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a grid with empty (NaN) bins: the weighted mean of the filled
    neighbours; empty bins stay empty."""
    filled = np.isfinite(grid)
    weight = ndimage.gaussian_filter(filled.astype(float), sigma, mode="constant")
    total = ndimage.gaussian_filter(np.where(filled, grid, 0.0), sigma, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(filled, total / weight, np.nan)


def _smooth_contours(ax, frame: pd.DataFrame, column: str, *, log: bool, bins: int = 30) -> list[float]:
    """Contours of ``column`` after taking its median in a coarse 2D grid (MC noise averaged out)."""
    c = frame[frame[column].notna() & (frame[column] > 0)]
    values = np.log10(c[column]) if log else c[column]
    grid, x_edges, y_edges, _ = stats.binned_statistic_2d(c["mass"], c["mass2"], values, statistic="median", bins=bins)
    if np.count_nonzero(np.isfinite(grid)) < 4:
        return []
    grid = smooth_nan(grid, sigma=CONTOUR_SMOOTHING_BINS)
    centres = (0.5 * (x_edges[1:] + x_edges[:-1]), 0.5 * (y_edges[1:] + y_edges[:-1]))
    finite = grid[np.isfinite(grid)]
    levels = np.linspace(np.percentile(finite, 10), np.percentile(finite, 90), 4)
    lines = ax.contour(
        *centres, np.ma.masked_invalid(grid).T, levels=levels, colors="white", linewidths=1.2, linestyles="--"
    )
    ax.clabel(lines, fmt=(lambda v: f"{10**v:.2g}") if log else "%.3g", fontsize=9)
    return list(10**levels) if log else list(levels)


def plot_channel_2d(
    frame: pd.DataFrame, *, channel: dict, experiment: dict, outputs: dict, significance: dict | None = None
) -> None:
    """Cross-section, coupling (one map per coupling scenario) and local-significance maps (the
    outputs of the 1D plots)."""
    cl = limit_level(channel)
    model = get_model(channel["model"])
    # two lines: in one, the label outgrows the map and the figure grows to fit it
    xsec = Panel("xsec_obs", f"{cl} upper limit (observed)\n{model.xsec_label} [fb]", contours="xsec_exp")
    _map(
        frame,
        [dataclasses.replace(xsec, contour_unit="fb")],
        channel,
        experiment,
        outputs["xsec_png"],
        outputs["xsec_pdf"],
    )
    name = channel["coupling"].get("name", "coupling")
    couplings = [
        Panel(
            f"coupling_{scenario}_obs",
            f"{name}, {cl} upper limit (observed)",
            title=entry.get("label", scenario),
            contours=f"coupling_{scenario}_exp",
        )
        for scenario, entry in channel["coupling"]["scenarios"].items()
    ]
    _map(frame, couplings, channel, experiment, outputs["coupling_png"], outputs["coupling_pdf"])
    marker = (
        (significance["mass_at_max"], significance["mass2_at_max"])
        if significance and "mass2_at_max" in significance
        else None
    )
    _map(
        frame,
        [Panel("z_local", r"Local significance $Z_{\mathrm{local}}$ [$\sigma$]", log=False)],
        channel,
        experiment,
        outputs["significance_png"],
        outputs["significance_pdf"],
        marker=marker,
        marker_label=(
            f"largest excess\nlocal Z = {significance['z_local_max']:.1f}\nglobal Z = {significance['z_global']:.1f}"
            if marker is not None
            else ""
        ),
    )

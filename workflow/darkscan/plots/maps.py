"""Limit maps of two-mass scans (limits.csv with ``mass`` and ``mass2``), e.g. dark Higgsstrahlung.

Each hypothesis is drawn as a point coloured by its value (log colour scale) on a triangulation of
the scanned (mass, mass2) points (``tripcolor``), with contours of the median expected limit (its
median in a coarse grid, so MC noise does not draw them); the coupling map uses the first coupling
scenario. Same outputs as the 1D plots (PNG and PDF).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.tri as mtri  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from scipy import stats  # noqa: E402

from darkscan.physics.models import get_model  # noqa: E402
from darkscan.plots.style import experiment_label, limit_level, save_figure, use_style  # noqa: E402


def _map(
    frame: pd.DataFrame,
    column: str,
    channel: dict,
    experiment: dict,
    png,
    pdf,
    *,
    colour_label: str,
    log: bool = True,
    contours: str | None = None,
    marker=None,
    marker_label: str = "largest local excess",
) -> None:
    use_style()
    fig, ax = plt.subplots(figsize=(10, 8))
    ok = frame[column].notna() & (frame[column] > 0 if log else True)
    sub = frame[ok]
    x, y, z = sub["mass"].to_numpy(), sub["mass2"].to_numpy(), sub[column].to_numpy()
    unit = channel["fit"].get("unit", "GeV")
    norm = LogNorm(vmin=max(z.min(), 1e-30), vmax=z.max()) if log and len(z) else None
    if len(sub) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
        triangulation = mtri.Triangulation(x, y)
        art = ax.tripcolor(triangulation, z, norm=norm, cmap="viridis", shading="gouraud" if not log else "flat")
        if contours and frame[contours].notna().sum() >= 3:
            levels = _smooth_contours(ax, frame, contours, log=log)
            ax.plot([], [], "w--", lw=0.8, label=f"expected (median): {', '.join(f'{v:.2g}' for v in levels)}")
            ax.legend(loc="upper right", frameon=True, fontsize=12)
    else:
        art = ax.scatter(x, y, c=z, norm=norm, cmap="viridis", s=40)
    fig.colorbar(art, ax=ax, label=colour_label)
    failed = frame["status"] == "failed"
    if failed.any():
        ax.plot(frame.loc[failed, "mass"], frame.loc[failed, "mass2"], "rx", ms=5, label="failed")
        ax.legend(loc="upper right", frameon=False)
    if marker is not None:
        ax.plot([marker[0]], [marker[1]], "r*", ms=16, label=marker_label)
        ax.legend(loc="upper right", frameon=False, fontsize=16)
    model = get_model(channel["model"])
    ax.set_xlabel(f"{model.mass_label} [{unit}]")
    ax.set_ylabel(f"{model.mass2_label} [{unit}]")
    experiment_label(ax, channel, experiment)
    save_figure(fig, png, pdf)


def _smooth_contours(ax, frame: pd.DataFrame, column: str, *, log: bool, bins: int = 30) -> list[float]:
    """Contours of ``column`` after taking its median in a coarse 2D grid (MC noise averaged out)."""
    c = frame[frame[column].notna() & (frame[column] > 0)]
    values = np.log10(c[column]) if log else c[column]
    grid, x_edges, y_edges, _ = stats.binned_statistic_2d(c["mass"], c["mass2"], values, statistic="median", bins=bins)
    if np.count_nonzero(np.isfinite(grid)) < 4:
        return []
    centres = (0.5 * (x_edges[1:] + x_edges[:-1]), 0.5 * (y_edges[1:] + y_edges[:-1]))
    finite = grid[np.isfinite(grid)]
    levels = np.linspace(np.percentile(finite, 10), np.percentile(finite, 90), 4)
    lines = ax.contour(
        *centres, np.ma.masked_invalid(grid).T, levels=levels, colors="white", linewidths=1.2, linestyles="--"
    )
    ax.clabel(lines, fmt=(lambda v: f"{10**v:.1e}") if log else "%.3g", fontsize=9)
    return list(10**levels) if log else list(levels)


def plot_channel_2d(
    frame: pd.DataFrame, *, channel: dict, experiment: dict, outputs: dict, significance: dict | None = None
) -> None:
    """Cross-section, coupling and local-significance maps (the outputs of the 1D plots)."""
    cl = limit_level(channel)
    _map(
        frame,
        "xsec_obs",
        channel,
        experiment,
        outputs["xsec_png"],
        outputs["xsec_pdf"],
        colour_label=rf"{cl} upper limit on $\sigma\times$BF [fb] (observed)",
        contours="xsec_exp",
    )
    first = next(iter(channel["coupling"]["scenarios"]))
    name = channel["coupling"].get("name", "coupling")
    _map(
        frame,
        f"coupling_{first}_obs",
        channel,
        experiment,
        outputs["coupling_png"],
        outputs["coupling_pdf"],
        colour_label=f"{name}, {cl} upper limit (observed)",
        contours=f"coupling_{first}_exp",
    )
    marker = (
        (significance["mass_at_max"], significance["mass2_at_max"])
        if significance and "mass2_at_max" in significance
        else None
    )
    _map(
        frame,
        "z_local",
        channel,
        experiment,
        outputs["significance_png"],
        outputs["significance_pdf"],
        colour_label=r"Local significance $Z_{\mathrm{local}}$ [$\sigma$]",
        log=False,
        marker=marker,
        marker_label=(
            f"largest excess\nlocal Z = {significance['z_local_max']:.1f}\nglobal Z = {significance['z_global']:.1f}"
            if marker is not None
            else ""
        ),
    )

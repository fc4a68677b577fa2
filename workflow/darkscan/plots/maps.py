"""Limit maps of two-mass scans (limits.csv with ``mass`` and ``mass2``), e.g. dark Higgsstrahlung.

Each hypothesis is drawn as a point coloured by its value (log colour scale) on a triangulation of
the scanned (mass, mass2) points (``tripcolor``), with the median expected limit as contours; the
coupling map uses the first coupling scenario. Same outputs as the 1D plots (PNG and PDF).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.tri as mtri  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from darkscan.plots.limits import _label, _save, _style  # noqa: E402

LABELS = {"mass": "$M_{A'}$", "mass2": "$M_{h'}$"}


def _map(frame: pd.DataFrame, column: str, channel: dict, experiment: dict, png, pdf, *, colour_label: str, log: bool = True, contours: str | None = None, marker=None) -> None:
    _style()
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
            c = frame[frame[contours].notna() & (frame[contours] > 0)]
            levels = np.geomspace(c[contours].min(), c[contours].max(), 6)[1:-1] if log else None
            ax.tricontour(mtri.Triangulation(c["mass"], c["mass2"]), c[contours], levels=levels, colors="white", linewidths=0.8, linestyles="--")
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
        ax.plot([marker[0]], [marker[1]], "r*", ms=16, label="largest local excess")
        ax.legend(loc="upper right", frameon=False)
    ax.set_xlabel(f"{LABELS['mass']} [{unit}]")
    ax.set_ylabel(f"{LABELS['mass2']} [{unit}]")
    _label(ax, channel, experiment)
    _save(fig, png, pdf)


def plot_channel_2d(frame: pd.DataFrame, *, channel: dict, experiment: dict, outputs: dict, significance: dict | None = None) -> None:
    """Cross-section, coupling and local-significance maps (the outputs of the 1D plots)."""
    cl = f"{100 * channel['cl']:.0f}% CL"
    _map(frame, "xsec_obs", channel, experiment, outputs["xsec_png"], outputs["xsec_pdf"], colour_label=rf"{cl} upper limit on $\sigma\times$BF [fb] (observed)", contours="xsec_exp")
    first = next(iter(channel["coupling"]["scenarios"]))
    name = channel["coupling"].get("name", "coupling")
    _map(frame, f"coupling_{first}_obs", channel, experiment, outputs["coupling_png"], outputs["coupling_pdf"], colour_label=f"{name}, {cl} upper limit (observed)", contours=f"coupling_{first}_exp")
    marker = (significance["mass_at_max"], significance["mass2_at_max"]) if significance and "mass2_at_max" in significance else None
    _map(frame, "z_local", channel, experiment, outputs["significance_png"], outputs["significance_pdf"], colour_label=r"Local significance $Z_{\mathrm{local}}$ [$\sigma$]", log=False, marker=marker)

"""Limit plots: cross section and coupling vs. mass with expected bands, local significance.

The (g-2)_mu band shows the Z' couplings that explain Delta a_mu = (251 +- 59) x 10^-11 within
2 sigma: the 2021 experimental average (Muon g-2, PRL 126 (2021) 141801) minus the 2020 Theory
Initiative prediction (Phys. Rept. 887 (2020) 1), as drawn in Belle II PRL 124 (2020) 141801.
The 2025 Theory Initiative update (arXiv:2505.21476) no longer shows a discrepancy; the band is
kept for comparison with the published figures and can be switched off (plots.gm2_band).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from darkscan.physics.models import get_model
from darkscan.plots.style import BAND_COLOURS, experiment_label, limit_level, save_figure, use_style

log = logging.getLogger(__name__)


def _bands(ax, frame: pd.DataFrame, prefix: str) -> None:
    """Expected median with +-1 and +-2 sigma bands of the columns ``{prefix}_exp*``."""
    mass = frame["mass"].to_numpy()
    column = lambda suffix: frame[f"{prefix}_{suffix}"].to_numpy()  # noqa: E731
    ax.fill_between(
        mass, column("exp_m2"), column("exp_p2"), color=BAND_COLOURS["2"], label=r"Expected $\pm 2\sigma$", lw=0
    )
    ax.fill_between(
        mass, column("exp_m1"), column("exp_p1"), color=BAND_COLOURS["1"], label=r"Expected $\pm 1\sigma$", lw=0
    )
    ax.plot(mass, column("exp"), "k--", lw=1.5, label="Expected (median)")


REFERENCE_STYLES = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:olive")


def read_reference_curve(path: str | os.PathLike) -> pd.DataFrame:
    """A published limit: CSV with columns ``mass`` and ``limit`` (errors name the file)."""
    frame = pd.read_csv(path, comment="#")
    missing = {"mass", "limit"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: reference curve needs the columns mass and limit; missing {sorted(missing)}")
    return frame.sort_values("mass", kind="stable")  # a digitised step repeats its mass


def draw_reference_curves(ax, channel: dict, files: list, *, quantity: str) -> int:
    """Draw the ``plots.reference_curves`` of ``quantity`` (``files``: their declared paths, in
    config order); returns how many were drawn."""
    curves = channel.get("plots", {}).get("reference_curves", [])
    drawn = 0
    for curve, path, colour in zip(curves, files, itertools.cycle(REFERENCE_STYLES)):
        if curve.get("quantity", "coupling") != quantity:
            continue
        frame = read_reference_curve(path)
        label = curve["label"]
        if "cl" in curve and abs(curve["cl"] - channel["cl"]) > 1e-9:
            label += f" ({100 * curve['cl']:.0f}% CL)"
        ax.plot(frame["mass"], frame["limit"], color=colour, lw=2, ls="-.", label=label)
        drawn += 1
    return drawn


def draw_mass_markers(ax, channel: dict) -> int:
    """Vertical dotted lines at ``plots.mass_markers`` (e.g. where the fit variable changes), each
    labelled along the line; returns how many fall inside the plotted masses."""
    low, high = ax.get_xlim()
    drawn = 0
    for marker in channel.get("plots", {}).get("mass_markers", []):
        if not low <= marker["mass"] <= high:
            continue
        ax.axvline(marker["mass"], color="dimgrey", lw=1.2, ls=":")
        ax.text(
            marker["mass"],
            0.5,
            " " + marker["label"],
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="right",
            va="center",
            fontsize=12,
            color="dimgrey",
        )
        drawn += 1
    return drawn


XSEC_COLUMNS = ("xsec_obs", "xsec_exp_m2", "xsec_exp_m1", "xsec_exp", "xsec_exp_p1", "xsec_exp_p2")


def visible_xsec(frame: pd.DataFrame) -> pd.DataFrame:
    """The limits on efficiency x cross section: ``xsec_*`` times ``efficiency`` (N_limit / L, model independent)."""
    out = frame.copy()
    for column in XSEC_COLUMNS:
        out[column] = frame[column] * frame["efficiency"]
    return out


def plot_xsec(frame: pd.DataFrame, channel: dict, experiment: dict, png, pdf, *, reference_files=()) -> None:
    """Upper limit on the signal cross section (fb) vs. mass, or on efficiency x cross section
    (``plots.xsec_quantity: efficiency_times_sigma``)."""
    use_style()
    visible = channel.get("plots", {}).get("xsec_quantity", "sigma") == "efficiency_times_sigma"
    if visible:
        frame = visible_xsec(frame)
    fig, ax = plt.subplots(figsize=(10, 8))
    mass = frame["mass"].to_numpy()
    _bands(ax, frame, "xsec")
    ax.plot(mass, frame["xsec_obs"], "k-", lw=2, label="Observed")
    draw_reference_curves(ax, channel, list(reference_files), quantity="xsec")
    failed = frame["status"] == "failed"
    if failed.any():
        ax.plot(mass[failed], np.full(failed.sum(), ax.get_ylim()[0]), "rx", label="failed fit")
    ax.set_yscale("log")
    unit = channel["fit"].get("unit", "GeV")
    model = get_model(channel["model"])
    ax.set_xlabel(f"{model.mass_label} [{unit}]")
    quantity = f"efficiency $\\times$ {model.xsec_label}" if visible else model.xsec_label
    ax.set_ylabel(f"{limit_level(channel)} upper limit on {quantity} [fb]", fontsize=17 if not visible else 15)
    ax.legend(loc="upper left", fontsize=16, frameon=False, bbox_to_anchor=(0.0, 0.93))
    ax.set_ylim(top=ax.get_ylim()[1] * 10)
    draw_mass_markers(ax, channel)
    experiment_label(ax, channel, experiment)
    save_figure(fig, png, pdf)


def plot_coupling(
    frame: pd.DataFrame, channel: dict, experiment: dict, png, pdf, *, gm2_band: bool = True, reference_files=()
) -> None:
    """Upper limits on the coupling for every scenario, with the (g-2)_mu band and published curves."""
    use_style()
    fig, ax = plt.subplots(figsize=(10, 8))
    mass = frame["mass"].to_numpy()
    scenarios = list(channel["coupling"]["scenarios"].items())
    first, scenario = scenarios[0]
    _bands(ax, frame, f"coupling_{first}")
    ax.plot(mass, frame[f"coupling_{first}_obs"], "k-", lw=2, label=f"Observed, {scenario.get('label', first)}")
    for (name, other), style in zip(scenarios[1:], ("b-", "m-", "c-"), strict=False):
        ax.plot(mass, frame[f"coupling_{name}_obs"], style, lw=2, label=f"Observed, {other.get('label', name)}")
        ax.plot(
            mass, frame[f"coupling_{name}_exp"], style[0] + ":", lw=1.5, label=f"Expected, {other.get('label', name)}"
        )
    draw_reference_curves(ax, channel, list(reference_files), quantity="coupling")
    model = get_model(channel["model"])
    if gm2_band and model.reference_band is not None:  # e.g. the (g-2)_mu band of the L_mu - L_tau Z'
        grid = np.geomspace(mass.min(), mass.max(), 60)
        lo, hi = model.reference_band(grid)
        ax.fill_between(grid, lo, hi, color="tab:red", alpha=0.3, lw=0, label=model.reference_band_label)
    ax.set_yscale("log")
    ax.set_xlabel(f"{model.mass_label} [{channel['fit'].get('unit', 'GeV')}]")
    ax.set_ylabel(f"{model.coupling_label}, {limit_level(channel)} upper limit")
    ax.legend(loc="upper left", fontsize=14, frameon=False, bbox_to_anchor=(0.0, 0.93))
    ax.set_ylim(top=ax.get_ylim()[1] * 30)
    draw_mass_markers(ax, channel)
    experiment_label(ax, channel, experiment)
    save_figure(fig, png, pdf)


def plot_significance(
    frame: pd.DataFrame, channel: dict, experiment: dict, png, pdf, *, significance: dict | None = None
) -> None:
    """Local significance vs. mass, with the global significance of the largest excess."""
    use_style()
    fig, ax = plt.subplots(figsize=(10, 6))
    ax.plot(frame["mass"], frame["z_local"], "k-", lw=1.5, label="Local significance")
    if significance:
        ax.plot(
            [significance["mass_at_max"]],
            [significance["z_local_max"]],
            "rv",
            ms=10,
            label=f"largest excess: global Z = {significance['z_global']:.1f} ({significance['toys']} toys)",
        )
    for z in (1, 2, 3):
        ax.axhline(z, color="grey", lw=0.8, ls=":")
    ax.set_xlabel(f"{get_model(channel['model']).mass_label} [{channel['fit'].get('unit', 'GeV')}]")
    ax.set_ylabel(r"Local significance $Z_{\mathrm{local}}$ [$\sigma$]")
    ax.set_ylim(0, max(4.0, float(np.nanmax(frame["z_local"])) * 1.6))
    ax.legend(loc="best", frameon=False)  # "best" avoids the curve and the marker of the largest excess
    draw_mass_markers(ax, channel)
    experiment_label(ax, channel, experiment)
    save_figure(fig, png, pdf)


def plot_channel(
    limits_csv: str | os.PathLike,
    *,
    channel: dict,
    experiment: dict,
    outputs: dict,
    significance_json: str | os.PathLike | None = None,
    reference_files: list | tuple = (),
) -> None:
    """All limit plots of a channel, as PNG and PDF (``reference_files``: the declared files of
    ``plots.reference_curves``, in config order)."""
    frame = pd.read_csv(limits_csv)
    significance = json.loads(pathlib.Path(significance_json).read_text()) if significance_json else None
    if frame.empty:
        raise ValueError(f"{limits_csv}: no mass points")
    if "mass2" in frame:  # two-mass scan: limit maps (darkscan.plots.maps)
        from darkscan.plots.maps import plot_channel_2d

        plot_channel_2d(frame, channel=channel, experiment=experiment, outputs=outputs, significance=significance)
        return
    plot_xsec(frame, channel, experiment, outputs["xsec_png"], outputs["xsec_pdf"], reference_files=reference_files)
    plot_coupling(
        frame,
        channel,
        experiment,
        outputs["coupling_png"],
        outputs["coupling_pdf"],
        gm2_band=channel.get("plots", {}).get("gm2_band", True),
        reference_files=reference_files,
    )
    plot_significance(
        frame, channel, experiment, outputs["significance_png"], outputs["significance_pdf"], significance=significance
    )

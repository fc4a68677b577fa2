"""The calibration plot of a channel: background-only ensemble and signal injection (four panels).

Top: the largest local significance of each background-only pseudo-experiment (with the data's
value from ``significance.json``) and the global p-values of the toys (flat if the
look-elsewhere correction is right). Bottom: mean and width of the pulls of the fitted signal
per injection point (0 and 1 expected), and the coverage of the upper limits (at least the CL).
"""

from __future__ import annotations

import json
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from darkscan.plots.style import use_style, write_figure


def _injection_labels(rows: list[dict]) -> list[str]:
    labels = []
    for row in rows:
        mass = f"{row['mass']:.3g}" + (f", {row['mass2']:.3g}" if "mass2" in row else "")
        method = "\ntoy CLs" if row.get("limit_method") == "cls_toys" else ""
        labels.append(f"{mass} GeV\n{row['injected']:.3g} fb{method}")
    return labels


def _z_max_panel(ax, background: dict, z_observed: float | None) -> None:
    z = np.asarray(background["z_local_max_toys"])
    ax.hist(z, bins=25, histtype="step", color="k", label=f"background-only toys ({len(z)})")
    median = background["z_local_max"]["q50"]
    ax.axvline(median, color="tab:blue", ls="--", label=f"median {median:.2f}")
    if z_observed is not None:
        ax.axvline(z_observed, color="tab:red", lw=2, label=f"data {z_observed:.2f}")
    ax.set_xlabel(r"largest local $Z$ of the scan, $Z_{\mathrm{local}}^{\max}$")
    ax.set_ylabel("Pseudo-experiments")
    ax.set_ylim(0, 1.6 * ax.get_ylim()[1])
    ax.legend(fontsize="x-small", loc="upper left")


def _p_global_panel(ax, background: dict) -> None:
    p = np.asarray(background.get("p_global_randomised", background["p_global"]))
    bins = np.linspace(0, 1, 11)
    counts, _ = np.histogram(p, bins)
    centres = 0.5 * (bins[1:] + bins[:-1])
    expected = len(p) / (len(bins) - 1)
    ax.fill_between(
        bins,
        expected - np.sqrt(expected),
        expected + np.sqrt(expected),
        step="mid",
        color="0.85",
        label=r"uniform $\pm 1\sigma$",
    )
    ax.errorbar(
        centres, counts, yerr=np.sqrt(counts), fmt="ko", label=f"toys (KS p = {background['p_global_ks_pvalue']:.2f})"
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 2.2 * expected)
    ax.set_xlabel(r"global p-value of each toy (ties randomised)")
    ax.set_ylabel("Pseudo-experiments / 0.1")
    ax.legend(fontsize="x-small", loc="upper right")


def _pull_panel(ax, rows: list[dict]) -> None:
    x = np.arange(len(rows))
    ax.axhspan(-1, 1, color="0.85", label=r"expected: $0 \pm 1$")
    ax.axhline(0, color="k", lw=0.8)
    ax.errorbar(
        x,
        [r["pull_mean"] for r in rows],
        yerr=[r["pull_width"] for r in rows],
        fmt="o",
        color="tab:blue",
        capsize=4,
        label="pull mean $\\pm$ width",
    )
    ax.set_xticks(x, _injection_labels(rows), fontsize="xx-small")
    ax.set_ylim(-3, 3)
    ax.set_ylabel(r"pull of $\hat\sigma$ (likelihood ratio)")
    ax.legend(fontsize="x-small", loc="upper right")


def _coverage_panel(ax, rows: list[dict], cl: float) -> None:
    x = np.arange(len(rows))
    ax.errorbar(
        x,
        [r["coverage"] for r in rows],
        yerr=[r["coverage_error"] for r in rows],
        fmt="s",
        color="tab:green",
        capsize=4,
        label="toys with limit $\\geq$ injected",
    )
    ax.axhline(cl, color="tab:red", ls="--", label=f"CL = {cl:g}")
    ax.set_xticks(x, _injection_labels(rows), fontsize="xx-small")
    ax.set_ylim(min(cl - 0.15, min((r["coverage"] for r in rows), default=cl) - 0.05), 1.02)
    ax.set_ylabel("coverage of the upper limit")
    ax.legend(fontsize="x-small", loc="lower right")


def plot_calibration(
    calibration_json: str | os.PathLike,
    significance_json: str | os.PathLike | None,
    out_paths: list[str | os.PathLike],
    *,
    title: str,
) -> None:
    """Draw the four panels of ``calibration.json`` and save them to every path in ``out_paths``."""
    summary = json.loads(open(calibration_json).read())
    z_observed = json.loads(open(significance_json).read())["z_local_max"] if significance_json else None
    use_style()
    fig, axes = plt.subplots(2, 2, figsize=(15, 12))
    _z_max_panel(axes[0, 0], summary["background"], z_observed)
    _p_global_panel(axes[0, 1], summary["background"])
    _pull_panel(axes[1, 0], summary["injection"])
    _coverage_panel(axes[1, 1], summary["injection"], summary["cl"])
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    for path in out_paths:
        write_figure(fig, path)
    plt.close(fig)


def background_table(calibration: dict) -> pd.DataFrame:
    """The background-only ensemble of ``calibration.json`` against its targets, one row per figure."""
    background, targets = calibration["background"], calibration["targets"]
    z = background["z_local_max"]
    rows = [
        ("pseudo-experiments", background["toys"], ""),
        ("z_local_max: median (16-84%)", f"{z['q50']:.2f} ({z['q16']:.2f}-{z['q84']:.2f})", ""),
        (
            "p_global uniform: KS p-value",
            f"{background['p_global_ks_pvalue']:.3g}",
            f"> {targets['p_global_ks_pvalue_min']}",
        ),
        ("fraction with z_global > 2", f"{background['fraction_z_global_above_2']:.3f}", "0.023 expected"),
        ("fraction with z_global > 3", f"{background['fraction_z_global_above_3']:.3f}", "0.0013 expected"),
        (
            "observed limit outside +-1 sigma band",
            f"{background['outside_1sigma']:.3f}",
            "< 0.317 (bands follow sidebands)",
        ),
        (
            "observed limit outside +-2 sigma band",
            f"{background['outside_2sigma']:.3f}",
            "< 0.046 (bands follow sidebands)",
        ),
    ]
    return pd.DataFrame(rows, columns=["figure", "value", "target"]).set_index("figure")


def injection_table(calibration: dict) -> pd.DataFrame:
    """The signal-injection ensembles of ``calibration.json``: one row per mass and strength."""
    frame = pd.DataFrame(calibration["injection"])
    columns = [
        c
        for c in (
            "mass",
            "mass2",
            "injected",
            "fitted_mean",
            "bias",
            "pull_mean",
            "pull_width",
            "coverage",
            "toys",
            "limit_method",
            "scan_limit",
        )
        if c in frame
    ]
    return frame[columns]

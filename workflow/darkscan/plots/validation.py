"""Validation figures used by the papermill notebook: data vs. MC, cut flow, signal vs. mass."""

from __future__ import annotations

import os

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.stats.signal_model import SignalModel

#: Axis ranges and labels (with units) of the selection variables drawn in the notebook.
VARIABLE_AXES = {
    "recoil_mass": (60, -1.0, 9.0, r"$M_{\mathrm{recoil}}(\mu\mu)$ [GeV]"),
    "recoil_mass_squared": (60, -5.0, 70.0, r"$M^2_{\mathrm{recoil}}$ [GeV$^2$]"),
    "recoil_p_cm": (50, 0.0, 5.5, r"$p^*_{\mathrm{recoil}}$ [GeV]"),
    "recoil_theta_lab": (45, 0.0, 180.0, r"$\theta_{\mathrm{recoil}}$ (lab) [deg]"),
    "recoil_mu_angle_min": (45, 0.0, 180.0, r"min. angle(recoil, $\mu$) (CM) [deg]"),
    "pt_mumu_cm": (50, 0.0, 5.0, r"$p^*_T(\mu\mu)$ [GeV]"),
    "mu1_pt": (50, 0.0, 6.0, r"leading muon $p_T$ [GeV]"),
    "mu2_pt": (50, 0.0, 6.0, r"second muon $p_T$ [GeV]"),
    "extra_energy": (40, 0.0, 4.0, r"$E_{\mathrm{extra}}$ (ECL) [GeV]"),
    "pt_thrust_max": (50, 0.0, 3.0, r"max. $p^*_T(\mu)$ w.r.t. the thrust axis [GeV]"),
    "pt_max_wrt_min_cm": (50, 0.0, 5.0, r"$p^*_T$ of the harder $\mu$ w.r.t. the softer [GeV]"),
    "pl_max_wrt_min_cm": (50, -5.0, 5.0, r"$p^*_L$ of the harder $\mu$ w.r.t. the softer [GeV]"),
    "mva_score": (50, 0.0, 1.0, "MVA score (classifier of the event's fit-variable range)"),
    "m3gamma_over_sqrt_s": (60, 0.7, 1.1, r"$M_{3\gamma}/\sqrt{s}$"),
    "p3gamma_cm": (50, 0.0, 2.0, r"$p^*_{3\gamma}$ [GeV]"),
    "mgg_0": (53, 0.0, 10.6, r"$M_{\gamma\gamma}$ (pair without the leading photon) [GeV]"),
}


def validation_variables(channel: dict) -> dict[str, str | None]:
    """Variable -> cut left out of its N-1 plot: ``plots.validation_variables``, or by default every
    variable that a cut after the preselection uses (with that cut left out) and the fit variable
    (all cuts applied)."""
    given = (channel.get("plots") or {}).get("validation_variables")
    if given:
        return dict(given)
    from darkscan.expressions import check_expression
    from darkscan.select.variables import variable_columns

    columns = frozenset(variable_columns(channel["selection"]["variables"]))
    cuts = channel["selection"]["cuts"]
    names = [cut["name"] for cut in cuts]
    pre = channel["selection"].get("preselection")
    start = names.index(pre) + 1 if pre in names else 0
    chosen: dict[str, str | None] = {}
    for cut in cuts[start:]:
        for variable in check_expression(cut["expr"], columns):
            chosen.setdefault(variable, cut["name"])
    for feature in (channel.get("mva") or {}).get("features", []):
        chosen.setdefault(feature, "mva")  # before the MVA cut, every other cut applied
    if channel.get("mva"):
        chosen["mva_score"] = "mva"
    fit = channel["fit"]
    for column in [*(fit.get("columns") or [fit["variable"]]), *filter(None, [fit.get("variable2")])]:
        if column in columns:
            chosen[column] = None
    return chosen


def _axis(variable: str, values: np.ndarray) -> hist.axis.Regular:
    """The axis of a variable: from VARIABLE_AXES, else spanning the first values seen."""
    if variable in VARIABLE_AXES:
        bins, low, high, label = VARIABLE_AXES[variable]
    else:
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max()) + 1e-9) if len(finite) else (0.0, 1.0)
        bins, label = 50, variable
    return hist.axis.Regular(bins, low, high, name=variable, label=label)


def nminus1_histograms(
    path: str | os.PathLike,
    variables: dict[str, str | None],
    *,
    scale: float,
    axes: dict[str, hist.axis.Regular],
    step_size: int = 1_000_000,
) -> dict[str, hist.Hist]:
    """Histogram of each variable after all cuts but its own ("N-1"; None: all cuts).

    The selected-events file is read in steps, so memory stays flat whatever its size. Weights
    are multiplied by ``scale`` (the luminosity for MC, 1 for data). ``axes`` is shared between
    the samples of one plot and filled in on first use.
    """
    with rootio.open_checked(path) as file:
        tree = rootio.tree_of(file, path)
        wanted = [c for c in tree.keys() if c in variables or c.startswith("cut_") or c in ("weight", "passed")]
        result: dict[str, hist.Hist] = {}
        for chunk in tree.iterate(wanted, step_size=step_size, library="np"):
            flags = {k: v for k, v in chunk.items() if k.startswith("cut_")}
            for variable, cut in variables.items():
                if variable not in chunk:
                    continue
                axes.setdefault(variable, _axis(variable, chunk[variable]))
                h = result.setdefault(variable, hist.Hist(axes[variable], storage=hist.storage.Weight()))
                others = [v for k, v in flags.items() if k != f"cut_{cut}"]
                mask = (
                    chunk["passed"]
                    if cut is None
                    else (np.logical_and.reduce(others) if others else np.ones(len(chunk["weight"]), dtype=bool))
                )
                h.fill(chunk[variable][mask], weight=chunk["weight"][mask] * scale)
    return result


def data_mc(ax, histograms: dict[str, hist.Hist], *, labels: dict[str, str]) -> None:
    """Stacked MC histograms vs. the data histogram (sample ``data``) of one variable."""
    stack = [(labels.get(name, name), h) for name, h in histograms.items() if name != "data"]
    if stack:
        mplhep.histplot([h for _, h in stack], stack=True, histtype="fill", label=[n for n, _ in stack], ax=ax)
    any_hist = next(iter(histograms.values()))
    if "data" in histograms:
        data = histograms["data"]
        mplhep.histplot(
            data.values(),
            data.axes[0].edges,
            histtype="errorbar",
            yerr=np.sqrt(data.values()),
            color="black",
            label="Pseudo-data",
            ax=ax,
        )
    axis = any_hist.axes[0]
    ax.set_xlabel(axis.label)
    ax.set_ylabel(f"Events / {axis.widths[0]:.3g}")
    ax.legend(frameon=False, fontsize="small")


def cutflow_table(cutflow: pd.DataFrame) -> pd.DataFrame:
    """Cut flow as one row per cut and one column per sample (expected events)."""
    order = list(dict.fromkeys(cutflow["cut"]))
    table = cutflow.pivot_table(index="cut", columns="sample", values="yield", sort=False).reindex(order)
    return table


def signal_vs_mass(model: SignalModel) -> plt.Figure:
    """Signal efficiency and fit-variable resolution vs. generated mass, with the interpolation."""
    masses = model.masses
    grid = np.linspace(masses[0], masses[-1], 200)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    eff = np.array([p.efficiency for p in model.points])
    err = np.array([p.efficiency_err for p in model.points])
    left.errorbar(masses, eff, yerr=err, fmt="ko", label="generated masses")
    left.plot(grid, [model.efficiency(m) for m in grid], "b-", label="interpolation")
    left.set_xlabel("Mass [GeV]")
    left.set_ylabel("Signal efficiency")
    left.legend(frameon=False)
    right.plot(masses, [p.resolution for p in model.points], "ko", label="generated masses")
    right.plot(grid, [model.resolution(m) for m in grid], "b-", label="interpolation")
    right.set_xlabel("Mass [GeV]")
    right.set_ylabel("Resolution (half 16-84% range) [GeV]")
    right.legend(frameon=False)
    fig.tight_layout()
    return fig

"""What the validation notebook draws: N-1 and fit-variable histograms, the cut flow, signal overlays,
signal efficiency and resolution vs. mass (1D) or on the mass plane (2D)."""

from __future__ import annotations

import dataclasses
import os
import re

import hist
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.expressions import thresholds
from darkscan.plots import datamc
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
    "m3gamma_over_sqrt_s": (60, 0.7, 1.1, r"$M_{3\gamma}$ / √$s$"),  # mathtext \sqrt has no glyph in the ROOT style
    "p3gamma_cm": (50, 0.0, 2.0, r"$p^*_{3\gamma}$ [GeV]"),
    "e3_lab": (50, 0.0, 5.0, r"third photon energy (lab) [GeV]"),
    "mumu_mass": (55, 0.0, 11.0, r"$M(\mu\mu)$ [GeV]"),
    "mgg_0": (53, 0.0, 10.6, r"$M_{\gamma\gamma}$ (pair without the leading photon) [GeV]"),
    "n_photons_near_recoil": (6, -0.5, 5.5, r"ECL photons within the recoil cone"),
    "n_klm_near_recoil": (6, -0.5, 5.5, r"KLM clusters within the recoil cone"),
    "n_photons": (8, -0.5, 7.5, r"photons"),
    "n_photons_hard": (8, -0.5, 7.5, r"photons with $E_{\mathrm{lab}} > 0.65$ GeV"),
    "n_tracks": (8, -0.5, 7.5, r"tracks"),
}

#: most bins of the axis of an integer-valued variable that is not in VARIABLE_AXES (one per value)
INTEGER_BINS_MAX = 30


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


def _axis(variable: str, values: np.ndarray, label: str | None = None) -> hist.axis.Regular:
    """The axis of a variable: from VARIABLE_AXES, else spanning the first values seen (titled
    ``label``, else the variable's name)."""
    if variable in VARIABLE_AXES:
        bins, low, high, label = VARIABLE_AXES[variable]
    else:
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max()) + 1e-9) if len(finite) else (0.0, 1.0)
        bins, label = 50, label or variable
        if len(finite) and np.all(finite == np.round(finite)) and high - low < INTEGER_BINS_MAX:
            low, high = float(finite.min()) - 0.5, float(finite.max()) + 1.5  # one bin per value, one beyond
            bins = int(round(high - low))
    return hist.axis.Regular(bins, low, high, name=variable, label=label)


@dataclasses.dataclass(frozen=True)
class View:
    """One histogram of the notebook: ``columns`` (several entries per event, each with the event
    weight, are summed), after every cut but ``cut`` (None: all cuts), on ``axis`` (None: the
    variable's entry in :data:`VARIABLE_AXES`, else spanning the first values read); with
    ``band`` (column, low, high) only events with low <= column < high."""

    columns: tuple[str, ...]
    cut: str | None = None
    axis: hist.axis.Regular | None = None
    band: tuple[str, float, float] | None = None
    label: str | None = None  # axis title where VARIABLE_AXES has none (a registered column's label)

    @property
    def reads(self) -> tuple[str, ...]:
        """The columns the view reads: its own and the band's."""
        return (*self.columns, *(self.band or ())[:1])


def column_labels(channel: dict) -> dict[str, str]:
    """Axis titles of the channel's variable columns: the registered label, with its unit."""
    from darkscan.select.variables import variable_columns

    columns = variable_columns(channel["selection"]["variables"])
    return {name: f"{c.label} [{c.unit}]" if c.unit else c.label for name, c in columns.items()}


def nminus1_views(variables: dict[str, str | None], labels: dict[str, str] | None = None) -> dict[str, View]:
    """One :class:`View` per variable of :func:`validation_variables` (``labels``: axis titles,
    e.g. :func:`column_labels`, where VARIABLE_AXES has none)."""
    labels = labels or {}
    return {variable: View((variable,), cut, label=labels.get(variable)) for variable, cut in variables.items()}


def fit_views(channel: dict) -> dict[str, View]:
    """The fit variable(s) at the fit's binning (``fit.histogram``) over its full range, all cuts
    applied: ``fit`` (the summed ``fit.columns`` of a 1D fit, or ``fit.variable``) and ``fit2``
    (``fit.variable2`` of a two-mass fit)."""
    fit = channel["fit"]
    binning, unit = fit["histogram"], fit.get("unit", "GeV")

    def view(name: str, variable: str, columns: tuple[str, ...], fallback: str) -> View:
        # the channel's own fit.label first: a column name may mean other things in other channels
        label = f"{fit['label']} [{unit}]" if name == "fit" and "label" in fit else None
        label = label or (VARIABLE_AXES[variable][3] if variable in VARIABLE_AXES else f"{fallback} [{unit}]")
        axis = hist.axis.Regular(binning["bins"], binning["low"], binning["high"], name=name, label=label)
        return View(columns, None, axis)

    first = fit["variable"]
    views = {"fit": view("fit", first, tuple(fit.get("columns") or [first]), fit.get("label", first))}
    if fit.get("variable2"):
        views["fit2"] = view("fit2", fit["variable2"], (fit["variable2"],), fit["variable2"])
    return views


def _selected(chunk: dict, cut: str | None) -> np.ndarray:
    """Events passing all cuts (``cut`` None) or all but ``cut`` (flags ``cut_<name>``)."""
    if cut is None:
        return chunk["passed"].astype(bool)
    others = [v for k, v in chunk.items() if k.startswith("cut_") and k != f"cut_{cut}"]
    return np.logical_and.reduce(others) if others else np.ones(len(chunk["weight"]), dtype=bool)


def nminus1_histograms(
    path: str | os.PathLike,
    views: dict[str, View],
    *,
    scale: float,
    axes: dict[str, hist.axis.Regular],
    step_size: int = 1_000_000,
) -> dict[str, hist.Hist]:
    """Histogram of each view (:class:`View`: N-1, or all cuts) of one selected-events file.

    The file is read once, in steps, so memory stays flat whatever its size. Weights are
    multiplied by ``scale`` (the luminosity for MC, 1 for data). ``axes`` (view -> axis) is
    shared between the samples of one plot and filled in on first use. Views whose columns the
    file lacks are left out.
    """
    with rootio.open_checked(path) as file:
        tree = rootio.tree_of(file, path)
        needed = {c for view in views.values() for c in view.reads}
        wanted = [c for c in tree.keys() if c in needed or c.startswith("cut_") or c in ("weight", "passed")]
        result: dict[str, hist.Hist] = {}
        for chunk in tree.iterate(wanted, step_size=step_size, library="np"):
            for name, view in views.items():
                if not all(c in chunk for c in view.reads):
                    continue
                axes.setdefault(name, view.axis or _axis(view.columns[0], chunk[view.columns[0]], view.label))
                h = result.setdefault(name, hist.Hist(axes[name], storage=hist.storage.Weight()))
                mask = _selected(chunk, view.cut)
                if view.band is not None:
                    column, low, high = view.band
                    mask = mask & (chunk[column] >= low) & (chunk[column] < high)
                for column in view.columns:
                    h.fill(chunk[column][mask], weight=chunk["weight"][mask] * scale)
    return result


def cut_thresholds(channel: dict, variable: str, cut: str | None) -> list[datamc.Threshold]:
    """The cut values on ``variable``: of the cut left out (an N-1 plot), or of every cut on it."""
    cuts = channel["selection"]["cuts"]
    chosen = [c for c in cuts if c["name"] == cut] if cut else cuts
    return [
        datamc.Threshold(value, kept, c.get("label", c["name"]))
        for c in chosen
        for value, kept in thresholds(c["expr"], variable)
    ]


def view_title(channel: dict, cut: str | None) -> str:
    """ "All cuts" or "N-1: all cuts but <the cut's label>"."""
    if cut is None:
        return "all cuts"
    if cut == "mva":
        return "N-1: all cuts but the MVA"
    labels = {c["name"]: c.get("label", c["name"]) for c in channel["selection"]["cuts"]}
    return f"N-1: all cuts but {labels.get(cut, cut)}"


def overlay_signals(channel: dict, *, count: int = 2) -> list[tuple[str, float, float | None]]:
    """(sample, mass, mass2) of ``count`` generated signal points spread over the scan, for the
    overlays (1D: masses at 1/3 and 2/3 of the list; 2D: points likewise)."""
    from darkscan import config as cfg

    masses = channel["signal"]["masses"]
    picks = sorted({int(round(k * (len(masses) - 1) / (count + 1))) for k in range(1, count + 1)})
    chosen = []
    for i in picks:
        mass = masses[i]
        pair = mass if isinstance(mass, (list, tuple)) else (mass, None)
        chosen.append((cfg.signal_sample_name(mass), float(pair[0]), None if pair[1] is None else float(pair[1])))
    return chosen


def expected_limit(limits: pd.DataFrame, mass: float, mass2: float | None = None) -> float:
    """Median expected limit (``xsec_exp``, fb) of the scanned hypothesis nearest (mass, mass2)."""
    ok = limits[limits["xsec_exp"].notna()]
    distance = (ok["mass"] - mass) ** 2 + ((ok["mass2"] - mass2) ** 2 if mass2 is not None else 0.0)
    return float(ok.loc[distance.idxmin(), "xsec_exp"])


def signal_scale(path: str | os.PathLike, *, luminosity: float, xsec_fb: float) -> float:
    """Weight factor (events) of a selected signal file for a cross section of ``xsec_fb``: its
    weights are fb at the generated coupling (metadata ``xsec_fb``)."""
    return luminosity * xsec_fb / float(rootio.read_metadata(path)["xsec_fb"])


def cutflow_summary(cutflow: pd.DataFrame, *, backgrounds: list[str], signals: list[str]) -> pd.DataFrame:
    """The cut flow a person reads: per cut the summed MC and the data (events), their ratio, and
    the cumulative efficiency (%) of each background and of the ``signals`` chosen."""
    order = list(dict.fromkeys(cutflow["cut"]))
    table = cutflow.pivot_table(index="cut", columns="sample", values="yield", sort=False).reindex(order)
    efficiency = cutflow.pivot_table(index="cut", columns="sample", values="efficiency", sort=False).reindex(order)
    summary = pd.DataFrame(index=pd.Index(order, name="cut"))
    summary["MC total"] = table[backgrounds].sum(axis=1, min_count=1)
    if "data" in table:
        summary["data"] = table["data"]
        summary["data / MC"] = table["data"] / summary["MC total"]
    for name in [*backgrounds, *signals]:
        summary[f"eff. {name} [%]"] = 100.0 * efficiency[name]
    labels = cutflow.drop_duplicates("cut").set_index("cut")["label"]
    summary.index = [plain_text(str(labels.get(cut, cut))) for cut in order]
    return summary


_TEX_SYMBOLS = {
    "gamma": "γ",
    "mu": "μ",
    "tau": "τ",
    "sigma": "σ",
    "theta": "θ",
    "alpha": "α",
    "varepsilon": "ε",
    "pi": "π",
    "eta": "η",
    "ell": "ℓ",
    "to": "→",
    "pm": "±",
    "sqrt": "√",
}


def plain_text(label: str) -> str:
    """A matplotlib mathtext label as plain text for HTML tables (the offline notebook page has
    no MathJax): ``"muon $p_T > 0.4$ GeV"`` -> ``"muon p_T > 0.4 GeV"``, Greek letters as such."""
    text = re.sub(r"\\mathrm\{([^{}]*)\}", r"\1", label)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_SYMBOLS.get(m.group(1), m.group(1)), text)
    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1\2", text).replace(r"\,", " ")
    return re.sub(r"\s+", " ", text.replace("$", "").replace("{", "").replace("}", "")).strip()


def signal_vs_mass(model: SignalModel, *, mass_label: str = "Mass [GeV]") -> plt.Figure:
    """Signal efficiency and fit-variable resolution vs. generated mass (axis ``mass_label``), with
    the interpolation."""
    masses = model.masses
    grid = np.linspace(masses[0], masses[-1], 200)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    eff = np.array([p.efficiency for p in model.points])
    err = np.array([p.efficiency_err for p in model.points])
    left.errorbar(masses, eff, yerr=err, fmt="ko", label="generated masses")
    left.plot(grid, [model.efficiency(m) for m in grid], "b-", label="interpolation")
    left.set_xlabel(mass_label)
    left.set_ylabel("Signal efficiency")
    left.legend(frameon=False)
    right.plot(masses, [p.resolution for p in model.points], "ko", label="generated masses")
    right.plot(grid, [model.resolution(m) for m in grid], "b-", label="interpolation")
    right.set_xlabel(mass_label)
    right.set_ylabel("Resolution [GeV]")
    right.set_title("half the 16-84% range of the fit variable", fontsize="small", loc="left")
    right.legend(frameon=False)
    fig.tight_layout()
    return fig


_MAP_FIELDS = (
    ("efficiency", "signal efficiency", ""),
    ("resolution", "resolution of {x}", " [GeV]"),
    ("resolution2", "resolution of {y}", " [GeV]"),
)


def signal_maps_2d(model, *, labels: tuple[str, str]) -> plt.Figure:
    """Efficiency and both resolutions of a two-mass signal model: on the mass plane (top: the
    interpolation on a binned grid, the generated points marked with their values) and along each
    row of generated points (bottom: one line per first mass, against the second).

    Args:
        model: :class:`darkscan.stats.methods.ellipse_counting.signal.SignalModel2D`.
        labels: axis labels with units of the two masses, e.g. ``("$m_{A'}$ [GeV]", "$m_{h'}$ [GeV]")``.
    """
    points = model.masses
    x_edges = np.linspace(points[:, 0].min(), points[:, 0].max(), 61)
    y_edges = np.linspace(points[:, 1].min(), points[:, 1].max(), 61)
    xc, yc = np.meshgrid(0.5 * (x_edges[1:] + x_edges[:-1]), 0.5 * (y_edges[1:] + y_edges[:-1]), indexing="ij")
    grid = model.values(xc, yc)  # (60, 60, fields), NaN outside the hull
    fig, axes = plt.subplots(2, 3, figsize=(21, 12))
    names = [label.split(" [")[0] for label in labels]
    for k, (field, title, unit) in enumerate(_MAP_FIELDS):
        title = title.format(x=names[0], y=names[1])
        values = np.array([getattr(p, field) for p in model.points])
        top, bottom = axes[0, k], axes[1, k]
        mesh = top.pcolormesh(x_edges, y_edges, grid[..., k].T, cmap="viridis", shading="flat")
        fig.colorbar(mesh, ax=top, label=title + unit)
        top.plot(points[:, 0], points[:, 1], "wo", markeredgecolor="k", label="generated")
        for (x, y), value in zip(points, values, strict=True):
            top.annotate(f"{value:.3g}", (x, y), textcoords="offset points", xytext=(4, 6), fontsize=11)
        top.set_xlabel(labels[0])
        top.set_ylabel(labels[1])
        for span, setter in ((x_edges, top.set_xlim), (y_edges, top.set_ylim)):  # room for the edge points' labels
            margin = 0.08 * (span[-1] - span[0])
            setter(span[0] - margin, span[-1] + margin)
        for i, first in enumerate(np.unique(points[:, 0])):
            row = points[:, 0] == first
            order = np.argsort(points[row, 1])
            bottom.plot(
                points[row, 1][order], values[row][order], "o-", color=f"C{i}", label=f"{names[0]} = {first:g} GeV"
            )
        bottom.set_xlabel(labels[1])
        bottom.set_ylabel(title + unit)
        bottom.legend(frameon=False, fontsize="x-small", loc="best")
    axes[0, 0].legend(frameon=False, fontsize="x-small", loc="upper right")
    fig.tight_layout()
    return fig


def mass_labels(channel: dict) -> tuple[str, str]:
    """Axis labels with units of the model's masses (``mass_label``, ``mass2_label``)."""
    from darkscan.physics.models import get_model

    model, unit = get_model(channel["model"]), channel["fit"].get("unit", "GeV")
    return f"{model.mass_label} [{unit}]", f"{model.mass2_label} [{unit}]"


#: half-width of the zoom around the largest local excess, in resolutions at its mass
EXCESS_WINDOW_RESOLUTIONS = 10.0


def excess_resolution(limits: pd.DataFrame, significance: dict, *, dimension: int = 0) -> float:
    """The resolution (GeV; ``resolution``, or ``resolution2`` for the second mass) at the
    hypothesis of the largest local excess; the zoom on it spans
    :data:`EXCESS_WINDOW_RESOLUTIONS` of them either side."""
    distance = (limits["mass"] - significance["mass_at_max"]) ** 2
    if "mass2_at_max" in significance:
        distance = distance + (limits["mass2"] - significance["mass2_at_max"]) ** 2
    column = "resolution2" if dimension else "resolution"
    return float(limits.loc[distance.idxmin(), column])


def excess_band_views(channel: dict, limits: pd.DataFrame, significance: dict, views: dict[str, View]) -> dict:
    """Two-mass channels: each fit variable for the events near the largest excess in the other one
    (within ``fit.signal_sigmas`` resolutions of it, the ellipse's half-axis): ``fit_at_excess``
    and ``fit2_at_excess``. One-mass channels: none (their zoom slices the ``fit`` view)."""
    if "fit2" not in views or significance.get("mass2_at_max") is None:
        return {}
    sigmas = float(channel["fit"].get("signal_sigmas", 2.5))
    centre = (significance["mass_at_max"], significance["mass2_at_max"])
    half = [sigmas * excess_resolution(limits, significance, dimension=k) for k in (0, 1)]
    first, second = views["fit"], views["fit2"]
    return {
        "fit_at_excess": dataclasses.replace(first, band=(second.columns[0], centre[1] - half[1], centre[1] + half[1])),
        "fit2_at_excess": dataclasses.replace(
            second, band=(first.columns[0], centre[0] - half[0], centre[0] + half[0])
        ),
    }


def band_title(view: View) -> str:
    """``"<column> in [low, high] GeV"`` of a view with a band, else empty."""
    if view.band is None:
        return ""
    column, low, high = view.band
    label = VARIABLE_AXES.get(column, (None, None, None, column))[3].split(" [")[0]
    return f"{label} in [{low:.3g}, {high:.3g}] GeV"


def slice_window(h: hist.Hist, low: float, high: float, *, factor: int = 1) -> hist.Hist:
    """``h`` restricted to the bins between ``low`` and ``high`` (clipped to its range), merged in
    groups of ``factor`` bins (a remainder at the upper end is dropped)."""
    edges = h.axes[0].edges
    first = int(np.searchsorted(edges, max(low, edges[0]), side="right")) - 1
    last = int(np.searchsorted(edges, min(high, edges[-1]), side="left"))
    last = first + max((last - first) // factor, 1) * factor
    return h[first : last : hist.rebin(factor)]


#: bins of the full-range fit-variable plot at most (merged from the fit's bins by an integer factor)
FULL_RANGE_BINS = 200


def merge_factor(bins: int, *, target: int) -> int:
    """The smallest divisor k of ``bins`` with bins / k <= ``target``: fit bins merged k at a time
    keep every edge a fit-bin edge (the scan's windows snap to those)."""
    return next(k for k in range(1, bins + 1) if bins % k == 0 and bins // k <= target)


def zoom_factor(h: hist.Hist, resolution: float, *, window: tuple[float, float] | None = None) -> int:
    """Fit bins merged per bin of the zoom on an excess: bins of about half a resolution (40 bins
    over :data:`EXCESS_WINDOW_RESOLUTIONS` either side), coarser where the histogram ``h`` (the
    data) holds fewer than :data:`ZOOM_EVENTS_PER_BIN` events per bin in ``window``, down to
    :data:`ZOOM_MIN_BINS` bins."""
    width = h.axes[0].widths[0]
    factor = max(int(resolution / 2.0 / width), 1)
    if window is None:
        return factor
    events = float(slice_window(h, *window).values().sum())
    bins_in_window = max(int((window[1] - window[0]) / width), 1)
    wanted = int(np.clip(events / ZOOM_EVENTS_PER_BIN, ZOOM_MIN_BINS, bins_in_window / factor))
    return max(factor, bins_in_window // max(wanted, 1))


#: fewest data events per bin the zoom on an excess aims at, and its fewest bins
ZOOM_EVENTS_PER_BIN = 5.0
ZOOM_MIN_BINS = 10

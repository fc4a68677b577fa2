"""The pyhf model of one mass hypothesis: a signal window and two sidebands.

Bins (snapped to the edges of the fine histograms): the signal window mass +- ``signal_sigmas``
resolutions and the sidebands out to +- ``window_sigmas`` resolutions. Samples: ``signal`` (the
expected events for a cross section of 1 fb, so the POI ``mu`` is the cross section in fb) and
``background`` (the summed MC with a free normalisation ``background_norm`` fixed by the
sidebands). Modifiers, all from ``systematics.csv``:

* ``signal_normalisation`` (normsys): the flat signal sources in quadrature, plus the change of
  the signal fraction in the window when the resolution is scaled by +-the resolution systematic;
* ``background_mc_statistics`` (histosys): the window bin of the background moved by its
  MC-statistics uncertainty, and ``background_mc_statistics_low`` / ``_high`` each sideband.

Where the sidebands measure the background normalisation less precisely than the simulation
knows it (expected sideband background below 1 / u^2 events for the MC normalisation
uncertainty u, ``fit.mc_background_uncertainty``), ``background_norm`` is fixed at 1 and the
background comes from the MC with a ``background_normalisation`` normsys of u. A free
normalisation over empty sidebands is bounded only by its range (0-10): in the tiny Z' build
with the MVA it took up to 10x the window background and absorbed injected signals (fitted
8.2 fb for 37 fb injected at 4.6 GeV).

Four parameters keep each fit fast; with darkscan.stats.cls one hypothesis takes a fraction of
a second (benchmarks/RESULTS.md), so a scan of hundreds of hypotheses fits in minutes.
"""

from __future__ import annotations

import dataclasses

import hist
import numpy as np

from darkscan.stats.engine.batch import CONSTRAINED_BOUNDS
from darkscan.stats.scan import MEASUREMENT_NAME
from darkscan.stats.signal_model import Interpolated
from darkscan.systematics.table import Systematic

POI = "mu"


@dataclasses.dataclass(frozen=True)
class WindowInputs:
    """Histogram contents in the bins of one hypothesis (signal per fb of cross section)."""

    edges: np.ndarray
    data: np.ndarray
    background: np.ndarray
    background_sumw2: np.ndarray
    signal: np.ndarray
    signal_up: np.ndarray
    signal_down: np.ndarray


def window_edges(
    fine_edges: np.ndarray, mass: float, resolution: float, *, window_sigmas: float, signal_sigmas: float
) -> np.ndarray:
    """[low sideband | signal window | high sideband] edges, snapped to ``fine_edges``.

    Sidebands that would leave the histogram range are cut at its edge (or dropped).
    """
    wanted = mass + resolution * np.array([-window_sigmas, -signal_sigmas, signal_sigmas, window_sigmas])
    wanted = np.clip(wanted, fine_edges[0], fine_edges[-1])
    snapped = np.unique(fine_edges[np.abs(fine_edges[None, :] - wanted[:, None]).argmin(axis=1)])
    if len(snapped) < 2:
        raise ValueError(
            f"mass {mass} GeV: the fit window has no bins inside the histogram range "
            f"[{fine_edges[0]}, {fine_edges[-1]}]"
        )
    return snapped


def rebin(h: hist.Hist, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum values and variances of ``h`` into coarser ``edges`` (which lie on its bin edges)."""
    fine = h.axes[0].edges
    index = np.searchsorted(fine, edges)
    values, variances = h.values(), h.variances()
    if variances is None:
        variances = values.copy()
    cum_v = np.concatenate([[0.0], np.cumsum(values)])
    cum_w2 = np.concatenate([[0.0], np.cumsum(variances)])
    return np.diff(cum_v[index]), np.diff(cum_w2[index])


def window_inputs(
    mass: float,
    signal: Interpolated,
    *,
    data: hist.Hist,
    background: hist.Hist,
    luminosity_fb: float,
    window_sigmas: float,
    signal_sigmas: float,
    resolution_scale: float,
) -> WindowInputs:
    """Collect data, background and signal (per fb) in the bins of ``mass``."""
    edges = window_edges(
        background.axes[0].edges, mass, signal.resolution, window_sigmas=window_sigmas, signal_sigmas=signal_sigmas
    )
    d, _ = rebin(data, edges)
    b, b2 = rebin(background, edges)
    return WindowInputs(
        edges=edges,
        data=d,
        background=b,
        background_sumw2=b2,
        signal=signal.template(edges) * luminosity_fb,
        signal_up=signal.template(edges, resolution_scale=1 + resolution_scale) * luminosity_fb,
        signal_down=signal.template(edges, resolution_scale=1 - resolution_scale) * luminosity_fb,
    )


def signal_scale(inputs: WindowInputs) -> float:
    """A cross section (fb) near the expected sensitivity: the POI scan is laid out around it.

    Two standard deviations of the background in the signal window, counting its Poisson
    fluctuation, the uncertainty of its extrapolation from the sidebands (b^2 / b_sidebands) and
    its MC statistics, plus three events; divided by the signal per fb in the window.
    """
    s = inputs.signal.max()
    if s <= 0:
        raise ValueError("no signal expected in the fit window")
    window = int(np.argmax(inputs.signal))
    b = max(inputs.background[window], 0.0)
    sidebands = inputs.background.sum() - inputs.background[window]
    variance = b + 1.0 + max(inputs.background_sumw2[window], 0.0) + (b * b / sidebands if sidebands > 0 else 0.0)
    return float((2.0 * np.sqrt(variance) + 3.0) / s)


def _resolution_effect(inputs: WindowInputs) -> float:
    """Largest relative change of the signal in its window when the resolution is scaled."""
    window = int(np.argmax(inputs.signal))
    nominal = inputs.signal[window]
    return float(max(abs(inputs.signal_up[window] - nominal), abs(inputs.signal_down[window] - nominal)) / nominal)


def _mc_statistics_modifiers(
    inputs: WindowInputs, background: np.ndarray, *, background_floor: float
) -> tuple[list[dict], list[dict]]:
    """One histosys per bin moving it by its MC-statistics error sqrt(sum w^2) (Barlow-Beeston lite).

    The window bin (``background_mc_statistics``; moved by the floor where it holds no MC event)
    and each sideband with MC events (``background_mc_statistics_low`` / ``_high``): the sidebands'
    MC error enters the window-to-sideband ratio that predicts the window (without it the pulls of
    a strong injected signal were 1.10 wide and its limits undercovered at the ALP's 0.2 GeV).

    Returns:
        The modifiers and their parameter bounds: below alpha = -1 the histosys extrapolates
        linearly, and a bin of a few MC events would reach negative expected counts, which an
        empty data bin rewards (its -2 ln L is 2 nu). The lower bound stops each bin at the floor.
    """
    window = int(np.argmax(inputs.signal))
    modifiers, parameters = [], []
    for j in range(len(background)):
        if j == window:
            name = "background_mc_statistics"
            sigma = np.sqrt(max(inputs.background_sumw2[j], 0.0)) if inputs.background[j] > 0 else background_floor
        elif inputs.background[j] > 0 and inputs.background_sumw2[j] > 0:
            name = "background_mc_statistics_" + ("low" if j < window else "high")
            sigma = float(np.sqrt(inputs.background_sumw2[j]))
        else:
            continue
        up, down = background.copy(), background.copy()
        up[j] += sigma
        down[j] = max(down[j] - sigma, background_floor)
        modifiers.append({"name": name, "type": "histosys", "data": {"hi_data": up.tolist(), "lo_data": down.tolist()}})
        shift = background[j] - down[j]  # <= background - floor: the bound is at or below -1
        if shift > 0:
            low, high = CONSTRAINED_BOUNDS  # pyhf's default histosys bounds
            lower = max(-(background[j] - background_floor) / shift, low)
            parameters.append({"name": name, "bounds": [[float(lower), high]]})
    return modifiers, parameters


def sidebands_measure_the_background(inputs: WindowInputs, mc_uncertainty: float | None) -> bool:
    """True where the sidebands' expected background B gives the normalisation to better than the
    MC's own uncertainty (1 / sqrt(B) < ``mc_uncertainty``); always with ``mc_uncertainty`` None."""
    if mc_uncertainty is None:
        return True
    window = int(np.argmax(inputs.signal))
    return float(np.delete(inputs.background, window).sum()) * mc_uncertainty**2 >= 1.0


def spec_of(inputs: WindowInputs, systematics: list[Systematic], fit: dict) -> dict:
    """The workspace of one hypothesis with the channel's ``fit`` settings."""
    return build_spec(
        inputs,
        systematics,
        scale_fb=signal_scale(inputs),
        background_floor=fit["background_floor"],
        mc_background_uncertainty=fit.get("mc_background_uncertainty"),
    )


def build_spec(
    inputs: WindowInputs,
    systematics: list[Systematic],
    *,
    scale_fb: float,
    background_floor: float,
    mc_background_uncertainty: float | None = None,
) -> dict:
    """A pyhf workspace spec (schema 1.0.0) for one mass hypothesis (POI = cross section in fb).

    Args:
        inputs: the window's histogram contents.
        systematics: the channel's systematics table.
        scale_fb: the POI's typical size (its init; bounds 0-50x).
        background_floor: events per bin given to empty background bins.
        mc_background_uncertainty: the MC background normalisation uncertainty; None: the
            normalisation is always free (sidebands).
    """
    background = np.maximum(inputs.background, background_floor)
    free_norm = sidebands_measure_the_background(inputs, mc_background_uncertainty)
    signal_sources = [s.value for s in systematics if s.applies_to == "signal" and s.modifier == "normsys"]
    if any(s.applies_to == "signal" and s.modifier == "histosys" for s in systematics):
        signal_sources.append(_resolution_effect(inputs))
    signal_norm = float(np.sqrt(np.sum(np.square(signal_sources))))
    signal_modifiers = [{"name": POI, "type": "normfactor", "data": None}]
    if signal_norm > 0:
        signal_modifiers.append(
            {
                "name": "signal_normalisation",
                "type": "normsys",
                "data": {"hi": 1.0 + signal_norm, "lo": max(1.0 - signal_norm, 1e-3)},
            }
        )
    background_modifiers = [{"name": "background_norm", "type": "normfactor", "data": None}]
    norm_parameter = {"name": "background_norm", "bounds": [[0.0, 10.0]], "inits": [1.0]}
    if not free_norm:
        norm_parameter["fixed"] = True
        u = float(mc_background_uncertainty)
        background_modifiers.append(
            {"name": "background_normalisation", "type": "normsys", "data": {"hi": 1.0 + u, "lo": max(1.0 - u, 1e-3)}}
        )
    bounded: list[dict] = []
    if any(s.applies_to == "background" and s.modifier == "staterror" for s in systematics) and len(background) > 1:
        mc_statistics, bounded = _mc_statistics_modifiers(inputs, background, background_floor=background_floor)
        background_modifiers.extend(mc_statistics)
    for syst in systematics:
        if syst.applies_to == "background" and syst.modifier == "normsys":
            background_modifiers.append(
                {
                    "name": syst.name,
                    "type": "normsys",
                    "data": {"hi": 1.0 + syst.value, "lo": max(1.0 - syst.value, 1e-3)},
                }
            )
    return {
        "version": "1.0.0",
        "channels": [
            {
                "name": "window",
                "samples": [
                    {"name": "signal", "data": inputs.signal.tolist(), "modifiers": signal_modifiers},
                    {"name": "background", "data": background.tolist(), "modifiers": background_modifiers},
                ],
            }
        ],
        "observations": [{"name": "window", "data": inputs.data.tolist()}],
        "measurements": [
            {
                "name": MEASUREMENT_NAME,
                "config": {
                    "poi": POI,
                    "parameters": [
                        {"name": POI, "bounds": [[0.0, 50.0 * scale_fb]], "inits": [scale_fb]},
                        norm_parameter,
                        *bounded,
                    ],
                },
            }
        ],
    }

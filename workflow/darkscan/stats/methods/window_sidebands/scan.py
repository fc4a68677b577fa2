"""The 1D window + sidebands scan of one part of the grid, with the vectorised engine.

Every hypothesis gets its pyhf workspace
(:func:`darkscan.stats.methods.window_sidebands.model.build_spec`, written to ``workspaces/``);
all of them are fitted at once by :mod:`darkscan.stats.engine` (observed and +-1/2 sigma
expected CLs limits, local p0). pyhf stays the reference: every ``pyhf_check_every``-th
hypothesis of the full grid, and every one the engine did not converge on, is recomputed with
pyhf's exact root finding (:func:`darkscan.stats.engine.pyhf_reference`); the relative
differences go into the ``pyhf_check_*`` columns and the part fails if one exceeds
``pyhf_check_tolerance``. Hypotheses the engine cannot fit fall back to pyhf with retries
(:func:`darkscan.stats.methods.window_sidebands.pyhf_fit.fit_mass`), flagged in ``status``.

Extra columns: ``n_eff_background``, the effective number of MC events of the background in
the signal window, (sum w)^2 / sum w^2, and ``low_mc_statistics`` where it is below 10. The
parts are merged into ``limits.csv`` by :func:`darkscan.stats.scan.merge_parts`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib

import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.seeds import rng_for
from darkscan.select.histograms import SIGNAL_REGION, histogram_key, read_histogram
from darkscan.stats import engine
from darkscan.stats.methods.window_sidebands.model import WindowInputs, spec_of, window_inputs
from darkscan.stats.methods.window_sidebands.pyhf_fit import fit_mass
from darkscan.stats.methods.window_sidebands.toy_limits import apply_toy_limits
from darkscan.stats.scan import SIGMA_SUFFIXES, grid_part
from darkscan.stats.signal_model import DEFAULT_RESOLUTION_QUANTILE, SignalModel, load_signal_point
from darkscan.systematics.table import read_table

log = logging.getLogger(__name__)
LOW_MC_EVENTS = 10.0


def load_signal_model(signal_files: list[str | os.PathLike], *, channel: dict) -> SignalModel:
    """The interpolating signal model from the selected signal files."""
    fit = channel["fit"]
    columns = fit.get("columns") or [fit["variable"]]
    quantile = fit.get("resolution_quantile", DEFAULT_RESOLUTION_QUANTILE)
    return SignalModel(
        [
            load_signal_point(p, variable=fit["variable"], columns=columns, resolution_quantile=quantile)
            for p in signal_files
        ]
    )


def summed_background(histograms_path: str | os.PathLike, channel: dict):
    """Sum of the background histograms in the signal region."""
    total = None
    for name in channel["backgrounds"]:
        h = read_histogram(histograms_path, histogram_key(SIGNAL_REGION, name))
        total = h if total is None else total + h
    return total


@dataclasses.dataclass(frozen=True)
class Hypothesis:
    """One mass hypothesis: its interpolated signal, the window contents and the pyhf spec."""

    index: int  # position in the full grid
    mass: float
    signal: object
    inputs: WindowInputs
    spec: dict


def build_hypotheses(
    masses: np.ndarray, indices: np.ndarray, model, *, data, background, channel: dict, systematics
) -> list[Hypothesis]:
    """Window inputs and pyhf specs of the hypotheses at ``masses`` (grid positions ``indices``)."""
    fit = channel["fit"]
    resolution_syst = next((s.value for s in systematics if s.modifier == "histosys"), 0.0)
    out = []
    for index, mass in zip(indices, masses, strict=True):
        signal = model.at(float(mass))
        inputs = window_inputs(
            float(mass),
            signal,
            data=data,
            background=background,
            luminosity_fb=channel["luminosity_fb"],
            window_sigmas=fit["window_sigmas"],
            signal_sigmas=fit["signal_sigmas"],
            resolution_scale=resolution_syst,
        )
        spec = spec_of(inputs, systematics, fit)
        out.append(Hypothesis(int(index), float(mass), signal, inputs, spec))
    return out


def effective_mc_events(inputs: WindowInputs) -> float:
    """(sum w)^2 / sum w^2 of the background in the signal window (the bin with the most signal)."""
    window = int(np.argmax(inputs.signal))
    b, b2 = inputs.background[window], inputs.background_sumw2[window]
    return float(b * b / b2) if b > 0 and b2 > 0 else 0.0


def _row(h: Hypothesis, status: str, observed: float, expected, p0: float, z: float) -> dict:
    row = {"mass": h.mass, "status": status, "xsec_obs": float(observed)}
    row.update({f"xsec_{name}": float(value) for name, value in zip(SIGMA_SUFFIXES, expected, strict=True)})
    n_eff = effective_mc_events(h.inputs)
    row.update(
        {
            "p0_local": float(p0),
            "z_local": float(z),
            "efficiency": h.signal.efficiency,
            "resolution": h.signal.resolution,
            "signal_xsec_fb": h.signal.xsec_fb,
            "n_bins": len(h.inputs.data),
            "background": float(h.inputs.background.sum()),
            "background_window": float(h.inputs.background[int(np.argmax(h.inputs.signal))]),
            "data": float(h.inputs.data.sum()),
            "n_eff_background": n_eff,
            "low_mc_statistics": bool(n_eff < LOW_MC_EVENTS),
            "limit_method": "cls_asymptotic_engine",
            "pyhf_check_obs": np.nan,
            "pyhf_check_exp": np.nan,
            "pyhf_check_z": np.nan,
        }
    )
    return row


def _fallback_row(h: Hypothesis, *, data, background, channel: dict, systematics) -> dict:
    """A hypothesis the engine did not converge on: pyhf with retries (``status`` names the attempt)."""
    result = fit_mass(h.mass, h.signal, data=data, background=background, channel=channel, systematics=systematics)
    row = _row(h, result.status, result.xsec_obs, result.xsec_exp, result.p0_local, result.z_local)
    row["limit_method"] = "cls_asymptotic_pyhf"
    return row


def fit_hypotheses(
    hypotheses: list[Hypothesis], *, level: float, data, background, channel: dict, systematics
) -> pd.DataFrame:
    """Limits and p0 of all hypotheses with the engine; pyhf for those it did not converge on."""
    if not hypotheses:
        return pd.DataFrame()
    batch = engine.batch_from_specs([h.spec for h in hypotheses])
    limits = engine.upper_limits(batch, level=level)
    p0, z = engine.discovery_p0(batch)
    rows = []
    for i, h in enumerate(hypotheses):
        values = [limits.observed[i], *limits.expected[:, i]]
        if limits.converged[i] and np.all(np.isfinite(values)) and values[0] > 0:
            rows.append(_row(h, "ok", limits.observed[i], limits.expected[:, i], p0[i], z[i]))
        else:
            log.warning("m = %.4f GeV: the engine did not converge; pyhf with retries", h.mass)
            rows.append(_fallback_row(h, data=data, background=background, channel=channel, systematics=systematics))
    return pd.DataFrame(rows)


def cross_check_with_pyhf(
    frame: pd.DataFrame, hypotheses: list[Hypothesis], *, level: float, every: int, tolerance: float
) -> list[str]:
    """Recompute every ``every``-th hypothesis of the grid (and every fallback) with pyhf; returns
    the hypotheses whose limits differ by more than ``tolerance`` (relative) from the engine's."""
    problems = []
    for i, h in enumerate(hypotheses):
        if h.index % every and frame.at[i, "limit_method"] == "cls_asymptotic_engine":
            continue
        reference = engine.pyhf_reference(h.spec, level, rtol=1e-3)
        ours = frame.loc[i, ["xsec_obs", *[f"xsec_{b}" for b in SIGMA_SUFFIXES]]].to_numpy(float)
        theirs = np.array([reference.observed, *reference.expected], float)
        rel = np.abs(ours / theirs - 1.0)
        frame.loc[i, ["pyhf_check_obs", "pyhf_check_exp", "pyhf_check_z"]] = (
            rel[0],
            rel[1:].max(),
            abs(frame.at[i, "z_local"] - reference.z),
        )
        if not np.all(rel <= tolerance):
            problems.append(
                f"m = {h.mass:.4f} GeV: limits differ from pyhf by up to {100 * np.nanmax(rel):.2f}% "
                f"(obs {ours[0]:.5g} vs {theirs[0]:.5g} fb)"
            )
    return problems


def write_workspaces(hypotheses: list[Hypothesis], workspace_dir) -> None:
    """One pyhf workspace (JSON) per hypothesis: ``mass_<m>.json``; the POI ``mu`` is the cross section in fb."""
    workspace_dir = pathlib.Path(workspace_dir)
    workspace_dir.mkdir(parents=True, exist_ok=True)
    for h in hypotheses:
        (workspace_dir / f"mass_{h.mass:.4f}.json").write_text(json.dumps(h.spec, indent=1, sort_keys=True))


def scan_part(
    *,
    channel: dict,
    signal_files: list[str],
    histograms_path: str,
    systematics_path: str,
    part: int,
    n_parts: int,
    out_csv: str | os.PathLike,
    workspace_dir: str | os.PathLike,
    seed: int,
) -> pd.DataFrame:
    """Fit every hypothesis of one part at once (:func:`fit_hypotheses`); write its rows and its
    pyhf workspaces. Fails if the engine and pyhf disagree beyond ``fit.pyhf_check_tolerance``.
    Then, per ``fit.limit``, toy-based CLs where asymptotics fail
    (:func:`~darkscan.stats.methods.window_sidebands.toy_limits.apply_toy_limits`, seeded by
    ``seed``, the channel and the part)."""
    fit = channel["fit"]
    model = load_signal_model(signal_files, channel=channel)
    full = model.scan_grid(channel["masses"])
    indices = grid_part(np.arange(len(full)), part, n_parts)
    data = read_histogram(histograms_path, histogram_key(SIGNAL_REGION, "data"))
    background = summed_background(histograms_path, channel)
    systematics = read_table(systematics_path)
    hypotheses = build_hypotheses(
        full[indices], indices, model, data=data, background=background, channel=channel, systematics=systematics
    )
    write_workspaces(hypotheses, workspace_dir)
    level = 1.0 - channel["cl"]
    frame = fit_hypotheses(
        hypotheses, level=level, data=data, background=background, channel=channel, systematics=systematics
    )
    problems = cross_check_with_pyhf(
        frame, hypotheses, level=level, every=int(fit["pyhf_check_every"]), tolerance=float(fit["pyhf_check_tolerance"])
    )
    if len(frame):
        log.info(
            "part %d/%d: %d hypotheses; pyhf cross-check of %d: largest relative difference %.2g (obs), %.2g (bands)",
            part,
            n_parts,
            len(frame),
            int(frame["pyhf_check_obs"].notna().sum()),
            frame["pyhf_check_obs"].max(),
            frame["pyhf_check_exp"].max(),
        )
    if problems:
        raise RuntimeError(
            f"channel {channel['name']}: the scan engine disagrees with pyhf beyond {fit['pyhf_check_tolerance']:.0%}: "
            + "; ".join(problems)
        )
    if len(frame):
        rng = rng_for(seed, channel["name"], "limit_toys", part)
        apply_toy_limits(frame, [h.spec for h in hypotheses], fit=fit, level=level, rng=rng)
    with rootio.atomic_path(out_csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")
    return frame

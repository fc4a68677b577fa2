"""The 1D window + sidebands scan of one part of the grid, with the vectorised engine.

Every hypothesis gets its pyhf workspace (:func:`darkscan.stats.model.build_spec`, written to
``workspaces/``); all of them are fitted at once by :mod:`darkscan.stats.engine` (observed and
+-1/2 sigma expected CLs limits, local p0). pyhf stays the reference: every ``pyhf_check_every``-th
hypothesis of the full grid, and every one the engine did not converge on, is recomputed with
pyhf's exact root finding (:func:`darkscan.stats.engine.pyhf_reference`); the relative
differences go into the ``pyhf_check_*`` columns and the part fails if one exceeds
``pyhf_check_tolerance``. Hypotheses the engine cannot fit fall back to pyhf with retries
(:func:`darkscan.stats.scan.fit_mass`), flagged in ``status``.

Extra columns: ``n_eff_background``, the effective number of MC events of the background in
the signal window, (sum w)^2 / sum w^2, and ``low_mc_statistics`` where it is below 10.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib

import numpy as np
import pandas as pd

from darkscan.stats import engine
from darkscan.stats.model import WindowInputs, build_spec, signal_scale, window_inputs
from darkscan.stats.scan import fit_mass

log = logging.getLogger(__name__)
LOW_MC_EVENTS = 10.0
BANDS = ("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2")


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
        spec = build_spec(inputs, systematics, scale_fb=signal_scale(inputs), background_floor=fit["background_floor"])
        out.append(Hypothesis(int(index), float(mass), signal, inputs, spec))
    return out


def effective_mc_events(inputs: WindowInputs) -> float:
    """(sum w)^2 / sum w^2 of the background in the signal window (the bin with the most signal)."""
    window = int(np.argmax(inputs.signal))
    b, b2 = inputs.background[window], inputs.background_sumw2[window]
    return float(b * b / b2) if b > 0 and b2 > 0 else 0.0


def _row(h: Hypothesis, status: str, observed: float, expected, p0: float, z: float) -> dict:
    row = {"mass": h.mass, "status": status, "xsec_obs": float(observed)}
    row.update({f"xsec_{name}": float(value) for name, value in zip(BANDS, expected, strict=True)})
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
        ours = frame.loc[i, ["xsec_obs", *[f"xsec_{b}" for b in BANDS]]].to_numpy(float)
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

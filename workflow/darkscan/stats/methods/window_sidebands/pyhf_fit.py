"""One hypothesis fitted with pyhf: upper limits (observed, expected +-1/2 sigma) and local p0.

The fallback of the engine scan (:mod:`darkscan.stats.methods.window_sidebands.scan`) for a
hypothesis the engine did not converge on. Limits use the CLs method with the qtilde test
statistic in the asymptotic approximation (pyhf), at the channel's confidence level. A failed
fit is retried with pyhf's own root finding and then on a wide grid of POI values; the
``status`` column says which attempt succeeded, and a point that fails every attempt is kept
with status ``failed`` and empty limit cells.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import warnings

import numpy as np
import pyhf
from scipy import stats

from darkscan.stats.cls import FastAsymptoticCLs
from darkscan.stats.methods.window_sidebands.model import spec_of, window_inputs

log = logging.getLogger(__name__)
pyhf.set_backend("numpy", "scipy")
logging.getLogger("pyhf").setLevel(logging.WARNING)


@dataclasses.dataclass(frozen=True)
class LimitResult:
    """Scan result at one mass; cross sections in fb."""

    mass: float
    status: str
    xsec_obs: float
    xsec_exp: tuple[float, float, float, float, float]  # -2, -1, median, +1, +2 sigma
    p0_local: float
    z_local: float
    efficiency: float
    resolution: float
    signal_xsec_fb: float
    n_bins: int
    background: float
    data: float


ATTEMPTS = ("ok", "retried_pyhf_root_finding", "retried_pyhf_grid")


def _upper_limit(workspace: pyhf.Workspace, level: float, attempt: int) -> tuple[float, list[float]]:
    """One attempt at the CLs upper limit on ``mu`` (the signal cross section in fb).

    Attempt 0: :class:`~darkscan.stats.cls.FastAsymptoticCLs` (pyhf fits, shared fits reused).
    Attempt 1: pyhf's own TOMS 748 root finding (``toms748_scan``, five fits per POI value),
    which widens its bracket as needed. Attempt 2: pyhf on a grid of 61 POI values up to 30x the
    sensitivity estimate (geometric spacing), log CLs interpolated. Brackets start above zero, where qtilde can be NaN.
    """
    model = workspace.model()
    data = workspace.data(model)
    scale = model.config.suggested_init()[model.config.poi_index]
    bounds = model.config.suggested_bounds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if attempt == 0:
            limits = FastAsymptoticCLs(model, data).upper_limits(level, scale=scale)
            obs, exp = limits.observed, list(limits.expected)
        elif attempt == 1:
            bounds[model.config.poi_index] = (0.0, 1000.0 * scale)
            obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(
                data, model, 0.05 * scale, 10.0 * scale, level=level, rtol=1e-3, test_stat="qtilde", par_bounds=bounds
            )
        else:
            scan = np.geomspace(0.02 * scale, 30.0 * scale, 61)
            _, _, (_, results) = pyhf.infer.intervals.upper_limits.upper_limit(
                data, model, scan=scan, level=level, test_stat="qtilde", return_results=True
            )
            obs, *exp = _interpolate_log_cls(scan, results, level)
            if (
                not scan[0] < max(float(obs), *map(float, exp)) < scan[-1]
                or min(float(obs), *map(float, exp)) <= scan[0]
            ):
                raise RuntimeError(f"limit outside the scanned POI range [{scan[0]:.4g}, {scan[-1]:.4g}] fb")
    obs, exp = float(obs), [float(e) for e in exp]
    if not np.all(np.isfinite([obs, *exp])) or obs <= 0:
        raise RuntimeError(f"non-finite or non-positive limit (obs {obs}, exp {exp})")
    return obs, exp


def _interpolate_log_cls(scan: np.ndarray, results: list, level: float) -> list[float]:
    """Observed and expected limits where log CLs crosses log(level), linear between scan points.

    CLs falls roughly like a Gaussian tail in mu, so interpolating CLs itself (pyhf's default)
    overestimates the limit by several percent on a grid as coarse as a fraction of the limit.
    """
    cls = np.array([[float(r[0]), *map(float, r[1])] for r in results])
    limits = []
    for column in cls.T:
        ok = np.isfinite(column)
        log_cls = np.log(np.clip(column[ok], 1e-300, None))
        limits.append(float(np.interp(np.log(level), log_cls[::-1], scan[ok][::-1])))
    return limits


def discovery_p0(workspace: pyhf.Workspace) -> tuple[float, float]:
    """Local p0 and significance Z of the background-only hypothesis (q0, asymptotic)."""
    model = workspace.model()
    data = workspace.data(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p0 = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0"))
    p0 = min(max(p0, 1e-300), 0.5) if np.isfinite(p0) else 0.5
    return p0, float(stats.norm.isf(p0))


def fit_mass(
    mass: float,
    signal,
    *,
    data,
    background,
    channel: dict,
    systematics,
    workspace_path: str | os.PathLike | None = None,
) -> LimitResult:
    """Build the model of one hypothesis, write its workspace, compute limits and p0."""
    fit = channel["fit"]
    resolution_syst = next((s.value for s in systematics if s.modifier == "histosys"), 0.0)
    inputs = window_inputs(
        mass,
        signal,
        data=data,
        background=background,
        luminosity_fb=channel["luminosity_fb"],
        window_sigmas=fit["window_sigmas"],
        signal_sigmas=fit["signal_sigmas"],
        resolution_scale=resolution_syst,
    )
    spec = spec_of(inputs, systematics, fit)
    if workspace_path is not None:
        pathlib.Path(workspace_path).write_text(json.dumps(spec, indent=1, sort_keys=True))
    workspace = pyhf.Workspace(spec)
    level = 1.0 - channel["cl"]
    status, obs, exp, errors = "failed", np.nan, [np.nan] * 5, []
    for attempt, name in enumerate(ATTEMPTS):
        try:
            obs, exp = _upper_limit(workspace, level, attempt)
            status = name
            break
        except Exception as err:  # pyhf/scipy raise several types on failed fits
            errors.append(f"{name}: {err}")
    if status == "failed":
        log.warning("mass %.4f GeV: every limit attempt failed: %s", mass, "; ".join(errors))
    try:
        p0, z = discovery_p0(workspace)
    except Exception as err:
        log.warning("mass %.4f GeV: p0 fit failed: %s", mass, err)
        p0, z, status = np.nan, np.nan, status + "+p0_failed"
    return LimitResult(
        mass,
        status,
        obs,
        tuple(exp),
        p0,
        z,
        signal.efficiency,
        signal.resolution,
        signal.xsec_fb,
        len(inputs.data),
        float(inputs.background.sum()),
        float(inputs.data.sum()),
    )

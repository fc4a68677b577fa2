"""The two-mass scan of one part of the grid: counts in every ellipse, closed-form CLs limits.

For every ``fit.pyhf_every``-th hypothesis (of those whose background has MC events) the pyhf
workspace is written to ``workspaces/`` and its limits (FastAsymptoticCLs) are stored in
``xsec_obs_pyhf`` / ``xsec_exp_pyhf`` (empty elsewhere), to be compared with the asymptotic
``xsec_obs_asymptotic`` / ``xsec_exp_asymptotic``. ``fit.limit`` (``bayesian``, or ``auto``
below ``fit.limit_auto_below`` background events) replaces the limits by 90%-credibility
Bayesian limits (flat prior on the cross section, :mod:`darkscan.stats.bayesian`), the
statistic of Belle II's published search (PRL 130 (2023) 071804). Local significance: Cowan (2012)
counting formula with background uncertainty
(:func:`darkscan.stats.lookelsewhere.counting_significance`), p0 = Phi(-Z).
"""

from __future__ import annotations

import json
import logging
import pathlib

import numpy as np
import pandas as pd
from scipy import stats

from darkscan import rootio
from darkscan.stats.lookelsewhere import counting_significance
from darkscan.stats.methods.ellipse_counting.counting import (
    _signal_norm,
    counting_cls_limits,
    counting_limits,
    pyhf_limits,
    pyhf_spec,
)
from darkscan.stats.methods.ellipse_counting.events import (
    background_events,
    data_events,
    ellipse_background,
    membership,
)
from darkscan.stats.methods.ellipse_counting.signal import load_signal_model
from darkscan.stats.scan import SIGMA_SUFFIXES, grid_part

log = logging.getLogger(__name__)


def scan_part(
    *,
    channel: dict,
    signal_files: list[str],
    histograms_path: str,
    systematics_path: str,
    part: int,
    n_parts: int,
    out_csv,
    workspace_dir,
    seed: int,
) -> pd.DataFrame:
    """Count in every ellipse of one part of the 2D grid; closed-form CLs limits, pyhf on a subset,
    Bayesian credible limits where ``fit.limit`` asks for them (``seed`` is unused: nothing here
    is random)."""
    fit = channel["fit"]
    model = load_signal_model(signal_files, channel=channel)
    full = model.scan_grid(channel["masses"])
    index = grid_part(np.arange(len(full)), part, n_parts)
    grid = full[index]
    values = model.values(grid[:, 0], grid[:, 1]) if len(grid) else np.zeros((0, 4))
    eff, res1, res2, cont = values.T
    k = fit["signal_sigmas"]
    axes = np.column_stack([k * res1, k * res2])
    bkg, data = background_events(histograms_path, channel), data_events(histograms_path, channel)
    log.info(
        "%d hypotheses in this part, %d selected background MC events, %d data events",
        len(grid),
        len(bkg.w),
        len(data.w),
    )
    b0, sigma_b = ellipse_background(bkg, membership(bkg, grid, axes), floor=fit["background_floor"])
    n = membership(data, grid, axes) @ data.w
    s = channel["luminosity_fb"] * eff * cont  # events per fb of signal cross section
    level = 1.0 - channel["cl"]
    signal_norm = _signal_norm(systematics_path)
    asymptotic = counting_cls_limits(n, s, b0, sigma_b, level=level, signal_norm=signal_norm)
    limits, methods = counting_limits(
        n, s, b0, sigma_b, level=level, signal_norm=signal_norm, fit=fit, asymptotic=asymptotic
    )
    z = counting_significance(n, b0, sigma_b**2)
    workspace_dir = pathlib.Path(workspace_dir)
    workspace_dir.mkdir(parents=True, exist_ok=True)
    every = int(fit.get("pyhf_every", 200))
    frame = pd.DataFrame(
        {
            "mass": grid[:, 0],
            "mass2": grid[:, 1],
            "status": np.where(limits.converged, "ok", "failed"),
            "xsec_obs": limits.observed,
            **{f"xsec_{name}": limits.expected[i] for i, name in enumerate(SIGMA_SUFFIXES)},
            "p0_local": stats.norm.sf(z),
            "z_local": z,
            "efficiency": eff,
            "containment": cont,
            "resolution": res1,
            "resolution2": res2,
            "signal_xsec_fb": [model.xsec_fb(m1, m2) for m1, m2 in grid],
            "n_bins": 1,
            "background": b0,
            "background_err": sigma_b,
            "data": n,
            "n_eff_background": (b0 / sigma_b) ** 2,
            "low_mc_statistics": (b0 / sigma_b) ** 2 < 10.0,
            "limit_method": methods,
            "xsec_obs_asymptotic": asymptotic.observed,
            "xsec_exp_asymptotic": asymptotic.expected[2],
            "xsec_obs_pyhf": np.nan,
            "xsec_exp_pyhf": np.nan,
        }
    )
    # cross-check every n-th hypothesis whose background is measured by at least ~one MC event
    # (b0 >= sigma_b); every n-th of all where there is none
    measured = np.nonzero(b0 >= sigma_b)[0]
    checked = measured[::every] if len(measured) else np.arange(len(grid))[::every]
    for row in checked:
        scale = float((2.0 * np.sqrt(b0[row] + sigma_b[row] ** 2 + 1.0) + 3.0) / s[row])
        spec = pyhf_spec(n=n[row], s=s[row], b0=b0[row], sigma_b=sigma_b[row], signal_norm=signal_norm, scale=scale)
        (workspace_dir / f"mass_{grid[row, 0]:.4f}_mass2_{grid[row, 1]:.4f}.json").write_text(
            json.dumps(spec, indent=1, sort_keys=True)
        )
        try:
            obs, exp = pyhf_limits(spec, level)
            frame.loc[row, ["xsec_obs_pyhf", "xsec_exp_pyhf"]] = obs, exp[2]
        except Exception as err:  # reported, the closed-form result stands
            log.warning("(%g, %g) GeV: pyhf cross-check failed: %s", grid[row, 0], grid[row, 1], err)
    failed = int((~limits.converged).sum())
    if failed:
        log.warning("%d of %d hypotheses did not bracket the CLs limit (status 'failed')", failed, len(grid))
    log.info(
        "part %d/%d: %d hypotheses (of %d), %d pyhf cross-checks",
        part,
        n_parts,
        len(grid),
        len(full),
        int(frame["xsec_obs_pyhf"].notna().sum()),
    )
    with rootio.atomic_path(out_csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")
    return frame

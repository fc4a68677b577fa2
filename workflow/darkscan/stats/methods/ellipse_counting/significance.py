"""``significance.json`` of a two-mass scan: the look-elsewhere toys through every ellipse.

Background-only pseudo-experiments in which every selected background MC event yields
Poisson(w L) events (after resampling the MC), counted in every ellipse at once with a sparse
membership matrix; the local significance of each ellipse is the ``z_local`` of ``limits.csv``.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
from scipy import sparse

from darkscan import rootio
from darkscan.progress import progress
from darkscan.seeds import rng_for
from darkscan.stats.lookelsewhere import counting_significance, global_p_value
from darkscan.stats.methods.ellipse_counting.events import Events, background_events, membership

log = logging.getLogger(__name__)
METHOD = (
    "background-only pseudo-experiments through the full 2D scan: per toy a true background resampled from "
    "the selected MC (each event's weight times Poisson(1)), then Poisson(w L) data events per MC event, "
    "counted in every ellipse at once (sparse membership matrix); local significance of each ellipse against "
    "its MC background with its MC-statistics uncertainty (Cowan 2012 counting formula, the z_local of "
    "limits.csv); p_global = fraction of pseudo-experiments whose largest local significance reaches the "
    "observed one (+1 in numerator and denominator), never below the local p-value (trials_factor_floor)."
)


def global_significance_2d(
    z_obs_max: float,
    member: sparse.csr_matrix,
    bkg: Events,
    b0,
    sigma_b,
    *,
    n_toys: int,
    rng: np.random.Generator,
    batch: int = 100,
) -> dict:
    """p-value of the largest local significance over all ellipses from background-only toys.

    Each toy first draws a "true" background by resampling the MC (every event's weight times
    Poisson(1), a bootstrap: the truth in an ellipse then varies by sigma_b, the MC-statistics
    uncertainty that the local significance assumes), then every MC event yields Poisson(w k L)
    data events, counted in every ellipse at once. The local significance is the one of
    ``limits.csv`` (:func:`darkscan.stats.lookelsewhere.counting_significance` against b0 +- sigma_b).
    """
    maxima = []
    for start in progress(range(0, n_toys, batch), desc="look-elsewhere toys", unit=f"x{batch} toys"):
        size = min(batch, n_toys - start)
        truth = bkg.w[:, None] * rng.poisson(1.0, (len(bkg.w), size))
        counts = rng.poisson(truth).astype(float)
        n = np.asarray(member @ counts)  # (hypotheses, toys)
        z = counting_significance(n, b0[:, None], (sigma_b**2)[:, None])
        maxima.append(z.max(axis=0))
    maxima = np.concatenate(maxima) if maxima else np.zeros(0)
    return {**global_p_value(maxima, z_obs_max), "mean_z_max_toys": float(maxima.mean()), "maxima": maxima}


def write_significance(limits_csv, histograms_path, out_json, *, channel: dict, seed: int, workspace_dirs=()) -> dict:
    del workspace_dirs  # the 2D scan keeps pyhf workspaces of a subset only: its statistic is closed-form
    limits = pd.read_csv(limits_csv)
    settings = channel.get("lookelsewhere", {})
    fit = channel["fit"]
    usable = limits[limits["z_local"].notna()].reset_index(drop=True)
    if usable.empty:
        raise ValueError(f"{limits_csv}: no hypothesis with a local significance")
    centres = usable[["mass", "mass2"]].to_numpy()
    axes = fit["signal_sigmas"] * usable[["resolution", "resolution2"]].to_numpy()
    bkg = background_events(histograms_path, channel)
    member = membership(bkg, centres, axes)
    b0, sigma_b = usable["background"].to_numpy(), usable["background_err"].to_numpy()
    best = usable.loc[usable["z_local"].idxmax()]
    seed_names = (channel["name"], "lookelsewhere")
    n_toys = int(settings.get("toys", 2000))
    result = global_significance_2d(
        float(best["z_local"]), member, bkg, b0, sigma_b, n_toys=n_toys, rng=rng_for(seed, *seed_names)
    )
    payload = {
        "channel": channel["name"],
        "z_local_max": float(best["z_local"]),
        "p_local_min": float(best["p0_local"]),
        "mass_at_max": float(best["mass"]),
        "mass2_at_max": float(best["mass2"]),
        "z_global": result["z_global"],
        "p_global": result["p_global"],
        "p_global_toys": result["p_global_toys"],
        "trials_factor_floor": result["trials_factor_floor"],
        "method": METHOD,
        "toys": result["toys"],
        "toys_above": result["toys_above"],
        "mean_z_local_max_toys": result["mean_z_max_toys"],
        "toy_z_local_max": [float(v) for v in result["maxima"]],  # full precision: ties stay ties
        "seed": int(seed),
        "seed_names": list(seed_names),
        "hypotheses": int(len(usable)),
    }
    with rootio.atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    log.info(
        "largest local excess Z = %.2f at (%.4g, %.4g) GeV; global Z = %.2f (p = %.3g, %d toys)",
        payload["z_local_max"],
        payload["mass_at_max"],
        payload["mass2_at_max"],
        payload["z_global"],
        payload["p_global"],
        n_toys,
    )
    return payload

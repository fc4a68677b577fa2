"""``significance.json`` of a channel: largest local excess of the scan and its global significance."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pandas as pd
from scipy import stats

from darkscan import rootio
from darkscan.progress import progress
from darkscan.seeds import rng_for
from darkscan.select.histograms import SIGNAL_REGION, histogram_key, read_histogram
from darkscan.stats import engine
from darkscan.stats.lookelsewhere import global_p_value, upcrossings
from darkscan.stats.methods.window_sidebands.scan import summed_background
from darkscan.stats.methods.window_sidebands.toys import (
    background_toys,
    bin_index,
    read_workspaces,
    rebin,
    toy_significances,
)

log = logging.getLogger(__name__)
METHOD = (
    "background-only pseudo-experiments through the full scan: per fine bin a true background drawn from "
    "the MC within its statistical uncertainty, normalised to the data in the scanned range, then Poisson "
    "counts summed into the bins of every hypothesis; each hypothesis' pyhf workspace (workspaces/) fitted "
    "to them by the scan engine: the local significance of a toy is the q0 of the model that gave z_local "
    "in limits.csv. p_global = fraction of pseudo-experiments whose largest local significance reaches the "
    "observed one (+1 in numerator and denominator), never below the local p-value (trials_factor_floor). "
    "Gross-Vitells upcrossing estimate reported as a cross-check."
)


def scan_toy_model(limits: pd.DataFrame, histograms_path, workspace_dirs, *, channel: dict):
    """Everything the pseudo-experiments need: the engine batch of the workspaces, the bin index of
    every hypothesis, the background model (normalised to the data in the scanned range) and the
    workspaces themselves."""
    data = read_histogram(histograms_path, histogram_key(SIGNAL_REGION, "data"))
    background = summed_background(histograms_path, channel)
    specs = read_workspaces(limits, workspace_dirs)
    batch = engine.batch_from_specs(specs)
    fit = channel["fit"]
    edges = data.axes[0].edges
    index = bin_index(
        edges,
        limits["mass"],
        limits["resolution"],
        window_sigmas=fit["window_sigmas"],
        signal_sigmas=fit["signal_sigmas"],
        n_bins=[len(s["observations"][0]["data"]) for s in specs],
    )
    observed = rebin(data.values(), index)
    if not np.allclose(np.where(batch.bin_mask, observed, 0.0), np.where(batch.bin_mask, batch.data, 0.0)):
        raise ValueError(
            "the workspaces' observations are not the data histogram in the bins of their hypotheses: stale workspaces?"
        )
    inside = slice(int(index.min()), int(index.max()))
    model = np.asarray(background.values(), float).clip(min=0.0)
    norm = data.values()[inside].sum() / max(model[inside].sum(), 1e-12)
    variance = np.asarray(background.variances(), float).clip(min=0.0) * norm**2
    return batch, index, model * norm, variance, specs


def write_significance(
    limits_csv: str | os.PathLike,
    histograms_path: str | os.PathLike,
    out_json: str | os.PathLike,
    *,
    channel: dict,
    seed: int,
    workspace_dirs: list[str | os.PathLike],
) -> dict:
    """Compute the look-elsewhere correction of a channel's scan and write it as JSON."""
    limits = pd.read_csv(limits_csv)
    usable = limits[limits["z_local"].notna()].reset_index(drop=True)
    if usable.empty:
        raise ValueError(f"{limits_csv}: no hypothesis with a local significance")
    settings = channel["lookelsewhere"]
    batch, index, model, variance, _ = scan_toy_model(usable, histograms_path, workspace_dirs, channel=channel)
    n_toys = int(settings["toys"])
    seed_names = (channel["name"], "lookelsewhere")
    rng = rng_for(seed, *seed_names)
    reference_level = float(settings["reference_level"])
    maxima, crossings = [], []
    for start in progress(range(0, n_toys, 100), desc=f"{channel['name']}: look-elsewhere toys", unit="x100 toys"):
        z = toy_significances(batch, background_toys(model, variance, min(100, n_toys - start), rng), index)
        maxima.append(z.max(axis=1))
        crossings.append(upcrossings(z, reference_level))
    maxima = np.concatenate(maxima)
    best = usable.loc[usable["z_local"].idxmax()]
    z_max = float(best["z_local"])
    result = global_p_value(maxima, z_max)
    mean_crossings = float(np.mean(np.concatenate(crossings)))
    p_gv = min(1.0, float(stats.norm.sf(z_max)) + mean_crossings * np.exp(-(z_max**2 - reference_level**2) / 2.0))
    payload = {
        "channel": channel["name"],
        "z_local_max": z_max,
        "p_local_min": float(best["p0_local"]),
        "mass_at_max": float(best["mass"]),
        **{
            k: result[k] for k in ("z_global", "p_global", "p_global_toys", "trials_factor_floor", "toys", "toys_above")
        },
        "method": METHOD,
        "seed": int(seed),
        "seed_names": list(seed_names),
        "hypotheses": int(len(usable)),
        "gross_vitells": {
            "reference_level": reference_level,
            "mean_upcrossings": mean_crossings,
            "p_global": float(p_gv),
            "z_global": float(max(stats.norm.isf(p_gv), 0.0)),
        },
        "toy_z_local_max": [float(v) for v in maxima],  # full precision: ties of a discrete statistic stay ties
    }
    with rootio.atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    log.info(
        "largest local excess Z = %.2f at %.4g GeV; global Z = %.2f (p = %.3g, %d toys)",
        payload["z_local_max"],
        payload["mass_at_max"],
        payload["z_global"],
        payload["p_global"],
        n_toys,
    )
    return payload

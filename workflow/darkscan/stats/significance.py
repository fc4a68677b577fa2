"""``significance.json`` of a channel: largest local excess of the scan and its global significance."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.select.histograms import SIGNAL_REGION, histogram_key, read_histogram
from darkscan.seeds import rng_for
from darkscan.stats.lookelsewhere import global_significance, scan_windows
from darkscan.stats.run import summed_background

log = logging.getLogger(__name__)
METHOD = (
    "background-only pseudo-experiments through the full scan: per fine bin a true background drawn from "
    "the MC within its statistical uncertainty, normalised to the data in the scanned range, then Poisson "
    "counts; local significance of each window against the background predicted from its sidebands, with "
    "the uncertainty of that prediction (Cowan 2012 counting formula); "
    "p_global = fraction of pseudo-experiments whose largest local significance reaches the observed one "
    "(+1 in numerator and denominator). Gross-Vitells upcrossing estimate reported as a cross-check."
)


def write_significance(limits_csv: str | os.PathLike, histograms_path: str | os.PathLike, out_json: str | os.PathLike, *, channel: dict, seed: int) -> dict:
    """Compute the look-elsewhere correction of a channel's scan and write it as JSON."""
    limits = pd.read_csv(limits_csv)
    settings = channel.get("lookelsewhere", {})
    data = read_histogram(histograms_path, histogram_key(SIGNAL_REGION, "data"))
    background = summed_background(histograms_path, channel)
    edges = data.axes[0].edges
    fit = channel["fit"]
    usable = []
    for i, row in limits.iterrows():
        try:
            scan_windows(edges, np.array([row["mass"]]), np.array([row["resolution"]]), window_sigmas=fit["window_sigmas"], signal_sigmas=fit["signal_sigmas"])
            usable.append(i)
        except ValueError:
            continue
    if not usable:
        raise ValueError(f"{limits_csv}: no hypothesis has both sidebands inside the histogram")
    rows = limits.loc[usable]
    windows = scan_windows(edges, rows["mass"].to_numpy(), rows["resolution"].to_numpy(), window_sigmas=fit["window_sigmas"], signal_sigmas=fit["signal_sigmas"])
    n_toys = int(settings.get("toys", 2000))
    toy_seed_names = (channel["name"], "lookelsewhere")
    result = global_significance(data.values(), background.values(), background.variances(), windows, n_toys=n_toys, rng=rng_for(seed, *toy_seed_names), reference_level=float(settings.get("reference_level", 1.0)))
    best = limits.loc[limits["z_local"].idxmax()]
    payload = {
        "channel": channel["name"],
        "z_local_max": float(best["z_local"]),
        "p_local_min": float(best["p0_local"]),
        "mass_at_max": float(best["mass"]),
        "z_global": result["z_global"],
        "p_global": result["p_global"],
        "method": METHOD,
        "toys": result["toys"],
        "toys_above": result["toys_above"],
        "seed": int(seed),
        "seed_names": list(toy_seed_names),
        "z_local_max_counting": result["z_local_max_counting"],
        "mass_at_max_counting": float(rows["mass"].iloc[result["index_at_max"]]),
        "hypotheses": int(len(rows)),
        "hypotheses_without_sidebands": int(len(limits) - len(rows)),
        "gross_vitells": result["gross_vitells"],
    }
    if "mass2" in limits:
        payload["mass2_at_max"] = float(best["mass2"])
    with rootio.atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    log.info("largest local excess Z = %.2f at %.4g GeV; global Z = %.2f (p = %.3g, %d toys)", payload["z_local_max"], payload["mass_at_max"], payload["z_global"], payload["p_global"], n_toys)
    return payload

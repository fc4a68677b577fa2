"""The scan of a channel, whatever its fit method: parts of the grid, and their merge into ``limits.csv``.

The hypothesis grid is split round-robin into ``n_parts`` parts (one Snakemake job each,
:func:`grid_part`), so the result does not depend on how many parts run in parallel; each fit
method's ``scan_part`` (:mod:`darkscan.stats.methods`) fits one part. :func:`merge_parts` joins
them and adds the coupling limits, which follow from sigma(g) = g^2 sigma(g = 1) x
BF(Z' -> invisible): g_lim = sqrt(sigma_lim / (sigma_1 BF)).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.physics.models import get_model

#: name of the measurement of every pyhf workspace of the scan: the one place inside the
#: schema-valid JSON that states what the POI is
MEASUREMENT_NAME = "POI mu = signal cross section times branching fraction in fb"

log = logging.getLogger(__name__)
SIGMA_SUFFIXES = ("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2")


def small_count_rows(background, fit: dict, *, method: str) -> np.ndarray:
    """Where ``fit.limit`` asks for the small-statistics ``method`` (``cls_toys``, ``bayesian``):
    every row when ``fit.limit`` is that method, the rows with fewer than ``fit.limit_auto_below``
    expected background events when it is ``auto``, none otherwise."""
    background = np.asarray(background, float)
    limit = fit.get("limit", "cls_asymptotic")
    if limit == method:
        return np.ones(background.shape, bool)
    if limit == "auto":
        return background < float(fit.get("limit_auto_below", 10.0))
    return np.zeros(background.shape, bool)


def grid_part(grid: np.ndarray, part: int, n_parts: int) -> np.ndarray:
    """Round-robin share ``part`` (0-based) of the grid."""
    if not 0 <= part < n_parts:
        raise ValueError(f"scan part {part} outside 0..{n_parts - 1}")
    return grid[part::n_parts]


def add_coupling_limits(frame: pd.DataFrame, *, channel: dict) -> pd.DataFrame:
    """Add coupling limits for every scenario; the first scenario fills the ``coupling_*`` columns.

    ``signal_xsec_fb`` is the signal cross section at the generated coupling c_gen; the model
    (``darkscan.physics.models``) scales it to unit coupling, sigma(1) = sigma(c_gen) / c_gen^p.
    """
    frame = frame.copy()
    model = get_model(channel["model"])
    generated = channel["signal"].get("options", {}).get("coupling", 1.0)
    sigma_unit = frame["signal_xsec_fb"].to_numpy() / generated**model.power
    mass2 = frame["mass2"].to_numpy() if "mass2" in frame else None
    for i, (name, scenario) in enumerate(channel["coupling"]["scenarios"].items()):
        bf = model.branching(scenario["branching"], frame["mass"].to_numpy(), mass2)
        frame[f"bf_{name}"] = bf
        for column in ("obs", *SIGMA_SUFFIXES):
            values = model.coupling_limit(frame[f"xsec_{column}"].to_numpy(), sigma_unit, bf)
            frame[f"coupling_{name}_{column}"] = values
            if i == 0:
                frame[f"coupling_{column}"] = values
    return frame


def merge_parts(part_csvs: list[str | os.PathLike], out_csv: str | os.PathLike, *, channel: dict) -> pd.DataFrame:
    """Merge scan parts, sort by mass, add coupling limits and write ``limits.csv``."""
    frame = pd.concat([pd.read_csv(p) for p in part_csvs], ignore_index=True)
    frame = frame.sort_values(["mass", "mass2"] if "mass2" in frame else "mass", kind="stable", ignore_index=True)
    frame = add_coupling_limits(frame, channel=channel)
    contract = [
        "mass",
        "status",
        "xsec_obs",
        *[f"xsec_{s}" for s in SIGMA_SUFFIXES],
        "coupling_obs",
        *[f"coupling_{s}" for s in SIGMA_SUFFIXES],
        "p0_local",
        "z_local",
    ]
    frame = frame[contract + [c for c in frame.columns if c not in contract]]
    failed = int((frame["status"] == "failed").sum())
    if failed:
        log.warning("%d of %d mass points failed every fit attempt (status 'failed')", failed, len(frame))
    with rootio.atomic_path(out_csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")
    return frame

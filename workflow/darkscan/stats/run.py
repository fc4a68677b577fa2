"""Run a channel's mass scan in parts and merge the parts into ``limits.csv``.

The hypothesis grid is split round-robin into ``n_parts`` parts (one Snakemake job each), so
the result does not depend on how many parts run in parallel. Coupling limits follow from
sigma(g) = g^2 sigma(g = 1) x BF(Z' -> invisible): g_lim = sqrt(sigma_lim / (sigma_1 BF)).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.physics.models import get_model
from darkscan.select.histograms import SIGNAL_REGION, histogram_key, read_histogram
from darkscan.stats import window_scan
from darkscan.stats.signal_model import SignalModel, load_signal_point
from darkscan.systematics.table import read_table

log = logging.getLogger(__name__)
SIGMA_SUFFIXES = ("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2")


def load_signal_model(signal_files: list[str | os.PathLike], *, channel: dict) -> SignalModel:
    """The interpolating signal model from the selected signal files."""
    columns = channel["fit"].get("columns") or [channel["fit"]["variable"]]
    return SignalModel(
        [load_signal_point(p, variable=channel["fit"]["variable"], columns=columns) for p in signal_files]
    )


def summed_background(histograms_path: str | os.PathLike, channel: dict):
    """Sum of the background histograms in the signal region."""
    total = None
    for name in channel["backgrounds"]:
        h = read_histogram(histograms_path, histogram_key(SIGNAL_REGION, name))
        total = h if total is None else total + h
    return total


def grid_part(grid: np.ndarray, part: int, n_parts: int) -> np.ndarray:
    """Round-robin share ``part`` (0-based) of the grid."""
    if not 0 <= part < n_parts:
        raise ValueError(f"scan part {part} outside 0..{n_parts - 1}")
    return grid[part::n_parts]


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
) -> pd.DataFrame:
    """Fit every hypothesis of one part at once (:mod:`darkscan.stats.window_scan`); write its rows
    and its pyhf workspaces. Fails if the engine and pyhf disagree beyond ``fit.pyhf_check_tolerance``."""
    fit = channel["fit"]
    model = load_signal_model(signal_files, channel=channel)
    full = model.scan_grid(channel["masses"])
    indices = grid_part(np.arange(len(full)), part, n_parts)
    data = read_histogram(histograms_path, histogram_key(SIGNAL_REGION, "data"))
    background = summed_background(histograms_path, channel)
    systematics = read_table(systematics_path)
    hypotheses = window_scan.build_hypotheses(
        full[indices], indices, model, data=data, background=background, channel=channel, systematics=systematics
    )
    window_scan.write_workspaces(hypotheses, workspace_dir)
    level = 1.0 - channel["cl"]
    frame = window_scan.fit_hypotheses(
        hypotheses, level=level, data=data, background=background, channel=channel, systematics=systematics
    )
    problems = window_scan.cross_check_with_pyhf(
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
    with rootio.atomic_path(out_csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")
    return frame


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

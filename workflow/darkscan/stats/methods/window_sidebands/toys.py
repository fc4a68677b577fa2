"""Pseudo-experiments through the 1D window + sidebands scan, with the statistic of the data.

A background-only pseudo-experiment draws a "true" background per fine bin of the fit variable
from the MC within its statistical uncertainty (sum of squared weights), then Poisson counts,
and sums them into the bins of every hypothesis (the edges of its pyhf workspace,
:func:`darkscan.stats.methods.window_sidebands.model.window_edges`). Each hypothesis' workspace
(read back from ``workspaces/``) is then fitted to these counts by :mod:`darkscan.stats.engine`:
the local significance of a toy is the q0 of the very model that gave ``z_local`` in
``limits.csv``.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pandas as pd

from darkscan.stats import engine
from darkscan.stats.methods.window_sidebands.model import window_edges


def read_workspaces(limits: pd.DataFrame, workspace_dirs: list[str | pathlib.Path]) -> list[dict]:
    """The pyhf spec of every row of ``limits`` (``mass_<m>.json`` in one of ``workspace_dirs``)."""
    found = {}
    for directory in workspace_dirs:
        for path in pathlib.Path(directory).glob("mass_*.json"):
            found[path.name] = path
    specs = []
    for mass in limits["mass"]:
        name = f"mass_{mass:.4f}.json"
        if name not in found:
            raise FileNotFoundError(
                f"no workspace {name} for the hypothesis at {mass:.4f} GeV in {[str(d) for d in workspace_dirs]}"
            )
        specs.append(json.loads(found[name].read_text()))
    return specs


def bin_index(
    fine_edges: np.ndarray, masses, resolutions, *, window_sigmas: float, signal_sigmas: float, n_bins: list[int]
) -> np.ndarray:
    """(H, B_max + 1) indices into ``fine_edges`` of every hypothesis' bin edges (padded by repeating the last)."""
    b_max = max(n_bins)
    rows = []
    for mass, resolution, n in zip(masses, resolutions, n_bins, strict=True):
        idx = np.searchsorted(
            fine_edges,
            window_edges(fine_edges, mass, resolution, window_sigmas=window_sigmas, signal_sigmas=signal_sigmas),
        )
        if len(idx) - 1 != n:
            raise ValueError(f"mass {mass:.4f} GeV: {len(idx) - 1} window bins from the edges but {n} in its workspace")
        rows.append(np.concatenate([idx, np.full(b_max + 1 - len(idx), idx[-1])]))
    return np.array(rows)


def rebin(fine_counts: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Counts (..., F) per fine bin -> (..., H, B) per hypothesis bin (padded bins hold 0)."""
    cumulative = np.concatenate([np.zeros((*fine_counts.shape[:-1], 1)), np.cumsum(fine_counts, axis=-1)], axis=-1)
    return np.diff(cumulative[..., index], axis=-1)


def background_toys(model: np.ndarray, variance: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, F) Poisson counts around a true background drawn within the MC uncertainty per fine bin."""
    truth = np.clip(model + np.sqrt(variance) * rng.standard_normal((size, len(model))), 0.0, None)
    return rng.poisson(truth).astype(float)


def toy_significances(batch: engine.WindowBatch, toys: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(T, H) local significance of every toy (fine-bin counts (T, F)) at every hypothesis."""
    _, z = engine.discovery_p0(batch.with_data(rebin(toys, index)))
    return z

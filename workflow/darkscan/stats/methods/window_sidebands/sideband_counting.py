"""The counting approximation of the 1D look-elsewhere toys: an independent cross-check.

The 1D scan's toys use its own statistic, each hypothesis' workspace fitted by the engine
(:mod:`darkscan.stats.methods.window_sidebands.significance`); :func:`global_significance`
below, the counting approximation that the 1D workflow used before, is no longer called by the
workflow (kept with its tests as an independent cross-check).

Background-only pseudo-experiments through the full scan. Each pseudo-experiment draws a "true"
background per fine bin from the MC within its statistical uncertainty (sum of squared weights),
then Poisson counts from it, and evaluates at every hypothesis of the scan the local
significance of the signal window against the background predicted from its sidebands (ratio
from the MC), with the uncertainty of that prediction (sideband counts and MC statistics), using
the profile-likelihood significance of a counting experiment with an uncertain background
(:func:`darkscan.stats.lookelsewhere.counting_significance`; G. Cowan 2012; Li & Ma, ApJ 272
(1983) 317, eq. 17 when the MC is exact). The global p-value is the fraction of
pseudo-experiments whose largest local significance reaches the observed one, computed the same
way on the data. Toys are seeded from the global seed. The Gross-Vitells estimate (EPJ C 70
(2010) 525) from the mean number of upcrossings of a reference level in the toys is reported as
a cross-check.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from darkscan.stats.lookelsewhere import counting_significance, upcrossings
from darkscan.stats.methods.window_sidebands.model import window_edges


@dataclasses.dataclass(frozen=True)
class Windows:
    """Fine-bin index ranges of each hypothesis: sidebands [lo, a) + [b, hi), window [a, b)."""

    lo: np.ndarray
    a: np.ndarray
    b: np.ndarray
    hi: np.ndarray


def scan_windows(
    fine_edges: np.ndarray, masses: np.ndarray, resolutions: np.ndarray, *, window_sigmas: float, signal_sigmas: float
) -> Windows:
    """Fine-bin index ranges of the fit windows used by the scan (same edges as the pyhf models)."""
    rows = []
    for mass, resolution in zip(masses, resolutions, strict=False):
        idx = np.searchsorted(
            fine_edges,
            window_edges(fine_edges, mass, resolution, window_sigmas=window_sigmas, signal_sigmas=signal_sigmas),
        )
        if len(idx) != 4:
            raise ValueError(f"mass {mass} GeV: the window needs both sidebands inside the histogram")
        rows.append(idx)
    lo, a, b, hi = np.array(rows).T
    return Windows(lo, a, b, hi)


def _on_off(cumulative: np.ndarray, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
    """Window and sideband sums from cumulative counts (last axis = fine bins + 1)."""
    on = cumulative[..., windows.b] - cumulative[..., windows.a]
    off = (
        cumulative[..., windows.a]
        - cumulative[..., windows.lo]
        + cumulative[..., windows.hi]
        - cumulative[..., windows.b]
    )
    return on, off


def _cumulative(values: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((*values.shape[:-1], 1)), np.cumsum(values, axis=-1)], axis=-1)


def local_significances(
    counts: np.ndarray, background: np.ndarray, background_var: np.ndarray, windows: Windows
) -> np.ndarray:
    """Local significance at every hypothesis for counts of shape (..., fine bins).

    The window background is predicted from the sidebands, b = n_off b_on / b_off (MC ratio), with
    relative variance 1/n_off + var_on/b_on^2 + var_off/b_off^2 (sideband counts, MC statistics).
    """
    b_on, b_off = _on_off(_cumulative(background), windows)
    v_on, v_off = _on_off(_cumulative(background_var), windows)
    on, off = _on_off(_cumulative(counts), windows)
    ratio = b_on / np.maximum(b_off, 1e-12)
    predicted = off * ratio
    rel_var = 1.0 / np.maximum(off, 1.0) + v_on / np.maximum(b_on, 1e-12) ** 2 + v_off / np.maximum(b_off, 1e-12) ** 2
    return counting_significance(on, predicted, predicted**2 * rel_var)


def global_significance(
    data: np.ndarray,
    background: np.ndarray,
    background_var: np.ndarray,
    windows: Windows,
    *,
    n_toys: int,
    rng: np.random.Generator,
    reference_level: float = 1.0,
    batch: int = 200,
) -> dict:
    """Global p-value of the largest local excess, from background-only pseudo-experiments.

    Args:
        data: observed counts per fine bin.
        background: expected background per fine bin (MC); normalised to the data inside the scan.
        background_var: its variance per fine bin (sum of squared MC weights).
        windows: the scan's windows (:func:`scan_windows`).
        n_toys: number of pseudo-experiments.
        rng: seeded generator.
        reference_level: level u0 of the Gross-Vitells upcrossing count.
        batch: pseudo-experiments drawn at once (bounds memory).
    """
    inside = slice(int(windows.lo.min()), int(windows.hi.max()))
    model = np.asarray(background, float).clip(min=0.0)
    norm = data[inside].sum() / max(model[inside].sum(), 1e-12)
    model, variance = model * norm, np.asarray(background_var, float).clip(min=0.0) * norm**2
    z_obs = local_significances(np.asarray(data, float), model, variance, windows)
    z_max_obs = float(z_obs.max())
    maxima, crossings = [], []
    for start in range(0, n_toys, batch):
        size = (min(batch, n_toys - start), len(model))
        truth = np.clip(model + np.sqrt(variance) * rng.standard_normal(size), 0.0, None)
        toys = rng.poisson(truth).astype(float)
        z = local_significances(toys, model, variance, windows)
        maxima.append(z.max(axis=1))
        crossings.append(upcrossings(z, reference_level))
    maxima = np.concatenate(maxima)
    n_above = int(np.count_nonzero(maxima >= z_max_obs))
    p_global = (n_above + 1) / (n_toys + 1)  # never zero: at most 1 / (n_toys + 1)
    mean_crossings = float(np.mean(np.concatenate(crossings)))
    p_local = float(stats.norm.sf(z_max_obs))
    p_gv = min(1.0, p_local + mean_crossings * np.exp(-(z_max_obs**2 - reference_level**2) / 2.0))
    return {
        "z_local_max_counting": z_max_obs,
        "index_at_max": int(np.argmax(z_obs)),
        "p_global": float(p_global),
        "z_global": float(max(stats.norm.isf(p_global), 0.0)),
        "toys": int(n_toys),
        "toys_above": n_above,
        "gross_vitells": {
            "reference_level": reference_level,
            "mean_upcrossings": mean_crossings,
            "p_global": float(p_gv),
            "z_global": float(max(stats.norm.isf(p_gv), 0.0)),
        },
    }

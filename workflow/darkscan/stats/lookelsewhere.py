"""Look-elsewhere effect: the global significance of the largest local excess of a scan.

Shared by the fit methods (:mod:`darkscan.stats.methods`): :func:`global_p_value` (toys' largest
local Z -> p_global, never below the local p-value), :func:`upcrossings` (for the Gross-Vitells
estimate, EPJ C 70 (2010) 525) and :func:`counting_significance`, the profile-likelihood
significance of a counting experiment with an uncertain background (G. Cowan, "Discovery
sensitivity for a counting experiment with background uncertainty", 2012; Li & Ma, ApJ 272
(1983) 317, eq. 17 when the background is exact): the local significance of the 2D ellipse
counting. Each method draws its own pseudo-experiments through its own statistic
(:mod:`darkscan.stats.methods.window_sidebands.significance`,
:mod:`darkscan.stats.methods.ellipse_counting.significance`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def counting_significance(n: np.ndarray, b: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """Significance of n observed over a background b +- sqrt(sigma2) (Cowan 2012); deficits: 0."""
    n, b, sigma2 = np.broadcast_arrays(
        np.asarray(n, float), np.asarray(b, float), np.maximum(np.asarray(sigma2, float), 1e-12)
    )
    b = np.maximum(b, 1e-9)
    s = n - b
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(n > 0, n * np.log(n * (b + sigma2) / (b * b + n * sigma2)), 0.0)
        second = b * b / sigma2 * np.log1p(sigma2 * s / (b * (b + sigma2)))
    z = np.sqrt(np.maximum(2.0 * (first - second), 0.0))
    return np.where(s > 0, z, 0.0)


def global_p_value(toy_maxima: np.ndarray, z_local_max: float) -> dict:
    """Global p-value of the largest local excess from the largest local Z of each toy.

    p_global = (toys at or above z_local_max + 1) / (toys + 1), never below the local p-value
    Phi(-z_local_max): the toys evaluate exactly the statistic of the observation, so the
    fraction of toys whose largest Z reaches the observed one can fall below the local p-value
    only through toy statistics or where the asymptotic local p-value is off (small counts);
    the trials factor is never below one. ``trials_factor_floor`` says whether that bound
    applied (then ``p_global_toys`` holds the plain toy fraction), so z_global <= z_local_max
    always.
    """
    toy_maxima = np.asarray(toy_maxima, float)
    n_toys = len(toy_maxima)
    n_above = int(np.count_nonzero(toy_maxima >= z_local_max - 1e-12))
    p_toys = (n_above + 1) / (n_toys + 1)
    p_local = float(stats.norm.sf(z_local_max))
    p_global = max(p_toys, p_local)
    return {
        "p_global": float(p_global),
        "z_global": float(np.clip(stats.norm.isf(p_global), 0.0, max(z_local_max, 0.0))),
        "p_global_toys": float(p_toys),
        "trials_factor_floor": bool(p_local > p_toys),
        "toys": n_toys,
        "toys_above": n_above,
    }


def upcrossings(z: np.ndarray, level: float) -> np.ndarray:
    """Number of upcrossings of ``level`` along the last axis."""
    above = z > level
    return np.count_nonzero(above[..., 1:] & ~above[..., :-1], axis=-1) + above[..., 0]

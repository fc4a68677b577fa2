"""Helpers for 2 -> 2 generators in the CM frame: angular sampling and two-body kinematics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from darkscan.events import CrossSection
from darkscan.physics.kinematics import direction, two_body_momentum


def sample_quadratic_cos(n: int, rng: np.random.Generator, a: float, b: float, lo: float, hi: float) -> np.ndarray:
    """Sample cos(theta) in [lo, hi] from the density ~ a + b c^2 (positive on [lo, hi]) by inverting the CDF.

    For b >= 0 the cubic c^3 + p c + q = 0 (p = 3a/b > 0) has one real root, given by Cardano's
    formula; for b < 0 the monotonic CDF a c + b c^3/3 is inverted by bisection.
    """

    def cdf(c: np.ndarray | float) -> np.ndarray:
        return a * np.asarray(c) + b * np.asarray(c) ** 3 / 3.0

    y = cdf(lo) + rng.random(n) * (cdf(hi) - cdf(lo))
    if abs(b) <= 1e-12 * a:
        return y / a
    if b < 0.0:
        left, right = np.full(n, float(lo)), np.full(n, float(hi))
        for _ in range(60):
            mid = 0.5 * (left + right)
            below = cdf(mid) < y
            left, right = np.where(below, mid, left), np.where(below, right, mid)
        return 0.5 * (left + right)
    p, q = 3.0 * a / b, -3.0 * y / b
    root = np.sqrt(q * q / 4.0 + p**3 / 27.0)
    c = np.cbrt(-q / 2.0 + root) + np.cbrt(-q / 2.0 - root)
    return np.clip(c, lo, hi)


def sample_inverse_sine2_cos(n: int, rng: np.random.Generator, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample cos(theta) in [lo, hi] (|lo|, |hi| < 1) from the density ~ 1/(1 - c^2); returns (c, pdf)."""
    at_lo, at_hi = np.arctanh(lo), np.arctanh(hi)
    c = np.tanh(at_lo + rng.random(n) * (at_hi - at_lo))
    return c, 1.0 / ((at_hi - at_lo) * (1.0 - c * c))


def two_body_cm(
    sqrt_s: float, m1: float, m2: float, cos_theta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Four-momenta (N, 4) of a CM two-body final state; particle 1 along (cos_theta, phi)."""
    q = float(two_body_momentum(sqrt_s, m1, m2))
    d = direction(np.asarray(cos_theta, float), np.asarray(phi, float))
    p1 = np.empty((len(d), 4))
    p1[:, 0] = np.sqrt(q * q + m1 * m1)
    p1[:, 1:] = q * d
    p2 = np.empty_like(p1)
    p2[:, 0] = sqrt_s - p1[:, 0]
    p2[:, 1:] = -p1[:, 1:]
    return p1, p2


def weighted_xsec(weight: np.ndarray) -> CrossSection:
    """Sum of weights (fb) and its Monte Carlo error sqrt(sum w^2 - (sum w)^2/N)."""
    w = np.asarray(weight, float)
    total = float(w.sum())
    err2 = float((w * w).sum()) - total**2 / max(len(w), 1)
    return CrossSection(total, float(np.sqrt(max(err2, 0.0))))


def resolve_scale(xsec_scale: float | str, reference: dict[str, float], tree_fb: float, name: str) -> float:
    """Return a numeric K-factor; the string "physics_book" means reference_fb / tree_fb.

    Args:
        xsec_scale: a number, or "physics_book".
        reference: {"sqrt_s": ..., "fb": ..., "theta_min": ..., "theta_max": ...} of the
            published (radiatively corrected) cross section.
        tree_fb: tree-level cross section in the same phase space at the same energy.
        name: process name for messages.
    """
    if isinstance(xsec_scale, str):
        if xsec_scale != "physics_book":
            raise ValueError(f"{name}: xsec_scale must be a number or 'physics_book', got {xsec_scale!r}")
        return reference["fb"] / tree_fb
    scale = float(xsec_scale)
    if scale <= 0.0:
        raise ValueError(f"{name}: xsec_scale must be positive, got {scale}")
    return scale


def sample_until(
    n_events: int,
    draw: Callable[[int], tuple[np.ndarray, Callable[[np.ndarray], object]]],
    *,
    batch: int,
    first_acceptance: float,
    min_acceptance: float = 1e-3,
) -> tuple[list, int]:
    """Accept-reject in batches until ``n_events`` points are kept.

    ``draw(size)`` draws ``size`` points and returns the mask of those inside the cuts and a
    function that takes the kept ones (by index). Each batch is sized to what is still needed
    at the acceptance seen so far (``first_acceptance`` before any point is kept). The trials are
    counted up to the last kept point, so that ``kept / trials`` estimates the acceptance.

    Returns:
        (the kept points of each batch, the number of points drawn).
    """
    kept, trials, n_kept = [], 0, 0
    while n_kept < n_events:
        acceptance = n_kept / trials if n_kept else first_acceptance
        size = int(min(batch, max(1000, 1.2 * (n_events - n_kept) / max(acceptance, min_acceptance))))
        mask, take = draw(size)
        index = np.flatnonzero(mask)
        need = n_events - n_kept
        if len(index) > need:  # count trials up to the last kept point
            trials += int(index[need - 1]) + 1
            index = index[:need]
        else:
            trials += size
        kept.append(take(index))
        n_kept += len(index)
    return kept, trials

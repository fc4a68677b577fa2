"""Punzi's figure of merit: the sensitivity of a selection to a signal of unknown strength.

G. Punzi, "Sensitivity of searches for new signals and its optimization", PHYSTAT 2003,
arXiv:physics/0308063: the smallest signal cross section that a search with
background B and efficiency eps discovers at ``a`` sigma with a probability of ``b`` sigma
(one-sided Gaussian quantiles) is

    sigma_min = [a^2/8 + 9 b^2/13 + a sqrt(B) + (b/2) sqrt(b^2 + 4 a sqrt(B) + 4 B)] / (eps L).

The Belle II Punzi-net of the Z' -> invisible search minimises this with a = 3, b = 1.28155
(90% probability; https://github.com/feichtip/punzinet, src/punzinet/fom.py). The figure of
merit maximised here is its inverse without the luminosity, eps / [...]. For large B it tends
to eps / ((a + b) sqrt(B)); the often quoted eps / (a/2 + sqrt(B)) (the simplified form,
for b = 0) ranks nearly background-free selections differently, hence the full formula.
"""

from __future__ import annotations

import numpy as np

#: Belle II's choice (Punzi-net): discovery at 3 sigma with 90% probability.
PUNZI_A = 3.0
PUNZI_B = 1.28155


def punzi_denominator(background: np.ndarray | float, *, a: float = PUNZI_A, b: float = PUNZI_B) -> np.ndarray:
    """The bracket of Punzi's formula: eps L sigma_min for background ``background`` (events)."""
    root_b = np.sqrt(np.maximum(background, 0.0))
    return (
        a**2 / 8 + 9 * b**2 / 13 + a * root_b + b / 2 * np.sqrt(b**2 + 4 * a * root_b + 4 * np.maximum(background, 0.0))
    )


def punzi_denominator_slope(background: np.ndarray, *, a: float = PUNZI_A, b: float = PUNZI_B) -> np.ndarray:
    """d/dB of :func:`punzi_denominator` for B > 0:
    a / (2 sqrt(B)) + b (a / sqrt(B) + 2) / (2 sqrt(b^2 + 4 a sqrt(B) + 4 B))."""
    root_b = np.sqrt(background)
    return a / (2 * root_b) + b * (a / root_b + 2.0) / (2.0 * np.sqrt(b**2 + 4 * a * root_b + 4 * background))


def punzi_fom(
    efficiency: np.ndarray | float, background: np.ndarray | float, *, a: float = PUNZI_A, b: float = PUNZI_B
) -> np.ndarray:
    """Punzi's figure of merit eps / [a^2/8 + 9 b^2/13 + a sqrt(B) + (b/2) sqrt(b^2 + 4 a sqrt(B) + 4 B)]."""
    return np.asarray(efficiency, dtype=np.float64) / punzi_denominator(background, a=a, b=b)

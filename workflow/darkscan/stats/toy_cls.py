"""CLs upper limits from pseudo-experiments, where the asymptotic formulae fail (few events).

For each hypothesis and each tested signal strength mu on a grid, the distributions of the
test statistic qtilde_mu under signal-plus-background (mu) and background only (0) are sampled
with toys drawn from the model at the mu-conditional (0-conditional) fit to the observed data,
the frequentist toys of pyhf's ``ToyCalculator`` (counts Poisson, auxiliary measurements
Gaussian around the fitted nuisances)::

    CLs(mu) = P(q_mu >= q_obs | mu) / P(q_mu >= q_obs | 0)

The expected limits use, as pyhf does, the quantiles of q_mu under background only in place of
q_obs (the -2 sigma band at the 97.7% quantile: the most background-like data give the lowest
limits). The limit is where CLs crosses the level, interpolated linearly in log CLs between grid
points. A model supplies the toys and the statistic (:class:`ToyModel`), e.g. the window fits
through the engine (:mod:`darkscan.stats.methods.window_sidebands.toy_limits`).

CL_b of a strong deficit rests on the few background-only toys as extreme as the data (n = 0
in a window of 5 expected events: 0.7% of them). Where fewer than :data:`MIN_TAIL_TOYS` of them
lie at or above q_obs at the crossing, the observed limit is noise (with none, CLs jumps below
the level at the first tested value) and is not accepted: the hypothesis keeps its asymptotic
limits (``converged`` False).

Known answer (tests): a counting experiment without uncertainties, n = 0, gives
mu_up s = -ln(level) = 2.303 events at 90% CL whatever the background, as the exact CLs does.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Protocol

import numpy as np
from scipy import stats

from darkscan.stats.cls import BAND_SIGMAS

log = logging.getLogger(__name__)

MIN_TAIL_TOYS = 10  # background-only toys at or above q_obs for an observed CL_b (~30% precision)


class ToyModel(Protocol):
    """What the toy calculator needs of a model of H hypotheses."""

    def sample(self, mu: np.ndarray, n_toys: int, rng: np.random.Generator) -> Any:
        """``n_toys`` pseudo-datasets per hypothesis from the fit at POI ``mu`` (H,) to the data."""

    def qtilde(self, mu: np.ndarray, toys: Any) -> np.ndarray:
        """qtilde_mu (toys, H) of pseudo-datasets from :meth:`sample`."""

    def qtilde_observed(self, mu: np.ndarray) -> np.ndarray:
        """qtilde_mu (H,) of the observed data."""


@dataclasses.dataclass(frozen=True)
class ToyLimits:
    """Observed (H,) and expected (5, H) limits; ``converged`` (H,): every crossing found on the grid."""

    observed: np.ndarray
    expected: np.ndarray
    converged: np.ndarray


def mu_grid(low: np.ndarray, high: np.ndarray, *, points: int) -> np.ndarray:
    """(H, points) logarithmic grids from ``low`` to ``high`` (H,)."""
    t = np.linspace(0.0, 1.0, points)
    return np.exp(np.log(low)[:, None] + t[None, :] * (np.log(high) - np.log(low))[:, None])


def _tail(q_toys: np.ndarray, q_ref: np.ndarray) -> np.ndarray:
    """P(q >= q_ref) over the toy axis 0; q_toys (T, H), q_ref (..., H)."""
    return (q_toys >= q_ref[..., None, :] - 1e-12).mean(axis=-2)


def cls_on_grid(model: ToyModel, grid: np.ndarray, *, n_toys: int, rng: np.random.Generator):
    """Observed (H, K) and expected (5, H, K) CLs on ``grid`` (H, K), and the number (H, K) of
    background-only toys at or above the observed q_mu."""
    n_hyp, n_points = grid.shape
    b_toys = model.sample(np.zeros(n_hyp), n_toys, rng)
    observed = np.empty((n_hyp, n_points))
    expected = np.empty((len(BAND_SIGMAS), n_hyp, n_points))
    b_tail = np.empty((n_hyp, n_points), dtype=int)
    probabilities = stats.norm.cdf(-BAND_SIGMAS)  # -2 sigma <- 97.7% quantile
    start = time.monotonic()
    for k in range(n_points):
        mu = grid[:, k]
        q_sb = model.qtilde(mu, model.sample(mu, n_toys, rng))
        q_b = model.qtilde(mu, b_toys)
        q_obs = model.qtilde_observed(mu)
        cl_b = _tail(q_b, q_obs)
        b_tail[:, k] = np.rint(cl_b * len(q_b)).astype(int)
        observed[:, k] = _tail(q_sb, q_obs) / np.maximum(cl_b, 1.0 / n_toys)
        q_bands = np.quantile(q_b, probabilities, axis=0)  # (5, H)
        expected[:, :, k] = _tail(q_sb, q_bands) / np.maximum(_tail(q_b, q_bands), 1.0 / n_toys)
        log.info(
            "toy CLs: %d of %d tested values done for %d hypotheses (%.0f s)",
            k + 1,
            n_points,
            n_hyp,
            time.monotonic() - start,
        )
    return observed, expected, b_tail


def crossing(grid: np.ndarray, cls: np.ndarray, *, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The mu (..., H) where CLs (..., H, K) first falls below ``level``, and whether it does
    within the grid (else the limit is the grid end, flagged)."""
    below = cls < level
    found = below.any(axis=-1) & ~below[..., 0]
    k = np.clip(np.argmax(below, axis=-1), 1, grid.shape[-1] - 1)
    grid = np.broadcast_to(grid, cls.shape)
    take = np.take_along_axis
    m0, m1 = take(grid, k[..., None] - 1, -1)[..., 0], take(grid, k[..., None], -1)[..., 0]
    c0 = np.log(np.maximum(take(cls, k[..., None] - 1, -1)[..., 0], 1e-12))
    c1 = np.log(np.maximum(take(cls, k[..., None], -1)[..., 0], 1e-12))
    frac = np.clip((np.log(level) - c0) / np.where(c1 != c0, c1 - c0, -1e-12), 0.0, 1.0)
    limit = m0 + frac * (m1 - m0)
    limit = np.where(below[..., 0], grid[..., 0], np.where(found, limit, grid[..., -1]))
    return limit, found


def toy_cls_limits(
    model: ToyModel, grid: np.ndarray, *, level: float, n_toys: int, rng: np.random.Generator
) -> ToyLimits:
    """CLs limits from toys on ``grid`` (H, K) of tested mu (see the module docstring).

    Args:
        model: toys and statistic of H hypotheses.
        grid: increasing mu per hypothesis, bracketing every limit (e.g. :func:`mu_grid` from 0.5x
            the smallest to 2x the largest asymptotic limit).
        level: CLs threshold (0.10 for 90% CL).
        n_toys: pseudo-experiments per hypothesis and tested mu, under each hypothesis.
        rng: the seeded generator.
    """
    observed_cls, expected_cls, b_tail = cls_on_grid(model, grid, n_toys=n_toys, rng=rng)
    observed, found = crossing(grid, observed_cls, level=level)
    expected, found_exp = crossing(grid, expected_cls, level=level)
    expected = np.maximum.accumulate(expected, axis=0)  # bands ordered as the quantiles are
    first_below = np.argmax(observed_cls < level, axis=-1)
    measured = np.take_along_axis(b_tail, first_below[:, None], axis=-1)[:, 0] >= MIN_TAIL_TOYS
    return ToyLimits(observed, expected, found & found_exp.all(axis=0) & measured)

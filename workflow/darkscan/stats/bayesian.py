"""Bayesian upper limits with a flat prior on the signal cross section (mu >= 0).

The credible upper limit mu_up at credibility ``cl`` solves

    integral_0^mu_up p(mu | data) dmu = cl,   p(mu | data) ~ L_marginal(mu) x 1[mu >= 0],

with the nuisance parameters integrated over their priors (the constraint terms of the model:
unit Gaussians for normalisation systematics, a Gaussian of width sigma_b around the MC estimate
for the background of a counting experiment, truncated at b >= 0; a flat prior for a free
background normalisation). This is the statistic of Belle II's dark-Higgsstrahlung search
(PRL 130 (2023) 071804: "90% Bayesian credibility") and of the first Z' -> invisible search
(PRL 124 (2020) 141801: "90% credibility level").

:func:`counting_upper_limits` evaluates one-bin counting experiments (the 2D ellipses),
vectorised over many bins. For fixed nuisances the posterior CDF in mu is closed form (an
incomplete gamma function, since integral Pois(n | b + mu s) dmu = [P(n + 1, b + mu s) -
P(n + 1, b)] / s), so only the nuisances are integrated numerically (Gauss-Legendre in b,
Gauss-Hermite in the signal-normalisation nuisance) and the limit is found by Newton's method on
the exact CDF. Known results: n = 0 gives mu_up s = -ln(1 - cl) whatever b (2.303 events at 90%);
without background, n = 1, 2 give 3.890, 5.322 events (the Poisson quantiles of the Gamma
posterior). Expected limits are the limits at the quantiles of n under the background-only
marginal distribution (the limit rises with n, so the quantiles of the limit are the limits at
the quantiles of n).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special, stats

from darkscan.stats.cls import BAND_SIGMAS


@dataclasses.dataclass(frozen=True)
class BayesianLimits:
    """Upper limits on mu (the unit of ``s``: cross section in fb when s is events per fb).

    Attributes:
        observed: (N,) limits for the observed counts.
        expected: (5, N) limits at the -2, -1, 0, +1, +2 sigma quantiles of the counts under the
            background-only hypothesis.
        converged: (N,) the Newton iteration met its tolerance for every limit of the bin.
    """

    observed: np.ndarray
    expected: np.ndarray
    converged: np.ndarray


def _nuisance_nodes(b0, sigma, signal_norm: float, *, n_b: int, n_alpha: int):
    """Quadrature nodes and weights over (b, alpha): shapes (N, n_b * n_alpha) each.

    b: Gauss-Legendre on [max(0, b0 - 7 sigma), b0 + 7 sigma], weighted by Gauss(b0 | b, sigma)
    (the flat-prior x MC-measurement posterior of b, truncated at 0). alpha: Gauss-Hermite for a
    unit Gaussian; the signal scale factor is pyhf's normsys (1 + delta)^alpha, (1 - delta)^-alpha.
    """
    x, w = np.polynomial.legendre.leggauss(n_b)
    lo = np.maximum(b0 - 7.0 * sigma, 0.0)
    hi = b0 + 7.0 * sigma
    half = 0.5 * (hi - lo)[:, None]
    b = (0.5 * (hi + lo))[:, None] + half * x[None, :]
    wb = half * w[None, :] * np.exp(-0.5 * ((b - b0[:, None]) / sigma[:, None]) ** 2)
    if signal_norm > 0:
        t, wt = np.polynomial.hermite_e.hermegauss(n_alpha)
        wt = wt / wt.sum()
        factor = np.where(t >= 0, (1.0 + signal_norm) ** t, max(1.0 - signal_norm, 1e-3) ** (-t))
    else:
        factor, wt = np.ones(1), np.ones(1)
    b_nodes = np.repeat(b, len(factor), axis=1)
    f_nodes = np.tile(factor, b.shape[1])[None, :]
    weights = np.repeat(wb, len(factor), axis=1) * np.tile(wt, b.shape[1])[None, :]
    return b_nodes, np.broadcast_to(f_nodes, b_nodes.shape), weights / weights.sum(axis=1, keepdims=True)


def _posterior_cdf(mu, n, s, b, f, w, at_zero):
    """Unnormalised posterior mass below mu and the density at mu, summed over the nodes
    (``at_zero``: the incomplete gamma function at mu = 0)."""
    shape = n[:, None] + 1.0
    rate = s[:, None] * f
    mass = (special.gammainc(shape, b + mu[:, None] * rate) - at_zero) / rate
    lam = b + mu[:, None] * rate
    density = np.exp(special.xlogy(n[:, None], lam) - lam - special.gammaln(n[:, None] + 1.0))
    return (w * mass).sum(axis=1), (w * density).sum(axis=1)


def _limits_for_counts(n, s, b, f, w, *, cl: float, rtol: float, max_iter: int):
    """Credible upper limits for counts ``n`` (one per bin) with the nuisance nodes of each bin."""
    shape, rate = n[:, None] + 1.0, s[:, None] * f
    at_zero = special.gammainc(shape, b)
    total = (w * (1.0 - at_zero) / rate).sum(axis=1)
    target = cl * total
    # start: the limit without nuisances at the mean background (exact for a known background)
    b_mean = (w * b).sum(axis=1)
    start_events = special.gammaincinv(n + 1.0, cl + (1.0 - cl) * special.gammainc(n + 1.0, b_mean)) - b_mean
    mu = np.maximum(start_events, 1e-6) / s
    lo, hi = np.zeros_like(mu), np.full_like(mu, np.inf)
    converged = np.zeros(len(n), bool)
    active = np.arange(len(n))
    for _ in range(max_iter):  # Newton's method, safeguarded by the bracket [lo, hi]
        a = active
        mass, density = _posterior_cdf(mu[a], n[a], s[a], b[a], f[a], w[a], at_zero[a])
        below = mass < target[a]
        lo[a], hi[a] = np.where(below, mu[a], lo[a]), np.where(below, hi[a], mu[a])
        new = mu[a] - (mass - target[a]) / np.maximum(density, 1e-300)
        fallback = np.where(np.isfinite(hi[a]), 0.5 * (lo[a] + hi[a]), 2.0 * mu[a])
        new = np.where((new > lo[a]) & (new < hi[a]), new, fallback)
        done = np.abs(new - mu[a]) <= rtol * new
        mu[a], converged[a] = new, done
        active = a[~done]
        if not len(active):
            break
    return mu, converged


def background_count_quantiles(b, w, probabilities) -> np.ndarray:
    """Quantiles (smallest n with P(N <= n) >= p) of n ~ Pois(b), b over the nodes (N, K) with
    weights w: (len(probabilities), N). Found by bisection on n with the exact Poisson CDF."""
    probabilities = np.asarray(probabilities, float)[:, None]
    lo = np.full((len(probabilities), len(b)), -1.0)  # P(N <= lo) < p
    top = np.ceil(b.max(axis=1) + 12.0 * np.sqrt(b.max(axis=1) + 1.0) + 12.0)
    hi = np.broadcast_to(top, lo.shape).copy()
    while np.any(hi - lo > 1):
        mid = np.floor(0.5 * (lo + hi))
        cdf = np.einsum("ik,pik->pi", w, special.pdtr(mid[:, :, None], b[None, :, :]))
        enough = cdf >= probabilities - 1e-12
        hi, lo = np.where(enough, mid, hi), np.where(enough, lo, mid)
    return hi


def counting_upper_limits(
    n,
    s,
    b0,
    sigma,
    *,
    cl: float,
    signal_norm: float = 0.0,
    n_b: int = 16,
    n_alpha: int = 5,
    rtol: float = 1e-6,
    max_iter: int = 60,
) -> BayesianLimits:
    """Bayesian upper limits of one-bin counting experiments, n ~ Pois(mu s f(alpha) + b).

    Args:
        n: observed counts (N,).
        s: expected signal per unit mu (N,), > 0.
        b0: background estimate (N,); sigma: its uncertainty (N,) (a Gaussian prior on b
            truncated at 0; sigma = 0 fixes b).
        cl: credibility (0.90).
        signal_norm: relative signal-normalisation uncertainty (unit-Gaussian nuisance).
        n_b, n_alpha: quadrature nodes in b and alpha.
        rtol: relative tolerance of the limits.
        max_iter: Newton iterations.
    """
    n, s, b0, sigma = (np.atleast_1d(np.asarray(a, float)) for a in np.broadcast_arrays(n, s, b0, sigma))
    sigma = np.maximum(sigma, 1e-9 * np.maximum(b0, 1e-3))
    b, f, w = _nuisance_nodes(b0, sigma, signal_norm, n_b=n_b, n_alpha=n_alpha)
    observed, ok = _limits_for_counts(n, s, b, f, w, cl=cl, rtol=rtol, max_iter=max_iter)
    per_b = n_alpha if signal_norm > 0 else 1  # the alpha nodes of one b node are adjacent
    b_only, w_b = b[:, ::per_b], w.reshape(len(w), -1, per_b).sum(axis=2)
    quantiles = background_count_quantiles(b_only, w_b, stats.norm.cdf(BAND_SIGMAS))
    # bins share their limit for equal counts: solve each distinct (bin, count) once
    expected = np.empty_like(quantiles)
    for i, q in enumerate(quantiles):
        expected[i], ok_i = _limits_for_counts(q, s, b, f, w, cl=cl, rtol=rtol, max_iter=max_iter)
        ok &= ok_i
    return BayesianLimits(observed, expected, ok)

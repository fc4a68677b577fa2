"""The closed-form counting likelihood of one ellipse and its CLs limits, vectorised over hypotheses.

A one-bin counting experiment n ~ Pois(mu s + b), b ~ Gauss(b0, sigma_b) (the pyhf ``histosys``
parametrisation b = b0 + alpha sigma_b, alpha ~ N(0, 1)), whose conditional maximum-likelihood b
has a closed form (root of a quadratic), so the qtilde test statistic, the Asimov dataset and the
CLs limits (CCGV, EPJ C 71 (2011) 1554; the formulas of :mod:`darkscan.stats.cls`, with the same
conventions as :class:`darkscan.stats.cls.FastAsymptoticCLs`) are vectorised over all
hypotheses: the signal-normalisation nuisance (pyhf ``normsys`` of the quadrature sum of the
signal sources in systematics.csv) is profiled by a vectorised golden-section search. Measured on
this machine (2 cores): 35 500 hypotheses per scan job in 6.5 s of limit computation (0.55 s
without the signal nuisance), whereas pyhf with FastAsymptoticCLs takes 0.05-0.08 s per
hypothesis (~70 min for the default 7.1e4 hypotheses). Agreement with pyhf on the same model is
tested (tests/stats/methods/ellipse_counting/test_ellipse_counting.py: 0.1-0.5%); the scan
cross-checks a subset with pyhf (:func:`pyhf_spec`, :func:`pyhf_limits`).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np

from darkscan.stats import bayesian
from darkscan.stats.cls import FastAsymptoticCLs, expected_limits, log_cls_observed
from darkscan.stats.scan import MEASUREMENT_NAME, small_count_rows


def _nll(mu, n, s, b, b0, sigma):
    """-2 ln L (constants dropped) of n ~ Pois(mu s + b), b0 ~ Gauss(b, sigma)."""
    lam = np.maximum(mu * s + b, 1e-300)
    return 2.0 * (lam - np.where(n > 0, n * np.log(lam), 0.0)) + ((b - b0) / sigma) ** 2


def profiled_background(mu, n, s, b0, sigma, *, floor: float = 1e-9):
    """Conditional MLE of b at fixed mu: t = mu s + b solves t^2 + t (sigma^2 - mu s - b0) - n sigma^2 = 0."""
    sig2 = sigma * sigma
    c = sig2 - mu * s - b0
    t = 0.5 * (-c + np.sqrt(c * c + 4.0 * n * sig2))
    return np.maximum(t - mu * s, floor)


def normsys_factor(alpha, delta):
    """pyhf ``normsys`` (exponential interpolation, code 1): (1 + delta)^alpha, (1 - delta)^-alpha."""
    alpha = np.asarray(alpha, float)
    return np.where(alpha >= 0, (1.0 + delta) ** alpha, np.maximum(1.0 - delta, 1e-3) ** (-alpha))


_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def profiled_nll(mu, n, s, b0, sigma, signal_norm: float = 0.0, *, iterations: int = 32):
    """-2 ln L at fixed mu, profiled over b (closed form) and, if ``signal_norm`` > 0, over the signal
    normalisation nuisance alpha_s (unit Gaussian constraint, pyhf normsys) by a vectorised
    golden-section search on [-5, 5]."""
    if signal_norm <= 0:
        b = profiled_background(mu, n, s, b0, sigma)
        return _nll(mu, n, s, b, b0, sigma)

    def g(alpha):
        s_alpha = s * normsys_factor(alpha, signal_norm)
        return _nll(mu, n, s_alpha, profiled_background(mu, n, s_alpha, b0, sigma), b0, sigma) + alpha * alpha

    shape = np.broadcast(mu, n, s, b0, sigma).shape
    lo, hi = np.full(shape, -5.0), np.full(shape, 5.0)
    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    gc, gd = g(c), g(d)
    for _ in range(iterations):
        left = gc < gd  # minimum in [lo, d]: d <- c; else in [c, hi]: c <- d
        hi, lo = np.where(left, d, hi), np.where(left, lo, c)
        keep_x, keep_g = np.where(left, c, d), np.where(left, gc, gd)
        new_x = np.where(left, hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo))
        new_g = g(new_x)
        c, gc = np.where(left, new_x, keep_x), np.where(left, new_g, keep_g)
        d, gd = np.where(left, keep_x, new_x), np.where(left, keep_g, new_g)
    return np.minimum(np.minimum(gc, gd), g(np.zeros(shape)))


def _qtilde(mu, n, s, b0, sigma, mu_hat, nll_free, signal_norm: float = 0.0):
    q = np.maximum(profiled_nll(mu, n, s, b0, sigma, signal_norm) - nll_free, 0.0)
    return np.where(mu_hat > mu, 0.0, q)


@dataclasses.dataclass(frozen=True)
class CountingLimits:
    observed: np.ndarray
    expected: np.ndarray  # (5, N): -2, -1, median, +1, +2 sigma
    converged: np.ndarray


def counting_cls_limits(
    n, s, b0, sigma, *, level: float, signal_norm: float = 0.0, iterations: int = 60
) -> CountingLimits:
    """Observed and expected CLs upper limits on mu for one-bin counting experiments (vectorised).

    n ~ Pois(mu s + b), b constrained by Gauss(b0, sigma); qtilde, asymptotic formulae (CCGV),
    the conventions of :class:`darkscan.stats.cls.FastAsymptoticCLs` (sigma_A from the Asimov
    dataset of the background-only fit to the data, evaluated at each band's own limit).

    Args:
        n: observed counts; s: signal events per unit mu; b0: background estimate; sigma: its
            uncertainty (all arrays of one shape).
        level: CLs threshold (0.10 for 90% CL).
        signal_norm: relative signal-normalisation uncertainty (a pyhf normsys, profiled); in the
            free fits it is absorbed by mu (alpha_s = 0), so only the conditional fits profile it.
    """
    n, s, b0, sigma = (np.asarray(a, float).copy() for a in np.broadcast_arrays(n, s, b0, sigma))
    sigma = np.maximum(sigma, 1e-9 * np.maximum(b0, 1.0))
    # free fit (mu >= 0, the pyhf bound)
    mu_hat = np.maximum((n - b0) / s, 0.0)
    b_hat = profiled_background(mu_hat, n, s, b0, sigma)
    nll_free = _nll(mu_hat, n, s, b_hat, b0, sigma)
    # Asimov dataset of the background-only fit to the data (main and auxiliary measurement)
    b_asimov = profiled_background(0.0, n, s, b0, sigma)
    nll_free_a = _nll(0.0, b_asimov, s, b_asimov, b_asimov, sigma)

    def sigma_a(mu):
        q_a = _qtilde(mu, b_asimov, s, b_asimov, sigma, 0.0, nll_free_a, signal_norm)
        return mu / np.sqrt(np.maximum(q_a, 1e-300))

    scale = (2.0 * np.sqrt(b0 + sigma**2 + 1.0) + 3.0) / s
    median = expected_limits(sigma_a(scale), level)[2]
    sig_a = sigma_a(median)
    first = expected_limits(sig_a, level)
    exp = np.array([expected_limits(sigma_a(first[i]), level)[i] for i in range(5)])
    # where sigma_A varies so fast with mu that the bands would cross (background compatible with
    # zero and uncertain), keep the bands of the median's sigma_A
    crossing = np.any(np.diff(exp, axis=0) < 0, axis=0) | ~np.all(np.isfinite(exp), axis=0)
    exp = np.where(crossing, first, exp)

    def log_cls_minus_level(mu):
        q = _qtilde(mu, n, s, b0, sigma, mu_hat, nll_free, signal_norm)
        with np.errstate(divide="ignore"):
            return log_cls_observed(q, (mu / sig_a) ** 2) - np.log(level)  # q_mu,A = (mu / sigma_A)^2

    lo, hi = 1e-3 * median, 3.0 * median
    for _ in range(40):  # widen the upper bracket where CLs is not yet below the level
        bad = log_cls_minus_level(hi) >= 0
        if not bad.any():
            break
        hi = np.where(bad, hi * 3.0, hi)
    converged = (log_cls_minus_level(lo) > 0) & (log_cls_minus_level(hi) < 0)
    log_lo, log_hi = np.log(lo), np.log(hi)
    for _ in range(iterations):  # bisection in log mu, all hypotheses at once
        mid = 0.5 * (log_lo + log_hi)
        above = log_cls_minus_level(np.exp(mid)) > 0
        log_lo, log_hi = np.where(above, mid, log_lo), np.where(above, log_hi, mid)
    return CountingLimits(np.exp(0.5 * (log_lo + log_hi)), exp, converged)


# ----------------------------------------------------------------------------- pyhf (subset)
def pyhf_spec(*, n: float, s: float, b0: float, sigma_b: float, signal_norm: float, scale: float) -> dict:
    """One-bin pyhf workspace: POI mu = cross section (fb); background histosys b0 +- sigma_b."""
    signal_modifiers = [{"name": "mu", "type": "normfactor", "data": None}]
    if signal_norm > 0:
        signal_modifiers.append(
            {
                "name": "signal_normalisation",
                "type": "normsys",
                "data": {"hi": 1.0 + signal_norm, "lo": max(1.0 - signal_norm, 1e-3)},
            }
        )
    return {
        "version": "1.0.0",
        "channels": [
            {
                "name": "ellipse",
                "samples": [
                    {"name": "signal", "data": [float(s)], "modifiers": signal_modifiers},
                    {
                        "name": "background",
                        "data": [float(b0)],
                        "modifiers": [
                            {
                                "name": "background_mc_statistics",
                                "type": "histosys",
                                "data": {"hi_data": [float(b0 + sigma_b)], "lo_data": [float(max(b0 - sigma_b, 1e-9))]},
                            }
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "ellipse", "data": [float(n)]}],
        "measurements": [
            {
                "name": MEASUREMENT_NAME,
                "config": {
                    "poi": "mu",
                    "parameters": [{"name": "mu", "bounds": [[0.0, 50.0 * scale]], "inits": [scale]}],
                },
            }
        ],
    }


def pyhf_limits(spec: dict, level: float) -> tuple[float, list[float]]:
    import pyhf

    pyhf.set_backend("numpy", "scipy")
    logging.getLogger("pyhf.optimize").setLevel(logging.CRITICAL)  # failed fits are reported by the caller
    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    scale = model.config.suggested_init()[model.config.poi_index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        limits = FastAsymptoticCLs(model, workspace.data(model)).upper_limits(level, scale=scale)
    return float(limits.observed), [float(e) for e in limits.expected]


def _signal_norm(systematics_path) -> float:
    from darkscan.systematics.table import read_table

    rows = read_table(systematics_path)
    return float(np.sqrt(sum(r.value**2 for r in rows if r.applies_to == "signal" and r.modifier == "normsys")))


# ----------------------------------------------------------------------------- fit.limit
def counting_limits(
    n, s, b0, sigma, *, level: float, signal_norm: float, fit: dict, asymptotic: CountingLimits | None = None
) -> tuple[CountingLimits, np.ndarray]:
    """The limits ``fit.limit`` asks for, and the method of each (``limit_method`` of limits.csv).

    Asymptotic CLs (:func:`counting_cls_limits`) everywhere, replaced by the Bayesian credible
    limits of :func:`darkscan.stats.bayesian.counting_upper_limits` (flat prior on the cross
    section, CL = 1 - ``level``) where :func:`darkscan.stats.scan.small_count_rows` says so. Arrays of any one shape;
    ``asymptotic``: the asymptotic limits if already computed.
    """
    n, s, b0, sigma = (np.asarray(a, float) for a in np.broadcast_arrays(n, s, b0, sigma))
    if asymptotic is None:
        asymptotic = counting_cls_limits(n, s, b0, sigma, level=level, signal_norm=signal_norm)
    limits = asymptotic
    methods = np.full(n.shape, "cls_asymptotic_closed_form", dtype=object)
    chosen = small_count_rows(b0, fit, method="bayesian")
    if not chosen.any():
        return limits, methods
    bayes = bayesian.counting_upper_limits(
        n[chosen], s[chosen], b0[chosen], sigma[chosen], cl=1.0 - level, signal_norm=signal_norm
    )
    observed, expected, converged = limits.observed.copy(), limits.expected.copy(), limits.converged.copy()
    observed[chosen], converged[chosen] = bayes.observed, bayes.converged
    expected[:, chosen] = bayes.expected
    methods[chosen] = "bayesian"
    return CountingLimits(observed, expected, converged), methods

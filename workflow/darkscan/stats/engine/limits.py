"""CLs upper limits with qtilde for every hypothesis and dataset at once (asymptotic, CCGV).

The fits shared by every tested POI value (free fit, background-only fit and its Asimov
dataset) run once per row; the observed and expected limits are then the roots of
log CLs(mu) = log(level) (formulas of :mod:`darkscan.stats.cls`), found by vectorised
bracketing and Illinois regula falsi in log mu.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from darkscan.stats.cls import BAND_SIGMAS, band_factors, log_cls_expected, log_cls_observed
from darkscan.stats.engine.batch import WindowBatch
from darkscan.stats.engine.likelihood import _expected_counts, _Rows, _rows, _to_internal, _value
from darkscan.stats.engine.minimise import _fit, _initial

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BatchLimits:
    """Observed (..., H) and expected (5, ..., H; -2 .. +2 sigma) upper limits on the POI."""

    observed: np.ndarray
    expected: np.ndarray
    converged: np.ndarray


@dataclasses.dataclass
class _LimitProblem:
    """Fits shared by every POI value tested for one set of rows."""

    data: _Rows
    asimov: _Rows
    free_value: np.ndarray
    free_poi: np.ndarray
    asimov_value: np.ndarray
    warm_data: np.ndarray  # (N, P)
    warm_asimov: np.ndarray  # (6, N, P)
    base_converged: np.ndarray  # (N,) the fits shared by all POI values
    converged: np.ndarray  # (6, N) the fits at the latest POI value tested


def _limit_problem(rows: _Rows, theta0: np.ndarray) -> _LimitProblem:
    """Free fit and background-only fit to the data, and the Asimov dataset of the latter."""
    free_value, free_theta, free_conv = _fit(rows, theta0)
    _, bkg_theta, bkg_conv = _fit(rows, free_theta, poi=np.zeros(theta0.shape[0]))
    counts = _expected_counts(rows, bkg_theta)
    asimov = rows.with_observations(np.maximum(counts, 0.0), np.where(rows.constrained > 0, bkg_theta, rows.aux))
    asimov_value = _value(asimov, bkg_theta)  # the Asimov data are fitted exactly at mu = 0 ...
    negative = np.flatnonzero((counts < 0).any(axis=-1))
    if negative.size:
        # ... unless an empty bin was fitted below zero (pyhf allows that, and then fails on the
        # Asimov data): such bins are set to 0 and the Asimov data fitted
        log.debug("%d Asimov datasets with negative expected counts set to 0", negative.size)
        value, _, conv = _fit(asimov.take(negative), bkg_theta[negative])
        asimov_value[negative] = np.minimum(value, asimov_value[negative])
        bkg_conv[negative] &= conv
    return _LimitProblem(
        rows,
        asimov,
        free_value,
        free_theta[:, 0],
        asimov_value,
        free_theta.copy(),
        np.broadcast_to(bkg_theta, (6,) + bkg_theta.shape).copy(),
        free_conv & bkg_conv,
        np.ones((6, theta0.shape[0]), dtype=bool),
    )


def _log_cls_minus_level(problem: _LimitProblem, x: np.ndarray, active: np.ndarray, log_level: float) -> np.ndarray:
    """log CLs(mu = e^x) - log(level) for the (6, N) entries ``active`` (row 0 observed, 1-5 bands)."""
    col, row = np.nonzero(active)
    mu = np.exp(x[col, row])
    obs = col == 0
    rows = problem.asimov.take(row).concat(problem.data.take(row[obs]))
    start = np.concatenate([problem.warm_asimov[col, row], problem.warm_data[row[obs]]])
    value, theta, conv = _fit(rows, start, poi=np.concatenate([mu, mu[obs]]))
    n_a = row.size
    problem.warm_asimov[col, row] = theta[:n_a]
    problem.warm_data[row[obs]] = theta[n_a:]
    problem.converged[col, row] = conv[:n_a]
    problem.converged[0, row[obs]] &= conv[n_a:]
    q_a = np.maximum(value[:n_a] - problem.asimov_value[row], 0.0)
    out = np.full(col.size, np.nan)
    bands = ~obs
    out[bands] = log_cls_expected(q_a[bands], BAND_SIGMAS[col[bands] - 1])
    q = np.maximum(value[n_a:] - problem.free_value[row[obs]], 0.0)
    q = np.where(problem.free_poi[row[obs]] > mu[obs], 0.0, q)  # qtilde: 0 above mu_hat
    out[obs] = log_cls_observed(q, q_a[obs])
    result = np.full(x.shape, np.nan)
    result[col, row] = out - log_level
    return result


def _decreasing_root(func, x0: np.ndarray, *, xtol: float, max_iter: int = 60, first_step: float = 0.25):
    """Vectorised root of functions decreasing in x: bracket by expansion, then Illinois regula falsi.

    Args:
        func: ``func(x, active) -> values`` evaluated where ``active`` (same shape as x).
        x0: starting points.
        xtol: absolute tolerance on x (relative tolerance on mu for x = log mu).

    Returns:
        (roots, converged).
    """
    shape = x0.shape
    a, fa = np.full(shape, -np.inf), np.full(shape, np.nan)  # func > 0 side
    b, fb = np.full(shape, np.inf), np.full(shape, np.nan)  # func < 0 side
    last_side = np.zeros(shape, dtype=int)
    x, step = x0.copy(), np.full(shape, first_step)
    done = np.zeros(shape, dtype=bool)
    root = np.full(shape, np.nan)
    for _ in range(max_iter):
        active = ~done
        if not active.any():
            break
        value = func(x, active)
        bad = active & ~np.isfinite(value)
        done |= bad
        ok = active & ~bad
        pos, neg = ok & (value >= 0), ok & (value < 0)
        # Illinois: halve the stale end when the same end moves twice in a row
        fb = np.where(pos & (last_side == 1), fb * 0.5, fb)
        fa = np.where(neg & (last_side == -1), fa * 0.5, fa)
        a, fa = np.where(pos, x, a), np.where(pos, value, fa)
        b, fb = np.where(neg, x, b), np.where(neg, value, fb)
        last_side = np.where(pos, 1, np.where(neg, -1, last_side))
        bracketed = np.isfinite(a) & np.isfinite(b)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            secant = (a * fb - b * fa) / (fb - fa)
            middle = 0.5 * (a + b)
        secant = np.where(np.isfinite(secant) & (secant > a) & (secant < b), secant, middle)
        finished = ok & bracketed & ((b - a < xtol) | (np.abs(secant - x) < 0.5 * xtol))
        root = np.where(finished, secant, root)
        done |= finished
        step = np.where(ok & ~bracketed, step * 2.0, step)
        x = np.where(bracketed, secant, np.where(np.isfinite(a), a + step, b - step))
    return root, np.isfinite(root)


def _q_asimov(problem: _LimitProblem, mu: np.ndarray) -> np.ndarray:
    """q_mu,A (N,) at internal POI values ``mu`` (conditional fits to the Asimov data)."""
    value, _, _ = _fit(problem.asimov, problem.warm_asimov[2], poi=mu)
    return np.maximum(value - problem.asimov_value, 0.0)


def _initial_guesses(problem: _LimitProblem, level: float) -> np.ndarray:
    """log mu starting points (6, N): CCGV eq. 89 with sigma_A = mu / sqrt(q_mu,A) at mu = the scale.

    The observed limit starts at the median expected one shifted by mu_hat.
    """
    n_rows = problem.free_value.size
    sigma = 1.0 / np.sqrt(np.maximum(_q_asimov(problem, np.ones(n_rows)), 1e-6))  # internal mu = 1
    factors = band_factors(level)
    expected = sigma[None, :] * factors[:, None]
    observed = expected[2] + np.maximum(problem.free_poi, 0.0)
    return np.log(np.maximum(np.vstack([observed[None, :], expected]), 1e-3))


def _limits_of_rows(rows: _Rows, theta0: np.ndarray, *, level: float, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Internal-unit limits (6, N) (observed, then the bands) and convergence (N,) of some rows."""
    problem = _limit_problem(rows, theta0)
    log_level = float(np.log(level))
    x0 = _initial_guesses(problem, level)
    roots, found = _decreasing_root(
        lambda x, active: _log_cls_minus_level(problem, x, active, log_level), x0, xtol=rtol
    )
    return np.exp(roots), (found & problem.converged).all(axis=0) & problem.base_converged


def upper_limits(batch: WindowBatch, *, level: float, rtol: float = 1e-5, chunk_size: int = 4096) -> BatchLimits:
    """CLs upper limits with qtilde for every hypothesis and dataset (asymptotic, CCGV).

    Per tested mu, q_mu,A comes from the conditional fit to the Asimov dataset of the
    background-only fit to the data, exactly as pyhf's ``hypotest``; the limits are the roots
    of log CLs(mu) = log(level): observed, and expected for N = -2 .. 2 (Phi(N - sqrt(q_mu,A)) /
    Phi(N) = level, i.e. CCGV eq. 89 mu_N = sigma_A (Phi^-1(1 - level Phi(N)) + N) with sigma_A =
    mu_N / sqrt(q_mu_N,A) at the band's own limit).

    Args:
        batch: models and data.
        level: CLs threshold (0.05 for 95% CL).
        rtol: relative tolerance of every limit.
        chunk_size: fits (dataset x hypothesis) processed together; bounds the memory (each
            tested POI value fits 7 rows per fit: data and Asimov for 6 limits).

    Returns:
        Observed (..., H) and expected (5, ..., H) limits in the POI's units, and a flag that
        every fit and root finding converged.
    """
    rows, scale = _rows(batch)
    theta0 = _to_internal(_initial(batch, scale.size), scale)
    parts = [
        _limits_of_rows(rows.take(slice(i, i + chunk_size)), theta0[i : i + chunk_size], level=level, rtol=rtol)
        for i in range(0, scale.size, chunk_size)
    ]
    limits = np.concatenate([p[0] for p in parts], axis=1) * scale[None, :]
    converged = np.concatenate([p[1] for p in parts])
    if not converged.all():
        log.warning("upper limits: %d of %d did not converge", int((~converged).sum()), converged.size)
    shape = batch.lead_shape + (batch.n_hypotheses,)
    return BatchLimits(limits[0].reshape(shape), limits[1:].reshape((5,) + shape), converged.reshape(shape))

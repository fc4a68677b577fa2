"""The damped Newton minimiser and the public fits: free, fixed POI and the discovery p0.

Levenberg-Marquardt damping, the analytic gradient and Hessian of
:mod:`darkscan.stats.engine.likelihood`, box bounds by an active set and projection; a kinked
(code1 / code0) alpha treats 0 as a breakpoint that a step never crosses.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
from scipy import stats

from darkscan.stats.engine.batch import WindowBatch
from darkscan.stats.engine.likelihood import _derivatives, _Rows, _rows, _sides, _to_external, _to_internal, _value

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# the minimiser
# --------------------------------------------------------------------------------------------


def _choose_pieces(rows: _Rows, theta: np.ndarray, free: np.ndarray):
    """Pieces, value, gradient, Hessian and the kinked alphas held at 0 for this step."""
    piece = _sides(theta, None)
    value, grad, hess = _derivatives(rows, theta, piece)
    on_kink = free & rows.kinked & (theta == 0.0)
    hold = np.zeros_like(on_kink)
    if on_kink.any():
        _, grad_down, _ = _derivatives(rows, theta, _sides(theta, -np.ones_like(theta)), hessian=False)
        go_up = grad < 0
        go_down = ~go_up & (grad_down > 0)
        hold = on_kink & ~go_up & ~go_down
        switch = on_kink & go_down
        if switch.any():
            piece = np.where(switch, -1.0, piece)
            value, grad, hess = _derivatives(rows, theta, piece)
    return piece, value, grad, hess, hold


def _newton_step(grad: np.ndarray, hess: np.ndarray, move: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Damped Newton step (N, P) on the moving parameters: (H + lam (diag H + 1)) step = grad."""
    idx = np.arange(grad.shape[1])
    keep = move[:, :, None] & move[:, None, :]
    matrix = np.where(keep, hess, 0.0)
    diag = np.abs(matrix[:, idx, idx])
    matrix[:, idx, idx] += lam[:, None] * (diag + 1.0) + (~move)
    rhs = np.where(move, grad, 0.0)
    try:
        step = np.linalg.solve(matrix, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        step = np.einsum("npq,nq->np", np.linalg.pinv(matrix), rhs)
    return np.where(np.isfinite(step), step, 0.0)


def _project(rows: _Rows, theta: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """Clip to the bounds, and keep each kinked alpha on its side of 0."""
    out = np.clip(theta, rows.lo, rows.hi)
    out = np.where(rows.kinked & (piece > 0), np.maximum(out, 0.0), out)
    return np.where(rows.kinked & (piece < 0), np.minimum(out, 0.0), out)


def _iterate(rows: _Rows, theta: np.ndarray, lam: np.ndarray, *, tol: float):
    """One damped Newton iteration on all rows: new theta, value, lam and a converged flag."""
    piece, value, grad, hess, hold = _choose_pieces(rows, theta, rows.free)
    at_bound = ((theta <= rows.lo) & (grad > 0)) | ((theta >= rows.hi) & (grad < 0))
    move = rows.free & ~hold & ~at_bound
    step = _newton_step(grad, hess, move, lam)
    decrement = np.sum(np.where(move, grad, 0.0) * step, axis=-1)
    trial = _project(rows, theta - step, piece)
    trial_value = _value(rows, trial)
    accept = np.isfinite(trial_value) & (trial_value <= value) & (decrement >= 0)
    converged = np.isfinite(value) & (decrement >= 0) & (decrement < tol) & (lam < 1.0)
    theta = np.where(accept[:, None], trial, theta)
    value = np.where(accept, trial_value, value)
    lam = np.where(accept, np.maximum(lam * 0.2, 1e-9), lam * 8.0)
    return theta, value, lam, converged, lam > 1e10


def _minimise(rows: _Rows, theta: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100):
    """Minimise -2 ln L over the free parameters of every row, from internal ``theta`` (N, P).

    Returns:
        (-2 ln L (N,), theta (N, P), converged (N,)).
    """
    theta = _project(rows, np.array(theta, dtype=float), _sides(theta, None))
    n_rows = theta.shape[0]
    value = _value(rows, theta)
    lam = np.full(n_rows, 1e-3)
    done = np.zeros(n_rows, dtype=bool)
    given_up = np.zeros(n_rows, dtype=bool)
    work = np.arange(n_rows)
    sub = rows
    for _ in range(max_iter):
        active = ~done[work]
        if not active.any():
            break
        if active.sum() < 0.7 * work.size:
            work, sub = work[active], sub.take(np.flatnonzero(active))
            active = np.ones(work.size, dtype=bool)
        t, v, lm, conv, stuck = _iterate(sub, theta[work], lam[work], tol=tol)
        upd = work[active]
        theta[upd], value[upd], lam[upd] = t[active], v[active], lm[active]
        done[upd] = conv[active]
        given_up[upd] = stuck[active] & ~conv[active]
        done |= given_up
    converged = done & ~given_up
    if not converged.all():
        log.debug("%d of %d fits did not converge in %d iterations", int((~converged).sum()), n_rows, max_iter)
    return value, theta, converged


def _fit(rows: _Rows, theta0: np.ndarray, poi: np.ndarray | None = None):
    """Free fit (``poi`` None) or fit at fixed internal POI values (N,)."""
    theta0 = np.array(theta0, dtype=float, copy=True)
    if poi is not None:
        theta0[:, 0] = poi
        rows = dataclasses.replace(rows, free=rows.free & (np.arange(theta0.shape[1]) > 0))
    start = _value(rows, theta0)
    if not np.all(np.isfinite(start)):  # a warm start outside the support: restart the nuisances
        bad = ~np.isfinite(start)
        theta0[bad, 1:] = np.where(rows.constrained[bad, 1:] > 0, 0.0, 1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _minimise(rows, theta0)


# --------------------------------------------------------------------------------------------
# public fits
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Fitted -2 ln L (pyhf's ``twice_nll``), parameters (..., H, P) and convergence (..., H)."""

    twice_nll: np.ndarray
    parameters: np.ndarray
    converged: np.ndarray

    @property
    def poi(self) -> np.ndarray:
        """Fitted (or fixed) POI values (..., H)."""
        return self.parameters[..., 0]


def _shape_back(batch: WindowBatch, value: np.ndarray, theta: np.ndarray, conv: np.ndarray) -> FitResult:
    shape = batch.lead_shape + (batch.n_hypotheses,)
    return FitResult(value.reshape(shape), theta.reshape(shape + (theta.shape[-1],)), conv.reshape(shape))


def _initial(batch: WindowBatch, n_rows: int) -> np.ndarray:
    return np.tile(batch.init, (n_rows // batch.n_hypotheses, 1))


def fit_free(batch: WindowBatch, *, only: np.ndarray | None = None) -> FitResult:
    """Maximum-likelihood fit of every hypothesis and dataset (pyhf ``mle.fit``; mu within its bounds).

    Args:
        batch: models and data.
        only: fit only where True (..., H) (the same fits as of the whole batch); elsewhere
            -2 ln L is NaN and the parameters are the inits.

    Returns:
        -2 ln L at the minimum, fitted parameters (POI in the spec's units) and convergence.
    """
    rows, scale = _rows(batch)
    theta = _to_internal(_initial(batch, scale.size), scale)
    value, conv = np.full(scale.size, np.nan), np.ones(scale.size, dtype=bool)
    chosen = (
        np.arange(scale.size)
        if only is None
        else np.flatnonzero(np.broadcast_to(only, batch.lead_shape + (batch.n_hypotheses,)))
    )
    if chosen.size:
        value[chosen], theta[chosen], conv[chosen] = _fit(rows.take(chosen), theta[chosen])
    return _shape_back(batch, value, _to_external(theta, scale), conv)


def poi_slope(batch: WindowBatch, parameters: np.ndarray) -> np.ndarray:
    """d(-2 ln L)/d(POI) (..., H) at ``parameters`` (..., H, P), in the POI's units.

    At a conditional fit this is the slope of the profile likelihood (the nuisances sit at their
    minimum): positive where the free maximum-likelihood POI lies below the fixed one.
    """
    rows, scale = _rows(batch)
    theta = _to_internal(np.reshape(parameters, (scale.size, -1)), scale)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _, grad, _ = _derivatives(rows, theta, hessian=False)
    return (grad[:, 0] / scale).reshape(batch.lead_shape + (batch.n_hypotheses,))


def fit_fixed_poi(batch: WindowBatch, mu: float | np.ndarray) -> FitResult:
    """Fit with the POI fixed at ``mu`` (pyhf ``mle.fixed_poi_fit``).

    Args:
        batch: models and data.
        mu: POI value(s), broadcastable to (..., H).

    Returns:
        -2 ln L at the conditional minimum, fitted parameters and convergence.
    """
    rows, scale = _rows(batch)
    mu = np.broadcast_to(np.asarray(mu, dtype=float), batch.lead_shape + (batch.n_hypotheses,)).reshape(-1)
    value, theta, conv = _fit(rows, _to_internal(_initial(batch, scale.size), scale), poi=mu / scale)
    return _shape_back(batch, value, _to_external(theta, scale), conv)


def discovery_p0(batch: WindowBatch) -> tuple[np.ndarray, np.ndarray]:
    """Local p0 and significance Z of the background-only hypothesis (pyhf ``hypotest(0, test_stat="q0")``).

    q0 = -2 ln(L(0, theta_hat_hat) / L(mu_hat, theta_hat)) for mu_hat > 0 and 0 otherwise (CCGV
    eq. 12); p0 = 1 - Phi(sqrt(q0)) (CCGV eq. 53), capped at 0.5 and floored at 1e-300.

    Returns:
        (p0, Z), each (..., H).
    """
    p0, z, _ = _discovery(batch)
    return p0, z


def _discovery(batch: WindowBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, scale = _rows(batch)
    theta0 = _to_internal(_initial(batch, scale.size), scale)
    free_value, free_theta, free_conv = _fit(rows, theta0)
    bkg_value, _, bkg_conv = _fit(rows, free_theta, poi=np.zeros(scale.size))
    q0 = np.where(free_theta[:, 0] > 0, np.maximum(bkg_value - free_value, 0.0), 0.0)
    p0 = np.clip(stats.norm.sf(np.sqrt(q0)), 1e-300, 0.5)
    shape = batch.lead_shape + (batch.n_hypotheses,)
    converged = free_conv & bkg_conv
    if not converged.all():
        log.warning("discovery p0: %d of %d fits did not converge", int((~converged).sum()), converged.size)
    return p0.reshape(shape), stats.norm.isf(p0).reshape(shape), converged.reshape(shape)

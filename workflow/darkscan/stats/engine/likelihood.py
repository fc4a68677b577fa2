"""-2 ln L of the batch, its gradient and Hessian, on flat rows of independent fits.

A :class:`_Rows` holds one row per (dataset, hypothesis) fit with the POI rescaled to O(1)
(:func:`_rows`); the interpolation of normsys (code4 / code1) and histosys (code4p / code0)
modifiers and the likelihood with pyhf's constants are those described in
:mod:`darkscan.stats.engine`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special

from darkscan.stats.engine.batch import WindowBatch

LOG_2PI = float(np.log(2.0 * np.pi))


# --------------------------------------------------------------------------------------------
# flat rows: one row per (dataset, hypothesis) fit, POI in units of the hypothesis' scale
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Rows:
    """Model and data of N independent fits, POI rescaled to O(1)."""

    nominal: np.ndarray  # (N, S, B)
    up: np.ndarray  # (N, S, Ph, B) histosys hi - nom, for the Ph histosys columns
    down: np.ndarray  # (N, S, Ph, B) histosys nom - lo
    log_hi: np.ndarray  # (N, S, Pn), for the Pn normsys columns
    log_lo: np.ndarray  # (N, S, Pn)
    poly: np.ndarray  # (N, S, Pn, 6)
    factor: np.ndarray  # (N, S, P)
    no_factor: np.ndarray  # (N, S): 1 for samples without normfactor
    mask: np.ndarray  # (N, B) float
    constrained: np.ndarray  # (N, P) float
    kinked: np.ndarray  # (N, P) bool
    free: np.ndarray  # (N, P) bool (present and not fixed)
    lo: np.ndarray  # (N, P)
    hi: np.ndarray  # (N, P)
    n: np.ndarray  # (N, B)
    aux: np.ndarray  # (N, P)
    const: np.ndarray  # (N,)
    normsys_code: str = "code4"
    histosys_code: str = "code4p"
    normsys_cols: tuple[int, ...] = ()
    histosys_cols: tuple[int, ...] = ()

    def _arrays(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if not f.name.endswith(("_code", "_cols"))]

    def take(self, idx: np.ndarray) -> _Rows:
        """The rows ``idx``."""
        return dataclasses.replace(self, **{name: getattr(self, name)[idx] for name in self._arrays()})

    def concat(self, other: _Rows) -> _Rows:
        """These rows followed by ``other`` (same interpolation codes)."""
        joined = {name: np.concatenate([getattr(self, name), getattr(other, name)]) for name in self._arrays()}
        return dataclasses.replace(self, **joined)

    def with_observations(self, n: np.ndarray, aux: np.ndarray) -> _Rows:
        """The same models with other counts and auxiliary data."""
        return dataclasses.replace(self, n=n, aux=aux, const=_constant(n, self.mask, self.constrained))


def _constant(n: np.ndarray, mask: np.ndarray, constrained: np.ndarray) -> np.ndarray:
    """The parameter-independent part of pyhf's -2 ln L (Poisson saturated terms, log 2 pi)."""
    poisson = 2.0 * (n - special.xlogy(n, n) + special.gammaln(n + 1.0))
    return (poisson * mask).sum(-1) + LOG_2PI * constrained.sum(-1)


def _rows(batch: WindowBatch) -> tuple[_Rows, np.ndarray]:
    """Flatten the batch to rows (dataset-major) and the POI scale of each row."""
    n_h = batch.n_hypotheses
    lead = int(np.prod(batch.lead_shape, dtype=int))
    hyp = np.tile(np.arange(n_h), lead)
    scale = batch.poi_scale
    # the POI normfactor multiplies a sample's (nominal + histosys); carry its scale there
    sample_scale = np.where(batch.normfactor[:, :, 0] > 0, scale[:, None], 1.0)
    lo, hi = batch.bounds[..., 0].copy(), batch.bounds[..., 1].copy()
    lo[:, 0] /= scale
    hi[:, 0] /= scale
    mask = batch.bin_mask.astype(float)
    constrained = (batch.constrained & batch.present).astype(float)
    n = batch.data.reshape(-1, batch.data.shape[-1])
    # only the columns that are some normsys / histosys (the others have no effect there)
    ns = np.flatnonzero(((batch.log_hi != 0) | (batch.log_lo != 0)).any(axis=(0, 1)))
    hs = np.flatnonzero(((batch.histo_up != 0) | (batch.histo_down != 0)).any(axis=(0, 1, 3)))
    rows = _Rows(
        nominal=(batch.nominal * sample_scale[:, :, None])[hyp],
        up=(batch.histo_up[:, :, hs] * sample_scale[:, :, None, None])[hyp],
        down=(batch.histo_down[:, :, hs] * sample_scale[:, :, None, None])[hyp],
        log_hi=batch.log_hi[:, :, ns][hyp],
        log_lo=batch.log_lo[:, :, ns][hyp],
        poly=batch.poly[:, :, ns][hyp],
        factor=batch.normfactor[hyp],
        no_factor=(1.0 - batch.normfactor.sum(-1))[hyp],
        mask=mask[hyp],
        constrained=constrained[hyp],
        kinked=batch.kinked[hyp],
        free=(batch.present & ~batch.fixed)[hyp],
        lo=lo[hyp],
        hi=hi[hyp],
        n=n,
        aux=batch.aux.reshape(-1, batch.aux.shape[-1]),
        const=_constant(n, mask[hyp], constrained[hyp]),
        normsys_code=batch.normsys_code,
        histosys_code=batch.histosys_code,
        normsys_cols=tuple(int(i) for i in ns),
        histosys_cols=tuple(int(i) for i in hs),
    )
    return rows, scale[hyp]


def _to_internal(theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out = np.array(theta, dtype=float, copy=True)
    out[:, 0] /= scale
    return out


def _to_external(theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out = np.array(theta, dtype=float, copy=True)
    out[:, 0] *= scale
    return out


# --------------------------------------------------------------------------------------------
# interpolation, likelihood, gradient and Hessian
# --------------------------------------------------------------------------------------------


def _sides(theta: np.ndarray, piece: np.ndarray | None) -> np.ndarray:
    """+1 / -1 per parameter: the sign of theta, at 0 the requested ``piece`` (default +1)."""
    at_zero = np.ones_like(theta) if piece is None else piece
    return np.where(theta > 0, 1.0, np.where(theta < 0, -1.0, at_zero))


def _normsys(rows: _Rows, alpha: np.ndarray, side: np.ndarray, *, derivatives: bool):
    """Normsys factors F (N, S, Pn) and, with ``derivatives``, d log F / da and d2 log F / da2."""
    a = alpha[:, None, :]
    slope = np.where(side[:, None, :] > 0, rows.log_hi, rows.log_lo)
    outer = np.exp(a * slope)
    if rows.normsys_code == "code1":
        return outer, slope, np.zeros_like(slope)
    c = [rows.poly[..., k] for k in range(6)]
    inner = np.abs(a) < 1.0
    f_in = 1.0 + a * (c[0] + a * (c[1] + a * (c[2] + a * (c[3] + a * (c[4] + a * c[5])))))  # Horner
    factor = np.where(inner, f_in, outer)
    if not derivatives:
        return factor, None, None
    d1 = c[0] + a * (2 * c[1] + a * (3 * c[2] + a * (4 * c[3] + a * (5 * c[4] + a * 6 * c[5]))))
    d2 = 2 * c[1] + a * (6 * c[2] + a * (12 * c[3] + a * (20 * c[4] + a * 30 * c[5])))
    f_safe = np.where(inner, f_in, 1.0)
    l_in = d1 / f_safe
    return factor, np.where(inner, l_in, slope), np.where(inner, d2 / f_safe - l_in**2, 0.0)


def _histosys(rows: _Rows, alpha: np.ndarray, side: np.ndarray, *, derivatives: bool):
    """Histosys shifts (N, S, Ph, B) and, with ``derivatives``, their first and second derivatives."""
    a = alpha[:, None, :, None]
    edge = np.where(side[:, None, :, None] > 0, rows.up, rows.down)
    if rows.histosys_code == "code0":
        return a * edge, edge, np.zeros_like(edge)
    sym, asym = 0.5 * (rows.up + rows.down), 0.0625 * (rows.up - rows.down)
    a2 = a * a
    inner = np.abs(a) <= 1.0
    shift = np.where(inner, a * sym + a2 * (15.0 + a2 * (3.0 * a2 - 10.0)) * asym, a * edge)
    if not derivatives:
        return shift, None, None
    d1 = np.where(inner, sym + asym * a * (30.0 + a2 * (18.0 * a2 - 40.0)), edge)
    d2 = np.where(inner, asym * (30.0 + a2 * (90.0 * a2 - 120.0)), 0.0)
    return shift, d1, d2


@dataclasses.dataclass(frozen=True)
class _Terms:
    """Per-sample pieces of nu_b = sum_s A_s N'_sb E_s and their derivatives (all P columns)."""

    shifted: np.ndarray  # N' = nominal + histosys shifts (N, S, B)
    dshift: np.ndarray | None  # dN'/dalpha_p (N, S, P, B)
    d2shift: np.ndarray | None  # d2N'/dalpha_p2 (N, S, P, B)
    expo: np.ndarray  # E = prod normsys factors (N, S)
    dlog: np.ndarray | None  # dlog E / dalpha_p (N, S, P)
    d2log: np.ndarray | None  # d2 log E / dalpha_p2 (N, S, P)
    norm: np.ndarray  # A = normfactor (N, S)
    nu: np.ndarray  # (N, B)


def _scatter(part: np.ndarray | None, cols: tuple[int, ...], n_p: int, axis: int) -> np.ndarray | None:
    """Place the columns of a normsys/histosys subset into all P parameter columns (zeros elsewhere)."""
    if part is None:
        return None
    shape = list(part.shape)
    shape[axis] = n_p
    full = np.zeros(shape)
    index = [slice(None)] * len(shape)
    index[axis] = list(cols)
    full[tuple(index)] = part
    return full


def _terms(rows: _Rows, theta: np.ndarray, piece: np.ndarray | None = None, *, derivatives: bool = True) -> _Terms:
    side = _sides(theta, piece)
    n, s, b = rows.nominal.shape
    n_p = theta.shape[1]
    shifted, expo = rows.nominal, np.ones((n, s))
    dshift = d2shift = dlog = d2log = None
    if rows.histosys_cols:
        cols = list(rows.histosys_cols)
        shift, d1, d2 = _histosys(rows, theta[:, cols], side[:, cols], derivatives=derivatives)
        shifted = shifted + shift.sum(axis=2)
        dshift, d2shift = _scatter(d1, rows.histosys_cols, n_p, 2), _scatter(d2, rows.histosys_cols, n_p, 2)
    if rows.normsys_cols:
        cols = list(rows.normsys_cols)
        factor, d1, d2 = _normsys(rows, theta[:, cols], side[:, cols], derivatives=derivatives)
        expo = np.prod(factor, axis=-1)
        dlog, d2log = _scatter(d1, rows.normsys_cols, n_p, 2), _scatter(d2, rows.normsys_cols, n_p, 2)
    if derivatives:
        dshift = np.zeros((n, s, n_p, b)) if dshift is None else dshift
        d2shift = np.zeros((n, s, n_p, b)) if d2shift is None else d2shift
        dlog = np.zeros((n, s, n_p)) if dlog is None else dlog
        d2log = np.zeros((n, s, n_p)) if d2log is None else d2log
    norm = np.einsum("np,nsp->ns", theta, rows.factor) + rows.no_factor
    nu = np.einsum("ns,nsb->nb", norm * expo, shifted) * rows.mask
    return _Terms(shifted, dshift, d2shift, expo, dlog, d2log, norm, nu)


def _expected_counts(rows: _Rows, theta: np.ndarray) -> np.ndarray:
    """Expected counts (N, B) at internal parameters ``theta`` (pyhf's ``expected_actualdata``)."""
    return _terms(rows, theta, derivatives=False).nu


def _twice_nll(rows: _Rows, nu: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """-2 ln L (N,) from expected counts, with pyhf's constants.

    As in pyhf (``xlogy(n, nu) - nu - lgamma(n + 1)``), an empty bin contributes 2 nu even where
    the histosys extrapolation makes nu negative; a bin with counts and nu <= 0 is excluded (inf).
    """
    n, mask = rows.n, rows.mask > 0
    bad = mask & (nu <= 0) & (n > 0)
    safe = np.where(nu > 0, nu, 1.0)
    ratio = np.where(n > 0, safe / np.where(n > 0, n, 1.0), 1.0)
    deviance = np.where(mask, 2.0 * (nu - n - special.xlogy(n, ratio)), 0.0)
    constraint = rows.constrained * (theta - rows.aux) ** 2
    value = deviance.sum(-1) + constraint.sum(-1) + rows.const
    return np.where(bad.any(-1), np.inf, value)


def _value(rows: _Rows, theta: np.ndarray) -> np.ndarray:
    """-2 ln L (N,) at internal parameters."""
    return _twice_nll(rows, _expected_counts(rows, theta), theta)


def _derivatives(rows: _Rows, theta: np.ndarray, piece: np.ndarray | None = None, *, hessian: bool = True):
    """-2 ln L, its gradient (N, P) and Hessian (N, P, P) (kinks at 0 taken on side ``piece``).

    With T_sb = A_s N'_sb E_s, a_p the normfactor indicator, h = dN'/dalpha, k = d2N'/dalpha2,
    l = dlog E/dalpha, m = d2log E/dalpha2: dT/dtheta_p = E G_p with G_p = a_p N' + A h_p +
    A N' l_p, and d2T/dtheta_p dtheta_q = E (a_p h_q + a_q h_p + G_p l_q + G_q l_p - A N' l_p l_q
    + delta_pq A (k_p + N' m_p)); the bins are summed before the outer products.
    """
    t = _terms(rows, theta, piece)
    value = _twice_nll(rows, t.nu, theta)
    safe = np.where(t.nu > 0, t.nu, 1.0)
    r = rows.mask * (1.0 - rows.n / safe)
    a_n = t.norm[:, :, None] * t.shifted  # A N' (N, S, B)
    gterm = (
        rows.factor[..., None] * t.shifted[:, :, None, :]
        + t.norm[:, :, None, None] * t.dshift
        + a_n[:, :, None, :] * t.dlog[..., None]
    )
    d = np.einsum("ns,nspb->npb", t.expo, gterm)
    grad = 2.0 * np.einsum("nb,npb->np", r, d) + 2.0 * rows.constrained * (theta - rows.aux)
    if not hessian:
        return value, grad, None
    w = rows.mask * rows.n / safe**2
    hess = 2.0 * np.matmul(d * w[:, None, :], d.transpose(0, 2, 1))
    u = np.einsum("nb,nspb->nsp", r, t.dshift)
    v = np.einsum("nb,nspb->nsp", r, gterm)
    wsum = np.einsum("nb,nsb->ns", r, a_n)
    x = rows.factor[..., :, None] * u[..., None, :] + v[..., :, None] * t.dlog[..., None, :]
    x = x + x.transpose(0, 1, 3, 2) - wsum[..., None, None] * t.dlog[..., :, None] * t.dlog[..., None, :]
    hess += 2.0 * np.einsum("ns,nspq->npq", t.expo, x)
    diag = np.einsum("nb,nspb->nsp", r, t.d2shift) * t.norm[..., None] + wsum[..., None] * t.d2log
    idx = np.arange(theta.shape[1])
    hess[:, idx, idx] += 2.0 * np.einsum("ns,nsp->np", t.expo, diag) + 2.0 * rows.constrained
    return value, grad, hess

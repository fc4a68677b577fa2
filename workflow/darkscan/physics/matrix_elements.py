"""Tree-level squared matrix elements for e+ e- -> mu- mu+ (V), computed numerically.

Amplitudes are evaluated with explicit Dirac matrices (Dirac representation) and explicit
spinors for every spin state, vectorised over events, and squared and summed over spins
numerically; no trace algebra is done by hand, so electron and muon masses are kept exactly.

Momentum labels: e-(p1) e+(p2) -> mu-(p3) mu+(p4) V(k), V a vector boson of mass M >= 0
with vector couplings ``g`` to muons and ``g_e`` to electrons (same sign convention as the
electric charge: for a photon ``g = g_e = e``). Diagrams: s-channel photon with V radiated
from the muon line (FSR, two diagrams) and, optionally, from the electron line (ISR, two
diagrams); amplitudes are added before squaring, so ISR-FSR interference is included.

The V polarisation sum is -g_{rho sigma}: the k_rho k_sigma / M^2 term does not contribute
because each fermion line with on-shell external spinors is a conserved current for a
vector coupling, k_rho M^rho = 0 for the FSR and ISR pairs separately (Ward identity).
The tests check this numerically.
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import METRIC, mdot

_CHUNK = 8192

_S0 = np.eye(2, dtype=complex)
_SIGMA = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)
#: gamma^mu in the Dirac representation, shape (4, 4, 4): index mu, then spinor indices.
GAMMA = np.zeros((4, 4, 4), dtype=complex)
GAMMA[0, :2, :2] = _S0
GAMMA[0, 2:, 2:] = -_S0
for _i in range(3):
    GAMMA[_i + 1, :2, 2:] = _SIGMA[_i]
    GAMMA[_i + 1, 2:, :2] = -_SIGMA[_i]
# Row vector times gamma^mu for all mu at once: a @ _ROW -> (..., 4 mu * 4 spinor).
_ROW = np.concatenate(list(GAMMA), axis=1)
# gamma^mu times a column vector b for all mu: b @ _COL -> (..., 4 mu * 4 spinor).
_COL = np.concatenate([g.T for g in GAMMA], axis=1)
_GAMMA0_DIAG = np.array([1.0, 1.0, -1.0, -1.0])


def slash(p: np.ndarray) -> np.ndarray:
    """p-slash = gamma^mu p_mu for (N, 4) momenta, returns (N, 4, 4) complex."""
    return np.tensordot(np.asarray(p, float) * METRIC, GAMMA, axes=([1], [0]))


def _sigma_dot(p3: np.ndarray) -> np.ndarray:
    """sigma . p for (N, 3) momenta, (N, 2, 2) complex."""
    return np.tensordot(p3, _SIGMA, axes=([1], [0]))


def spinors_u(p: np.ndarray, m: float) -> np.ndarray:
    """Dirac spinors u(p, s) for both spin states, shape (N, 2, 4) (spin, component).

    u = (sqrt(E+m) chi, sigma.p chi / sqrt(E+m)); sum_s u ubar = pslash + m.
    """
    root = np.sqrt(p[:, 0] + m)
    out = np.zeros((len(p), 2, 4), dtype=complex)
    out[:, 0, 0] = root
    out[:, 1, 1] = root
    sp = _sigma_dot(p[:, 1:]) / root[:, None, None]  # (N, 2, 2); columns are sigma.p chi_s
    out[:, :, 2:] = np.swapaxes(sp, 1, 2)
    return out


def spinors_v(p: np.ndarray, m: float) -> np.ndarray:
    """Dirac spinors v(p, s) for both spin states, shape (N, 2, 4); sum_s v vbar = pslash - m."""
    root = np.sqrt(p[:, 0] + m)
    out = np.zeros((len(p), 2, 4), dtype=complex)
    out[:, 0, 2] = root
    out[:, 1, 3] = root
    sp = _sigma_dot(p[:, 1:]) / root[:, None, None]
    out[:, :, :2] = np.swapaxes(sp, 1, 2)
    return out


def bar(spinor: np.ndarray) -> np.ndarray:
    """Dirac adjoint psi^dagger gamma^0 (row spinors), same shape."""
    return np.conj(spinor) * _GAMMA0_DIAG


def _propagator(q: np.ndarray, m: float) -> np.ndarray:
    """Fermion propagator numerator over denominator, (qslash + m)/(q^2 - m^2), (N, 4, 4)."""
    den = mdot(q, q) - m * m
    s = slash(q)
    s[:, [0, 1, 2, 3], [0, 1, 2, 3]] += m
    return s / den[:, None, None]


def _gamma_products(row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """row gamma^mu, shape (N, 2 spins, 4 mu, 4), and gamma^mu col, same shape."""
    n = len(row)
    return (row @ _ROW).reshape(n, 2, 4, 4), (col @ _COL).reshape(n, 2, 4, 4)


def _current(r: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Current row gamma^mu col, (N, 4 spin pairs = 2 s_row + s_col, 4 mu)."""
    n = len(r)
    cur = r.reshape(n, 8, 4) @ np.swapaxes(col, 1, 2)  # [(s_row, mu), s_col]
    return cur.reshape(n, 2, 4, 2).transpose(0, 1, 3, 2).reshape(n, 4, 4)


def _emission(r: np.ndarray, c: np.ndarray, prop_a: np.ndarray, prop_b: np.ndarray, jext: np.ndarray) -> np.ndarray:
    """Emission of V(rho) from a fermion line attached to an external current by a photon.

    Computes A^rho[p, (s, t)] = sum_mu jext_mu[p] (row_s gamma^rho S_a gamma^mu col_t
    + row_s gamma^mu S_b gamma^rho col_t) by contracting the external current first.

    Args:
        r: (N, 2, 4, 4) row gamma^mu (from :func:`_gamma_products`).
        c: (N, 2, 4, 4) gamma^mu col.
        prop_a: (N, 4, 4) propagator next to the row spinor.
        prop_b: (N, 4, 4) propagator next to the column spinor.
        jext: (N, 4 pairs, 4 mu) external current with lower index.

    Returns:
        (N, 4 external pairs, 4 line pairs, 4 rho) complex.
    """
    n = len(r)
    c_ext = (jext @ c.transpose(0, 2, 1, 3).reshape(n, 4, 8)).reshape(n, 8, 4)  # [(p, t), b]
    r_ext = (jext @ r.transpose(0, 2, 1, 3).reshape(n, 4, 8)).reshape(n, 8, 4)  # [(p, s), a]
    term1 = ((r.reshape(n, 8, 4) @ prop_a) @ np.swapaxes(c_ext, 1, 2)).reshape(n, 2, 4, 4, 2)  # [s, rho, p, t]
    term2 = (r_ext @ (prop_b @ np.swapaxes(c.reshape(n, 8, 4), 1, 2))).reshape(n, 4, 2, 2, 4)  # [p, s, t, rho]
    return (term1.transpose(0, 3, 1, 4, 2) + term2).reshape(n, 4, 4, 4)


def _me2_chunk(p1, p2, p3, p4, k, g_fsr, g_isr, m_e, m_mu):
    e2 = 4.0 * np.pi * ALPHA_EM
    ebar, eu = bar(spinors_v(p2, m_e)), spinors_u(p1, m_e)
    mbar, mv = bar(spinors_u(p3, m_mu)), spinors_v(p4, m_mu)
    r_e, c_e = _gamma_products(ebar, eu)
    r_m, c_m = _gamma_products(mbar, mv)
    amp = 0.0
    if g_fsr != 0.0:
        j_e = _current(r_e, eu) * METRIC  # lower index mu
        s = mdot(p1 + p2, p1 + p2)
        a = _emission(r_m, c_m, _propagator(p3 + k, m_mu), _propagator(-p4 - k, m_mu), j_e)  # [e, mu pair, rho]
        amp = amp + (g_fsr * e2 / s)[:, None, None, None] * a
    if g_isr != 0.0:
        q = p3 + p4
        j_mu = _current(r_m, mv) * METRIC
        a = _emission(r_e, c_e, _propagator(k - p2, m_e), _propagator(p1 - k, m_e), j_mu)  # [mu pair, e, rho]
        amp = amp + (g_isr * e2 / mdot(q, q))[:, None, None, None] * a.transpose(0, 2, 1, 3)
    sq = amp.real**2 + amp.imag**2
    return (sq.reshape(len(p1), 16, 4) @ -METRIC).sum(axis=1) / 4.0


def me2_mumu_v(
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    p4: np.ndarray,
    k: np.ndarray,
    *,
    g: float,
    g_e: float = 0.0,
    fsr: bool = True,
    isr: bool = False,
    m_e: float = ELECTRON_MASS,
    m_mu: float = MUON_MASS,
) -> np.ndarray:
    """Spin-averaged |M|^2 of e-(p1) e+(p2) -> mu-(p3) mu+(p4) V(k) at tree level.

    Args:
        p1, p2, p3, p4, k: (N, 4) four-momenta in any common frame; k^2 = M^2 sets the V mass.
        g: V coupling to muons (vector, charge-like sign convention; e for a photon).
        g_e: V coupling to electrons (used when ``isr``).
        fsr: include emission from the muon line.
        isr: include emission from the electron line.
        m_e: electron mass in GeV.
        m_mu: muon mass in GeV.

    Returns:
        (N,) spin-averaged (1/4 sum over e+- spins), summed over final spins and V
        polarisations, dimensionless |M|^2 (GeV^-2 overall for a 2 -> 3 process).
    """
    g_fsr = float(g) if fsr else 0.0
    g_isr = float(g_e) if isr else 0.0
    n = len(p1)
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        out[sl] = _me2_chunk(p1[sl], p2[sl], p3[sl], p4[sl], k[sl], g_fsr, g_isr, m_e, m_mu)
    return out


def ward_residual(p1, p2, p3, p4, k, *, fsr: bool = True, m_e: float = ELECTRON_MASS, m_mu: float = MUON_MASS) -> np.ndarray:
    """|k_rho A^rho| / max |A^rho| per event for the FSR (or ISR) amplitude: gauge-invariance check."""
    ebar, eu = bar(spinors_v(p2, m_e)), spinors_u(p1, m_e)
    mbar, mv = bar(spinors_u(p3, m_mu)), spinors_v(p4, m_mu)
    r_e, c_e = _gamma_products(ebar, eu)
    r_m, c_m = _gamma_products(mbar, mv)
    if fsr:
        a = _emission(r_m, c_m, _propagator(p3 + k, m_mu), _propagator(-p4 - k, m_mu), _current(r_e, eu) * METRIC)
    else:
        a = _emission(r_e, c_e, _propagator(k - p2, m_e), _propagator(p1 - k, m_e), _current(r_m, mv) * METRIC)
    contracted = a @ (k * METRIC)[:, None, :, None]
    return np.abs(contracted).max(axis=(1, 2, 3)) / np.abs(a).max(axis=(1, 2, 3))


def me2_born(p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, p4: np.ndarray, *, m_e: float = ELECTRON_MASS, m_mu: float = MUON_MASS) -> np.ndarray:
    """Spin-averaged |M|^2 of e-(p1) e+(p2) -> gamma* -> mu-(p3) mu+(p4), numerically (spinors)."""
    e2 = 4.0 * np.pi * ALPHA_EM
    n = len(p1)
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        eu, mv = spinors_u(p1[sl], m_e), spinors_v(p4[sl], m_mu)
        j_e = _current(_gamma_products(bar(spinors_v(p2[sl], m_e)), eu)[0], eu) * METRIC
        j_mu = _current(_gamma_products(bar(spinors_u(p3[sl], m_mu)), mv)[0], mv)
        amp = j_e @ np.swapaxes(j_mu, 1, 2)
        s = mdot(p1[sl] + p2[sl], p1[sl] + p2[sl])
        out[sl] = (e2 / s) ** 2 * np.sum(amp.real**2 + amp.imag**2, axis=(1, 2)) / 4.0
    return out


def me2_born_analytic(p1, p2, p3, p4, *, m_e: float = ELECTRON_MASS, m_mu: float = MUON_MASS) -> np.ndarray:
    """Textbook spin-averaged |M|^2 for e+e- -> mu+mu- with both masses (independent check).

    (1/4) sum |M|^2 = 8 e^4 / s^2 [(p1.p3)(p2.p4) + (p1.p4)(p2.p3) + m_mu^2 p1.p2 + m_e^2 p3.p4
    + 2 m_e^2 m_mu^2].
    """
    e4 = (4.0 * np.pi * ALPHA_EM) ** 2
    s = mdot(p1 + p2, p1 + p2)
    bracket = mdot(p1, p3) * mdot(p2, p4) + mdot(p1, p4) * mdot(p2, p3) + m_mu**2 * mdot(p1, p2) + m_e**2 * mdot(p3, p4) + 2 * m_e**2 * m_mu**2
    return 8.0 * e4 / s**2 * bracket

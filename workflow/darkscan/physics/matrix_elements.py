"""Tree-level squared matrix elements for e+ e- -> mu- mu+ (V), computed numerically.

Amplitudes are evaluated with explicit gamma matrices and explicit spinors for every spin
state, vectorised over events, and squared and summed over spins numerically; no trace algebra
is done by hand, so electron and muon masses are kept exactly. :func:`spinors_u`,
:func:`spinors_v`, :func:`slash` and :func:`me2_born` use the Dirac representation; the
2 -> 3 amplitudes (:func:`me2_mumu_v`) use the chiral representation, in which the same
spinors and gamma matrices are block-structured (see the section comment below).

Momentum labels: e-(p1) e+(p2) -> mu-(p3) mu+(p4) V(k), V a vector boson of mass M >= 0
with vector couplings ``g`` to muons and ``g_e`` to electrons (same sign convention as the
electric charge: for a photon ``g = g_e = e``). Diagrams: s-channel photon with V radiated
from the muon line (FSR, two diagrams) and, optionally, from the electron line (ISR, two
diagrams); amplitudes are added before squaring, so ISR-FSR interference is included.

The V polarisation sum is -g_{rho sigma}: the k_rho k_sigma / M^2 term does not contribute
because each fermion line with on-shell external spinors is a conserved current for a
vector coupling, k_rho M^rho = 0 for the FSR and ISR pairs separately (Ward identity).
The tests check this numerically. For a massless V the sum is taken over the two transverse
polarisations instead (equal to -g by the same identity, and free of the cancellation between
the time and longitudinal components that costs the -g sum up to ~5 digits for collinear
photons), for a massive V directly as -g.
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import METRIC, mdot

_CHUNK = 4096

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


def _gamma_products(row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """row gamma^mu, shape (N, 2 spins, 4 mu, 4), and gamma^mu col, same shape."""
    n = len(row)
    return (row @ _ROW).reshape(n, 2, 4, 4), (col @ _COL).reshape(n, 2, 4, 4)


def _current(r: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Current row gamma^mu col, (N, 4 spin pairs = 2 s_row + s_col, 4 mu)."""
    n = len(r)
    cur = r.reshape(n, 8, 4) @ np.swapaxes(col, 1, 2)  # [(s_row, mu), s_col]
    return cur.reshape(n, 2, 4, 2).transpose(0, 1, 3, 2).reshape(n, 4, 4)


# --- Helicity amplitudes of e+e- -> mu+ mu- V in the chiral (Weyl) representation -------------
#
# The amplitudes are evaluated with events on the last axis, (..., N), and every spinor-index
# contraction written out as a short sum of element-wise numpy products (no batched products of
# tiny matrices). The chiral representation gamma^mu = [[0, sigma^mu], [sigmabar^mu, 0]]
# (sigma^mu = (1, sigma), sigmabar^mu = (1, -sigma)) makes slashed vectors block off-diagonal
# and the propagator mass term block diagonal, so all products are 2x2 blocks on the chiral
# halves of the spinors. Dirac spinors of :func:`spinors_u` / :func:`spinors_v` are mapped to it
# with psi_W = U psi_D, U = [[1, -1], [1, 1]] / sqrt(2) (rows: psi_bar_W = psi_bar_D U^dagger,
# the same combination); bilinears psi_bar Gamma chi, hence the amplitudes, are unchanged.

_SQRT_HALF = np.sqrt(0.5)


def _chiral_spinors(p: np.ndarray, m: float, antiparticle: bool) -> np.ndarray:
    """u(p, s) (or v(p, s)) of :func:`spinors_u` (:func:`spinors_v`) in the chiral representation.

    Same spin states as the Dirac-representation functions, computed directly with events last:
    the Dirac halves are sqrt(E+m) chi_s and sigma.p chi_s / sqrt(E+m) (swapped for v), mapped by U.

    Args:
        p: (N, 4) momenta; m: mass.
        antiparticle: False for u, True for v.

    Returns:
        (4, 2 s, N) complex column spinors.
    """
    e, px, py, pz = p.T
    root = np.sqrt(e + m)
    inv = 1.0 / root
    sp = np.empty((2, 2, len(p)), dtype=complex)  # sigma.p chi_s / root: [component, s]
    sp[0, 0] = pz * inv
    sp[1, 0] = (px + 1j * py) * inv
    sp[0, 1] = (px - 1j * py) * inv
    sp[1, 1] = -sp[0, 0]
    chi = np.zeros_like(sp)
    chi[0, 0] = chi[1, 1] = root
    top, bottom = (sp, chi) if antiparticle else (chi, sp)
    return np.concatenate([top - bottom, top + bottom]) * _SQRT_HALF


def _chiral_bar(col: np.ndarray) -> np.ndarray:
    """Dirac adjoint psi^dagger gamma^0 of chiral column spinors (gamma^0 swaps the halves)."""
    return np.conj(np.concatenate([col[2:], col[:2]]))


def _line_spinors(p1, p2, p3, p4, m_e, m_mu):
    """(vbar(p2), u(p1), ubar(p3), v(p4)) in the chiral representation, (4, 2 spins, N) each.

    Fixed beams (p1 and p2 the same for every event, as from a generator) give the electron
    spinors with N = 1, which the amplitude code uses for matrix products with constant matrices.
    """
    if len(p1) > 1 and _is_fixed(p1) and _is_fixed(p2):
        p1, p2 = p1[:1], p2[:1]
    return (
        _chiral_bar(_chiral_spinors(p2, m_e, True)),
        _chiral_spinors(p1, m_e, False),
        _chiral_bar(_chiral_spinors(p3, m_mu, False)),
        _chiral_spinors(p4, m_mu, True),
    )


def _is_fixed(p: np.ndarray) -> bool:
    """True if every row of ``p`` (N, 4) equals the first."""
    return bool(np.all(p == p[0]))


def _slash_blocks(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of vslash = [[0, v.sigma], [v.sigmabar, 0]] for upper-index vectors v (4, *B).

    v.sigma = v_mu sigma^mu = [[v0 - v3, -(v1 - i v2)], [-(v1 + i v2), v0 + v3]] and
    v.sigmabar = [[v0 + v3, v1 - i v2], [v1 + i v2, v0 - v3]]. Returns both, each (2, 2, *B);
    complex v (currents) allowed.
    """
    minus, plus = v[0] - v[3], v[0] + v[3]
    lower, upper = v[1] - 1j * v[2], v[1] + 1j * v[2]
    vs = np.stack([minus, -lower, -upper, plus]).reshape((2, 2) + v.shape[1:])
    vsb = np.stack([plus, lower, upper, minus]).reshape((2, 2) + v.shape[1:])
    return vs, vsb


def _mat_vec(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    """2x2 block times 2-component column: m (2, 2, ...), x (2, ...) -> (2, ...) (broadcast)."""
    out = m[:, 0] * x[0]
    out += m[:, 1] * x[1]
    return out


def _vec_mat(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """2-component row times 2x2 block: x (2, ...), m (2, 2, ...) -> (2, ...) (broadcast)."""
    out = x[0] * m[0]
    out += x[1] * m[1]
    return out


def _slash_col(blocks, col: np.ndarray) -> np.ndarray:
    """vslash psi for a column psi = (x, y) (4, ...): (v.sigma y, v.sigmabar x)."""
    vs, vsb = blocks
    return np.concatenate([_mat_vec(vs, col[2:]), _mat_vec(vsb, col[:2])])


def _row_slash(row: np.ndarray, blocks) -> np.ndarray:
    """psibar vslash for a row psibar = (a, b) (4, ...): (b v.sigmabar, a v.sigma)."""
    vs, vsb = blocks
    return np.concatenate([_vec_mat(row[2:], vsb), _vec_mat(row[:2], vs)])


class _Propagator:
    """Fermion propagator times a factor, c S = c (qslash + m) / (q^2 - m^2), for q (N, 4), events last.

    The coupling factor c of the diagram is folded in here: every diagram has one propagator.
    """

    def __init__(self, q: np.ndarray, m: float, factor: np.ndarray | float = 1.0):
        scale = (factor / (mdot(q, q) - m * m)).astype(complex)  # complex: complex x real products are slower
        self.m_scale = m * scale
        self.qs, self.qsb = (blk * scale for blk in _slash_blocks(np.ascontiguousarray(q.T)))

    def _blocks(self, ndim: int) -> tuple[np.ndarray, np.ndarray]:
        """The q.sigma, q.sigmabar blocks reshaped to broadcast against (4, ..., N) spinors of ``ndim`` axes."""
        shape = (2, 2) + (1,) * (ndim - 2) + self.m_scale.shape
        return self.qs.reshape(shape), self.qsb.reshape(shape)

    def col(self, col: np.ndarray) -> np.ndarray:
        """c S psi for columns psi = (x, y) (4, ..., N): c (m x + q.sigma y, q.sigmabar x + m y) / den."""
        qs, qsb = self._blocks(col.ndim)
        x, y = col[:2], col[2:]
        top, bottom = _mat_vec(qs, y), _mat_vec(qsb, x)
        top += self.m_scale * x
        bottom += self.m_scale * y
        return np.concatenate([top, bottom])

    def row(self, row: np.ndarray) -> np.ndarray:
        """c psibar S for rows psibar = (a, b) (4, ..., N): c (m a + b q.sigmabar, a q.sigma + m b) / den."""
        qs, qsb = self._blocks(row.ndim)
        a, b = row[:2], row[2:]
        left, right = _vec_mat(b, qsb), _vec_mat(a, qs)
        left += self.m_scale * a
        right += self.m_scale * b
        return np.concatenate([left, right])


def _bilinear_products(row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Products a_i y_j and b_i x_j, (2, 2, ...) each, of row (a, b) and column (x, y) halves."""
    a, b, x, y = row[:2], row[2:], col[:2], col[2:]
    return a[:, None] * y[None], b[:, None] * x[None]


def _vector_bilinear(ay: np.ndarray, bx: np.ndarray) -> np.ndarray:
    """psibar gamma^mu psi = a sigma^mu y + b sigmabar^mu x (upper index) from :func:`_bilinear_products`.

    Returns (4 mu, ...) complex.
    """
    return np.stack(
        [
            ay[0, 0] + ay[1, 1] + bx[0, 0] + bx[1, 1],
            ay[0, 1] + ay[1, 0] - bx[0, 1] - bx[1, 0],
            1j * (ay[1, 0] - ay[0, 1] - bx[1, 0] + bx[0, 1]),
            ay[0, 0] - ay[1, 1] - bx[0, 0] + bx[1, 1],
        ]
    )


def _chiral_current(row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Vector currents J^mu[s, t] = psibar_s gamma^mu psi_t, upper index.

    row (4, 2 s, N) and col (4, 2 t, N) -> (4 mu, 4 pairs = 2 s + t, N).
    """
    cur = _vector_bilinear(*_bilinear_products(row[:, :, None], col[:, None]))
    return cur.reshape(4, 4, -1)


def _emission_tensor(row, col, prop_row: _Propagator, prop_col: _Propagator, pol_blocks) -> np.ndarray:
    """Emission of V(eps_P) from a fermion line attached to a photon of index mu.

    K^mu[P, s, t] = row_s (epsslash_P S_a gamma^mu + gamma^mu S_b epsslash_P) col_t, evaluated as
    the vector bilinears of (row_s epsslash_P S_a, col_t) and (row_s, S_b epsslash_P col_t); the
    amplitude with an external current J_Q is J_Q . K (:func:`_contract`).

    Args:
        row: (4, 2 s, N) row spinors; col: (4, 2 t, N) column spinors (chiral representation).
            With N = 1 for both (the same spinors for every event: fixed beams) the bilinears
            are matrix products with constant matrices.
        prop_row: S_a, next to the row spinor; prop_col: S_b, next to the column spinor.
        pol_blocks: :func:`_slash_blocks` of the V polarisation vectors, (2, 2, P, N) each.

    Returns:
        (4 mu, P, 4 pairs = 2 s + t, N) complex, upper index mu.
    """
    pe = tuple(blk[:, :, :, None] for blk in pol_blocks)  # (2, 2, P, 1 spin, N)
    row_eps = prop_row.row(_row_slash(row[:, None], pe))  # (4, P, s, N)
    eps_col = prop_col.col(_slash_col(pe, col[:, None]))  # (4, P, t, N)
    if row.shape[-1] == col.shape[-1] == 1:
        return _emission_tensor_fixed(row[..., 0], col[..., 0], row_eps, eps_col)
    ay, bx = _bilinear_products(row_eps[:, :, :, None], col[:, None, None])  # [P, s, t]
    ay2, bx2 = _bilinear_products(row[:, None, :, None], eps_col[:, :, None])
    ay += ay2
    bx += bx2
    k = _vector_bilinear(ay, bx)
    return k.reshape(k.shape[:2] + (4, -1))


#: Blocks of gamma^mu g_{mu mu} = slash(e_mu), e_mu the basis vectors: (2, 2, 4 mu) each.
_BASIS_BLOCKS = _slash_blocks(np.eye(4, dtype=complex))


def _emission_tensor_fixed(row: np.ndarray, col: np.ndarray, row_eps: np.ndarray, eps_col: np.ndarray) -> np.ndarray:
    """:func:`_emission_tensor` for event-independent spinors row (4, 2 s), col (4, 2 t).

    The bilinears are linear in the event-dependent spinors, row_eps gamma^mu col_t =
    sum_i row_eps_i (gamma^mu col_t)_i and row_s gamma^mu eps_col = sum_j (row_s gamma^mu)_j eps_col_j,
    so both are one matrix product with the constant (gamma^mu col_t) and (row_s gamma^mu).
    """
    n_pol, n = row_eps.shape[1], row_eps.shape[-1]
    basis = tuple(blk[..., None] for blk in _BASIS_BLOCKS)  # (2, 2, 4 mu, 1)
    metric = METRIC[:, None]
    gamma_col = _slash_col(basis, col[:, None]) * metric  # (4 i, 4 mu, 2 t)
    row_gamma = _row_slash(row[:, None], basis) * metric  # (4 j, 4 mu, 2 s)
    k1 = (gamma_col.reshape(4, 8).T @ row_eps.reshape(4, -1)).reshape(4, 2, n_pol, 2, n)  # [mu, t, P, s]
    k2 = (row_gamma.reshape(4, 8).T @ eps_col.reshape(4, -1)).reshape(4, 2, n_pol, 2, n)  # [mu, s, P, t]
    k = k1.transpose(0, 2, 3, 1, 4) + k2.transpose(0, 2, 1, 3, 4)  # [mu, P, s, t]
    return k.reshape(4, n_pol, 4, n)


def _contract(current: np.ndarray, tensor: np.ndarray) -> np.ndarray:
    """Amplitudes J_Q,mu K^mu[P, pair] of currents (4 mu, Q, N) (upper index) and an emission tensor.

    A current with N = 1 (the same for every event) is contracted by one matrix product.
    Returns (P, Q, pairs, N) complex.
    """
    lower = current * METRIC[:, None, None]
    if current.shape[-1] == 1 < tensor.shape[-1]:
        n_pol, n_pairs, n = tensor.shape[1:]
        amp = (lower[..., 0].T @ tensor.reshape(4, -1)).reshape(-1, n_pol, n_pairs, n)
        return amp.transpose(1, 0, 2, 3)
    amp = lower[0, None, :, None] * tensor[0, :, None]
    for mu in range(1, 4):
        amp += lower[mu, None, :, None] * tensor[mu, :, None]
    return amp


def _polarisations(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real polarisation vectors (4, P, N) of V(k) and their weights (P,) in sum_P w_P |A(eps_P)|^2.

    A massless V (k^2 = 0 for every event) has the two transverse vectors (0, e_1), (0, e_2),
    e_i orthogonal to the V direction in the frame of ``k``; their sum, -g plus terms along k,
    equals -g in the contraction with the amplitude by current conservation (k_rho A^rho = 0,
    :func:`ward_residual`). Otherwise the -g_{rho sigma} sum is used directly: the basis vectors
    e_sigma with weights -g_{sigma sigma}.
    """
    n = len(k)
    if np.all(np.abs(mdot(k, k)) <= 1e-12 * k[:, 0] ** 2):
        kx, ky, kz = k[:, 1:].T
        rho = np.hypot(kx, ky)
        kabs = np.hypot(rho, kz)
        # Polar unit vectors e_theta, e_phi of the V direction; along the z axis, x and y.
        axis = rho > 1e-9 * kabs
        cos_phi = np.divide(kx, rho, out=np.ones(n), where=axis)
        sin_phi = np.divide(ky, rho, out=np.zeros(n), where=axis)
        cos_theta, sin_theta = kz / kabs, rho / kabs
        eps = np.zeros((4, 2, n))
        eps[1, 0], eps[2, 0], eps[3, 0] = cos_theta * cos_phi, cos_theta * sin_phi, -sin_theta
        eps[1, 1], eps[2, 1] = -sin_phi, cos_phi
        return eps, np.ones(2)
    return np.broadcast_to(np.eye(4)[:, :, None], (4, 4, n)), -METRIC


def _me2_chunk(p1, p2, p3, p4, k, g_fsr, g_isr, m_e, m_mu):
    """Spin-averaged |M|^2 of one chunk of events, see :func:`me2_mumu_v`."""
    e2 = 4.0 * np.pi * ALPHA_EM
    ebar, eu, mbar, mv = _line_spinors(p1, p2, p3, p4, m_e, m_mu)
    eps, pol_weight = _polarisations(k)
    pol = _slash_blocks(eps)
    amp = 0.0
    if g_fsr != 0.0:
        c_fsr = g_fsr * e2 / mdot(p1 + p2, p1 + p2)
        tensor = _emission_tensor(mbar, mv, _Propagator(p3 + k, m_mu, c_fsr), _Propagator(-p4 - k, m_mu, c_fsr), pol)
        amp = _contract(_chiral_current(ebar, eu), tensor)  # [P, e pair, mu pair]
    if g_isr != 0.0:
        q = p3 + p4
        c_isr = g_isr * e2 / mdot(q, q)
        tensor = _emission_tensor(ebar, eu, _Propagator(k - p2, m_e, c_isr), _Propagator(p1 - k, m_e, c_isr), pol)
        amp = amp + _contract(_chiral_current(mbar, mv), tensor).transpose(
            0, 2, 1, 3
        )  # [P, mu pair, e pair] -> [P, e, mu]
    sq = (amp.real**2 + amp.imag**2).sum(axis=(1, 2))  # [P, N]
    return pol_weight @ sq / 4.0


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


def ward_residual(
    p1, p2, p3, p4, k, *, fsr: bool = True, m_e: float = ELECTRON_MASS, m_mu: float = MUON_MASS
) -> np.ndarray:
    """|k_rho A^rho| / max |A^rho| per event for the FSR (or ISR) amplitude: gauge-invariance check.

    Uses the amplitude code of :func:`me2_mumu_v` with the polarisation vector replaced by k.
    """
    ebar, eu, mbar, mv = _line_spinors(p1, p2, p3, p4, m_e, m_mu)
    vectors = np.concatenate(
        [np.broadcast_to(np.eye(4)[:, :, None], (4, 4, len(k))), k.T[:, None]], axis=1
    )  # e_sigma, k
    pol = _slash_blocks(np.ascontiguousarray(vectors))
    if fsr:
        tensor = _emission_tensor(mbar, mv, _Propagator(p3 + k, m_mu), _Propagator(-p4 - k, m_mu), pol)
        a = _contract(_chiral_current(ebar, eu), tensor)
    else:
        tensor = _emission_tensor(ebar, eu, _Propagator(k - p2, m_e), _Propagator(p1 - k, m_e), pol)
        a = _contract(_chiral_current(mbar, mv), tensor)
    a = np.abs(a).reshape(5, -1, len(k))
    return a[4].max(axis=0) / a[:4].max(axis=(0, 1))


def me2_born(
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    p4: np.ndarray,
    *,
    m_e: float = ELECTRON_MASS,
    m_mu: float = MUON_MASS,
) -> np.ndarray:
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
    bracket = (
        mdot(p1, p3) * mdot(p2, p4)
        + mdot(p1, p4) * mdot(p2, p3)
        + m_mu**2 * mdot(p1, p2)
        + m_e**2 * mdot(p3, p4)
        + 2 * m_e**2 * m_mu**2
    )
    return 8.0 * e4 / s**2 * bracket

"""Tau-pair spin correlations in e+e- -> gamma* -> tau+ tau- and tau polarimeter vectors.

Conventions. Everything is evaluated in the tau-pair rest frame (the frame of
p(tau-) + p(tau+), which ISR and FSR photons move away from the CM frame) with its
coordinate axes inherited from the CM frame by a pure boost. The spin of each tau is
described in its own rest frame reached from the pair rest frame by a pure (rotation-free)
boost, with the same coordinate axes ("common axes", not helicity frames), as a unit
three-vector; for the tau+ it is the physical spin of the antiparticle, i.e. the spin
projector is v vbar = (pslash - m)(1 + gamma5 sslash)/2 (standard convention, e.g.
Itzykson & Zuber, ch. 2).
gamma5 = i gamma^0 gamma^1 gamma^2 gamma^3.

Production. For unpolarised beams and one-photon exchange the tau-pair spin density matrix is
rho = (1 + C_ij sigma-_i sigma+_j)/4 (no single-tau polarisation: the photon has vector
couplings only, and its absorptive parts vanish at tree level), with (Tsai, Phys. Rev. D 4
(1971) 2821; the closed form below was derived for this module and is checked against
explicit spin-projector traces, :func:`me2_polarised`, in tests/physics/test_tau_spin.py)::

    D C = 2 e~ e~^T + beta^2 (sin^2(theta) 1 - 2 m m^T),
    D   = 2 - beta^2 sin^2(theta),
    e~  = cos(theta) k + sqrt(1 - beta^2) (e - cos(theta) k),   m = k x e,

where k is the tau- direction and e the e- beam direction in the pair rest frame,
cos(theta) = k.e and beta the tau velocity there. In the basis (k, r, n) with r the unit
vector along e - cos(theta) k and n = k x r: D C_kk = 1 + cos^2 - (1 - beta^2) sin^2,
D C_rr = (2 - beta^2) sin^2, D C_nn = -beta^2 sin^2, D C_kr = 2 sqrt(1 - beta^2) sin cos.
At threshold C = e e^T (a 3S1 state polarised transverse to the beam); for beta -> 1,
C_kk = 1: in common axes both spins point the same way along k, i.e. opposite helicities.
C is symmetric with trace 1 (spin triplet) and eigenvalues in [-1, 1]. The test suite checks
the formula against |M|^2 computed with explicit spin projectors (:func:`me2_polarised`).

Decays. The decay distribution of a tau with spin vector s is proportional to 1 + h.s, with
h the polarimeter vector of the decay configuration (|h| <= 1). The joint distribution of
production and both decays is then proportional to the spin-summed one times::

    W = 1 + h-_i C_ij h+_j,     0 <= W <= 2,

whose average over isotropic decays is 1 for every production configuration.
Polarimeters implemented:

* tau -> l nu nu, integrated over the neutrinos, :func:`leptonic_polarimeter` (Michel
  spectrum with the Standard-Model parameters and the lepton mass, PDG review "Muon decay
  parameters"): h = -/+ F_AS(x)/F_IS(x) l_hat for tau-/tau+. Exact for everything but the
  split of the neutrino momenta, whose sum p_tau - p_l is fixed by the lepton.
* tau -> P nu (P = pi, K) and tau -> P1 P2 nu (pi pi0, K pi, K K0) from the V-A matrix
  element with the hadronic current J = p_P, resp. J = (p1 - p2) transverse to p1 + p2
  (vector form factor only; Kuehn & Santamaria, Z. Phys. C 48 (1990) 445; Jadach, Kuehn &
  Was, Comput. Phys. Commun. 64 (1991) 275): for tau- -> pi- nu, h = +pi_hat.
* Other hadronic modes (three and more mesons): h = 0, i.e. their spin information is not
  used (weight 1 for that tau).
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.kinematics import METRIC
from darkscan.physics.matrix_elements import GAMMA, slash

#: gamma5 = i gamma^0 gamma^1 gamma^2 gamma^3 in the Dirac representation.
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
_ONE = np.eye(4, dtype=complex)


# --------------------------------------------------------------------------- Lorentz algebra


def boost_to_rest(p: np.ndarray) -> np.ndarray:
    """Lorentz matrices (N, 4, 4) of the pure boost into the rest frame of the (N, 4) momenta p.

    ``boost_to_rest(p) @ p = (m, 0, 0, 0)``; contravariant components (E, px, py, pz).
    """
    p = np.asarray(p, dtype=float)
    m = np.sqrt(np.maximum(p[:, 0] ** 2 - (p[:, 1:] ** 2).sum(1), 0.0))
    b = -p[:, 1:] / p[:, :1]  # velocity of the boost: minus the particle velocity
    g = p[:, 0] / m
    b2 = (b**2).sum(1)
    coef = np.where(b2 > 0, (g - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    out = np.zeros((len(p), 4, 4))
    out[:, 0, 0] = g
    out[:, 0, 1:] = g[:, None] * b
    out[:, 1:, 0] = g[:, None] * b
    out[:, 1:, 1:] = np.eye(3) + coef[:, None, None] * b[:, :, None] * b[:, None, :]
    return out


def inverse_boost(lam: np.ndarray) -> np.ndarray:
    """Inverse of pure-boost matrices: flip the sign of the time-space block."""
    inv = lam.copy()
    inv[:, 0, 1:] *= -1.0
    inv[:, 1:, 0] *= -1.0
    return inv


def apply(lam: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Apply (N, 4, 4) Lorentz matrices to (N, 4) momenta."""
    return np.einsum("nij,nj->ni", lam, p)


def spin_four_vector(p: np.ndarray, s_rest: np.ndarray) -> np.ndarray:
    """Covariant spin vector of a particle with momentum p whose rest-frame spin is s_rest.

    The rest frame is reached from the frame of p by a pure boost: s^0 = p.s/m,
    s_vec = s + p (p.s) / (m (E + m)).
    """
    m = np.sqrt(p[:, 0] ** 2 - (p[:, 1:] ** 2).sum(1))
    ps = (p[:, 1:] * s_rest).sum(1)
    out = np.empty((len(p), 4))
    out[:, 0] = ps / m
    out[:, 1:] = s_rest + p[:, 1:] * (ps / (m * (p[:, 0] + m)))[:, None]
    return out


# --------------------------------------------------------------------------- production


def spin_correlation_matrix(k_hat: np.ndarray, e_hat: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Spin-correlation matrix C of e+e- -> gamma* -> tau- tau+ (tree level, tau mass kept).

    Args:
        k_hat: (N, 3) unit tau- direction in the tau-pair rest frame.
        e_hat: (N, 3) unit e- beam direction in the same frame.
        beta: (N,) tau velocity in the pair rest frame.

    Returns:
        (N, 3, 3) matrix with rho = (1 + C_ij sigma-_i sigma+_j)/4 in common axes (module
        docstring; Tsai, Phys. Rev. D 4 (1971) 2821).
    """
    k_hat = np.asarray(k_hat, float)
    e_hat = np.asarray(e_hat, float)
    beta = np.asarray(beta, float)
    c = (k_hat * e_hat).sum(1)
    sin2 = np.clip(1.0 - c * c, 0.0, 1.0)
    b2 = beta * beta
    e_t = c[:, None] * k_hat + np.sqrt(1.0 - b2)[:, None] * (e_hat - c[:, None] * k_hat)
    m = np.cross(k_hat, e_hat)
    d = 2.0 - b2 * sin2
    num = 2.0 * e_t[:, :, None] * e_t[:, None, :] + b2[:, None, None] * (
        sin2[:, None, None] * np.eye(3) - 2.0 * m[:, :, None] * m[:, None, :]
    )
    return num / d[:, None, None]


def _trace_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """T^{mu nu} = Tr[a gamma^mu b gamma^nu] for (N, 4, 4) matrices a, b; (N, 4, 4) complex."""
    ag = np.einsum("nab,mbc->nmac", a, GAMMA)
    bg = np.einsum("nab,mbc->nmac", b, GAMMA)
    return np.einsum("nmab,nvba->nmv", ag, bg)


def _projector(p: np.ndarray, mass: float, sign: float, s: np.ndarray | None) -> np.ndarray:
    """(pslash + sign m)(1 + gamma5 sslash)/2, or pslash + sign m summed over spins (s None)."""
    proj = slash(p) + (sign * np.asarray(mass, float))[..., None, None] * _ONE
    if s is None:
        return proj
    return proj @ (_ONE + GAMMA5 @ slash(s)) / 2.0


def me2_polarised(p1, p2, p_minus, p_plus, s_minus=None, s_plus=None, *, m_tau: float, m_e: float = 0.0) -> np.ndarray:
    """|M|^2 of e-(p1) e+(p2) -> gamma* -> tau-(p_minus, s_minus) tau+(p_plus, s_plus), up to a constant.

    Computed with explicit Dirac matrices and spin projectors, no trace algebra by hand:
    L^{mu nu} = Tr[(p2slash - m_e) gamma^mu (p1slash + m_e) gamma^nu] (unpolarised beams,
    summed over spins), H^{mu nu} = Tr[P- gamma^mu P+ gamma^nu] with
    P- = (p-slash + m)(1 + gamma5 s-slash)/2 and P+ = (p+slash - m)(1 + gamma5 s+slash)/2,
    |M|^2 = L^{mu nu} H_{mu nu}. Spin four-vectors s (covariant, see :func:`spin_four_vector`);
    None sums over that tau's spins. Independent check of :func:`spin_correlation_matrix`.
    """
    lep = _trace_pairs(_projector(p2, m_e, -1.0, None), _projector(p1, m_e, 1.0, None))
    had = _trace_pairs(_projector(p_minus, m_tau, 1.0, s_minus), _projector(p_plus, m_tau, -1.0, s_plus))
    g = METRIC[:, None] * METRIC[None, :]
    return np.real(np.einsum("nmv,nmv->n", lep, had * g))


# --------------------------------------------------------------------------- decays


def leptonic_polarimeter(p_lepton: np.ndarray, *, m_tau: float, m_lepton: float, tau_charge: int) -> np.ndarray:
    """Polarimeter of tau -> l nu nu integrated over the neutrinos.

    With x = E_l / W, W = (m_tau^2 + m_l^2)/(2 m_tau), x0 = m_l / W and the Standard-Model
    Michel parameters (rho = delta = 3/4, xi = 1, eta = 0; PDG review "Muon decay
    parameters")::

        F_IS = x (1 - x) + (4 x^2 - 3 x - x0^2)/6
        F_AS = sqrt(x^2 - x0^2)/3 * (1 - x + (4 x - 3 + sqrt(1 - x0^2) - 1)/2)
        h    = tau_charge * F_AS / F_IS * l_hat,

    so that for x0 = 0, h(tau-) = (1 - 2x)/(3 - 2x) l_hat: the hardest leptons of a tau-
    go opposite to its spin (angular momentum conservation at x = 1).

    Args:
        p_lepton: (N, 4) charged-lepton momentum in the tau rest frame.
        m_tau, m_lepton: masses (GeV).
        tau_charge: -1 for tau-, +1 for tau+.
    """
    w = (m_tau**2 + m_lepton**2) / (2.0 * m_tau)
    x0 = m_lepton / w
    x = np.clip(p_lepton[:, 0] / w, x0, 1.0)
    f_is = x * (1.0 - x) + (4.0 * x * x - 3.0 * x - x0 * x0) / 6.0
    f_as = (
        np.sqrt(np.maximum(x * x - x0 * x0, 0.0))
        / 3.0
        * (1.0 - x + 0.5 * (4.0 * x - 3.0 + np.sqrt(1.0 - x0 * x0) - 1.0))
    )
    a = np.clip(np.where(f_is > 0, f_as / np.where(f_is > 0, f_is, 1.0), 0.0), -1.0, 1.0)
    p3 = p_lepton[:, 1:]
    norm = np.linalg.norm(p3, axis=1)
    l_hat = p3 / np.where(norm > 0, norm, 1.0)[:, None]
    return tau_charge * a[:, None] * l_hat


def michel_density(x: np.ndarray, *, m_tau: float, m_lepton: float) -> np.ndarray:
    """Unpolarised lepton spectrum dGamma/dx of tau -> l nu nu, sqrt(x^2 - x0^2) F_IS(x) (unnormalised)."""
    w = (m_tau**2 + m_lepton**2) / (2.0 * m_tau)
    x0 = m_lepton / w
    x = np.asarray(x, float)
    f_is = x * (1.0 - x) + (4.0 * x * x - 3.0 * x - x0 * x0) / 6.0
    return np.where((x >= x0) & (x <= 1.0), np.sqrt(np.maximum(x * x - x0 * x0, 0.0)) * np.maximum(f_is, 0.0), 0.0)


def sample_leptonic_decay(rng: np.random.Generator, n: int, *, m_tau: float, m_lepton: float) -> np.ndarray:
    """(n, 4) charged-lepton momenta of unpolarised tau -> l nu nu decays in the tau rest frame.

    The energy follows :func:`michel_density` (inverse CDF on a fine grid), the direction is
    isotropic; the neutrinos are not generated (their sum is p_tau - p_l).
    """
    w = (m_tau**2 + m_lepton**2) / (2.0 * m_tau)
    x0 = m_lepton / w
    grid = np.linspace(x0, 1.0, 20001)
    dens = michel_density(grid, m_tau=m_tau, m_lepton=m_lepton)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    x = np.interp(rng.random(n) * cdf[-1], cdf, grid)
    energy = x * w
    p = np.sqrt(np.maximum(energy**2 - m_lepton**2, 0.0))
    cos = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin = np.sqrt(1.0 - cos * cos)
    return np.stack([energy, p * sin * np.cos(phi), p * sin * np.sin(phi), p * cos], axis=1)


def hadronic_polarimeter(p_nu: np.ndarray, current: np.ndarray, *, m_tau: float, tau_charge: int) -> np.ndarray:
    """Polarimeter of tau -> nu + hadrons with a real hadronic current J, from the V-A |M|^2.

    In the tau rest frame (P = (m, 0, 0, 0)), with explicit Dirac matrices:
    tau-: |M|^2(s) = Tr[N-slash J-slash (1 - g5) (P-slash + m)(1 + g5 s-slash)/2 (1 + g5) J-slash];
    tau+: |M|^2(s) = Tr[(P-slash - m)(1 + g5 s-slash)/2 J-slash (1 - g5) N-slash (1 + g5) J-slash];
    h_i = (|M|^2(e_i) - |M|^2(-e_i)) / (|M|^2(e_i) + |M|^2(-e_i)).

    Args:
        p_nu: (N, 4) neutrino momentum in the tau rest frame.
        current: (N, 4) hadronic current in the same frame (J = p_pi for tau -> pi nu).
        m_tau: tau mass, scalar or (N,).
        tau_charge: -1 for tau-, +1 for tau+.
    """
    n = len(p_nu)
    p_tau = np.zeros((n, 4))
    p_tau[:, 0] = m_tau  # scalar or (N,)
    nslash = slash(p_nu)
    jslash = slash(current)
    left = jslash @ (_ONE - GAMMA5)
    right = (_ONE + GAMMA5) @ jslash
    h = np.zeros((n, 3))
    for i in range(3):
        vals = []
        for sign in (1.0, -1.0):
            s = np.zeros((n, 4))
            s[:, i + 1] = sign
            if tau_charge < 0:
                proj = _projector(p_tau, m_tau, 1.0, s)
                mat = nslash @ left @ proj @ right
            else:
                proj = _projector(p_tau, m_tau, -1.0, s)
                mat = proj @ left @ nslash @ right
            vals.append(np.real(np.trace(mat, axis1=1, axis2=2)))
        tot = vals[0] + vals[1]
        h[:, i] = np.where(tot > 0, (vals[0] - vals[1]) / np.where(tot > 0, tot, 1.0), 0.0)
    return h


def two_meson_current(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Vector current of tau -> P1 P2 nu: (p1 - p2) minus its projection on Q = p1 + p2."""
    q = p1 - p2
    big_q = p1 + p2
    qq = big_q[:, 0] ** 2 - (big_q[:, 1:] ** 2).sum(1)
    qdot = q[:, 0] * big_q[:, 0] - (q[:, 1:] * big_q[:, 1:]).sum(1)
    return q - (qdot / qq)[:, None] * big_q


def spin_weight(h_minus: np.ndarray, corr: np.ndarray, h_plus: np.ndarray) -> np.ndarray:
    """W = 1 + h-_i C_ij h+_j for (N, 3) polarimeters and (N, 3, 3) correlation matrices."""
    return 1.0 + np.einsum("ni,nij,nj->n", h_minus, corr, h_plus)


def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3, 3) rotation matrices uniform in SO(3) (Haar measure), from unit quaternions."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1)[:, None]
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], 1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], 1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], 1),
        ],
        1,
    )

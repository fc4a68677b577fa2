"""Phase-space helpers of the two-photon generator (``twophoton``): Breit-Wheeler cross
sections (any lepton mass), Lorentz boosts, the two samplers of the photon pair (x1, x2, Q1^2, Q2^2)
and the exact multiperipheral matrix element of e+e- -> e+e- l+l-.

Both samplers return ``(e1, e2, w02, y_pair, factor, ok, q1sq, q2sq, flux)``: scattered e- and e+
four-momenta, W0^2 = x1 x2 s, the pair rapidity Y = ln(x1/x2)/2, the photon-flux part of the
weight ``f1 f2 / pdf(ln W0^2, Y, ln Q1^2, ln Q2^2)``, a validity mask (``factor`` is 0 where not
ok), the sampled virtualities Q1^2, Q2^2 > 0 (GeV^2) and the flux product f1 f2.

Matrix element (:func:`me2_multiperipheral`). The two multiperipheral diagrams, with the beam
lepton tensors L_i = 2 [P_i P_i - q_i q_i + q_i^2 g] (P_i = p_i + p_i') reduced by the Ward
identity to three polarisation vectors per photon (the scalar one along the other photon's
momentum and two transverse to both), and the gamma* gamma* -> l+ l- amplitudes summed over the
lepton spins numerically (Dirac representation, explicit spinors of
:mod:`darkscan.physics.matrix_elements`). Checks (tests/generate/test_twophoton_me.py): the
real-photon limit gives the Breit-Wheeler dsigma/dcos to 1e-7; the Ward identity holds to
round-off for virtual photons; the reduced tensors agree with explicit beam currents contracted
over all indices; and for Q1^2, Q2^2 << W^2 the weights equal the EPA (Budnev flux x
Breit-Wheeler) weights of the same events to within 1%.
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import METRIC, mdot
from darkscan.physics.matrix_elements import GAMMA, bar, slash, spinors_u, spinors_v

# |p_beam - p_out - x E| <= m_e for each lepton: margin (GeV) on the pair pz in the recoil window.
_PZ_MARGIN = 2e-3
#: Upper limit of the sampled photon virtuality, Q^2 <= min(Q2max_kinematic, Q2_MAX_OVER_W02 * W0^2).
#: With the exact matrix element, Q^2 in [W0^2, 10 W0^2] adds 10% to the zprime_invisible-cut eemumu
#: cross section and < 1% to the total; 100 instead of 10 changes neither beyond the 0.5% MC error.
Q2_MAX_OVER_W02 = 10.0
_CORE_FRACTION = 0.5  # share of the core ln Q^2 range in the restricted-photon mixture (photons_recoil)


def sigma_gg_ll(w: np.ndarray, mass: float) -> np.ndarray:
    """Breit-Wheeler cross section sigma(gamma gamma -> l+ l-) in GeV^-2 at invariant mass w (GeV), lepton mass ``mass``."""
    w = np.asarray(w, dtype=np.float64)
    beta = np.sqrt(np.clip(1.0 - 4 * mass**2 / np.maximum(w, 1e-300) ** 2, 0.0, 1.0))
    log_term = np.log((1 + beta) / np.maximum(1 - beta, 1e-300))
    return 2 * np.pi * ALPHA_EM**2 / w**2 * ((3 - beta**4) * log_term - 2 * beta * (2 - beta**2))


def dsigma_gg_ll_dcos(w: np.ndarray, cos: np.ndarray, mass: float) -> np.ndarray:
    """dsigma/dcos(theta*) of gamma gamma -> l+ l- in GeV^-2; theta* is the l- angle to a photon."""
    beta = np.sqrt(np.clip(1.0 - 4 * mass**2 / w**2, 0.0, 1.0))
    a = 1 - beta * cos
    b = 1 + beta * cos
    r = 1 - beta**2
    f = b / a + a / b + 4 * r / (a * b) - 4 * r**2 / (a * b) ** 2
    return np.pi * ALPHA_EM**2 * beta / w**2 * f


def sigma_gg_mumu(w: np.ndarray) -> np.ndarray:
    """Breit-Wheeler cross section sigma(gamma gamma -> mu+ mu-) in GeV^-2 at invariant mass w (GeV)."""
    return sigma_gg_ll(w, MUON_MASS)


def dsigma_gg_mumu_dcos(w: np.ndarray, cos: np.ndarray) -> np.ndarray:
    """dsigma/dcos(theta*) of gamma gamma -> mu+ mu- in GeV^-2; theta* is the mu- angle to a photon."""
    return dsigma_gg_ll_dcos(w, cos, MUON_MASS)


def boost(p4: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Boost ``p4`` (..., 4) from the rest frame of ``frame`` (..., 4) to the frame where ``frame`` is given."""
    m = np.sqrt(np.maximum(frame[..., 0] ** 2 - np.sum(frame[..., 1:] ** 2, axis=-1), 1e-300))
    bvec = frame[..., 1:] / frame[..., :1]
    gamma = frame[..., 0] / m
    bp = np.sum(bvec * p4[..., 1:], axis=-1)
    b2 = np.sum(bvec**2, axis=-1)
    coef = np.where(b2 > 0, (gamma - 1) * bp / np.where(b2 > 0, b2, 1.0), 0.0) + gamma * p4[..., 0]
    out = np.empty_like(p4)
    out[..., 0] = gamma * (p4[..., 0] + bp)
    out[..., 1:] = p4[..., 1:] + coef[..., None] * bvec
    return out


def inverse(frame: np.ndarray) -> np.ndarray:
    out = frame.copy()
    out[..., 1:] *= -1
    return out


def _lepton_ranges(e_beam, x):
    """(e_out, p_out, p_beam, Q2min, Q2max_kinematic) of the lepton radiating a photon of fraction x."""
    m2 = ELECTRON_MASS**2
    p_beam = np.sqrt(e_beam**2 - m2)
    e_out = e_beam * (1 - x)
    p_out = np.sqrt(np.maximum(e_out**2 - m2, 0.0))
    q2_min = 2 * ((m2 * (e_beam**2 + e_out**2) - m2**2) / (e_beam * e_out + p_beam * p_out) - m2)
    q2_kin = 2 * (e_beam * e_out - m2 + p_beam * p_out)
    return e_out, p_out, p_beam, q2_min, q2_kin


def _lepton(rng, n, x, q2, e_out, p_out, p_beam, q2_min, sign):
    """Scattered-lepton four-momentum at photon virtuality q2 (uniform azimuth) and the photon flux."""
    flux = (ALPHA_EM / np.pi) * ((1 - x + 0.5 * x**2) - (1 - x) * q2_min / q2)
    one_minus_cos = np.clip((q2 - q2_min) / (2 * p_beam * np.maximum(p_out, 1e-300)), 0.0, 2.0)
    cos = 1 - one_minus_cos
    sin = np.sqrt(np.maximum(one_minus_cos * (2 - one_minus_cos), 0.0))
    phi = rng.random(n) * 2 * np.pi
    p4 = np.stack([e_out, p_out * sin * np.cos(phi), p_out * sin * np.sin(phi), sign * p_out * cos], axis=-1)
    return p4, flux


def _scattered_lepton(rng, e_beam, x, w2, sign, n, pt_req, restricted):
    """Sample ln Q^2 of one photon; return (scattered-lepton p4, flux density, pdf full, pdf restricted, valid, Q^2).

    ``restricted`` trials draw Q^2 above the value needed for a lepton pT >= ``pt_req``
    (pT^2 <= p'/p (Q^2 - Q2min) exactly); the caller combines both densities (multi-channel).
    """
    e_out, p_out, p_beam, q2_min, q2_kin = _lepton_ranges(e_beam, x)
    q2_max = np.minimum(q2_kin, Q2_MAX_OVER_W02 * w2)
    q2_cut = np.minimum(q2_min + pt_req**2 * p_beam / np.maximum(p_out, 1e-300), q2_max)
    valid = (e_out > ELECTRON_MASS) & (q2_max > q2_min) & (~restricted | (q2_max > q2_cut))
    q2_min_safe = np.where(valid, q2_min, 1.0)
    span_full = np.log(np.where(valid, q2_max / q2_min_safe, np.e))
    span_res = np.log(np.where(valid & (q2_max > q2_cut), q2_max / np.where(valid, q2_cut, 1.0), np.e))
    low = np.where(restricted, q2_cut, q2_min)
    q2 = low * np.exp(rng.random(n) * np.where(restricted, span_res, span_full))
    pdf_full = 1.0 / span_full
    pdf_res = np.where((q2 >= q2_cut) & (q2_max > q2_cut), 1.0 / span_res, 0.0)
    p4, flux = _lepton(rng, n, x, q2, e_out, p_out, p_beam, q2_min, sign)
    return p4, np.where(valid, flux, 0.0), pdf_full, pdf_res, valid, q2


def _sample_w02(rng, n, s, w_min, w0_core=None, core_fraction=0.0):
    """ln W0^2 with density ~ 1 / W0^2 between (0.8 w_min)^2 and s: (W0^2, pdf in ln W0^2).

    With ``w0_core``, a fraction ``core_fraction`` of the trials has W0 >= w0_core instead (the
    density is the mixture, so the full range stays covered).
    """
    lo, hi = 1.0 / (0.8 * w_min) ** 2, 1.0 / s
    if w0_core is None or not 0.8 * w_min < w0_core < np.sqrt(s):
        w02 = 1.0 / (lo + (hi - lo) * rng.random(n))
        return w02, (1.0 / w02) / (lo - hi)
    lo_core = 1.0 / w0_core**2
    use_core = rng.random(n) < core_fraction
    w02 = 1.0 / (np.where(use_core, lo_core, lo) + (hi - np.where(use_core, lo_core, lo)) * rng.random(n))
    pdf = (1 - core_fraction) / (lo - hi) + np.where(w02 >= w0_core**2, core_fraction / (lo_core - hi), 0.0)
    return w02, pdf / w02


def photons_standard(rng, n, sqrt_s, w_min, eta_max, pair_pt_min, y_margin):
    """W0^2, then Y uniform in the muon-acceptance range, then ln Q^2 of each photon in its exact range."""
    s = sqrt_s**2
    e_beam = sqrt_s / 2
    w02, pdf_lnw2 = _sample_w02(rng, n, s, w_min)
    y_lim = np.minimum(0.5 * np.log(s / w02), eta_max + y_margin)
    y_pair = (2 * rng.random(n) - 1) * y_lim
    pdf_y = 1.0 / (2 * y_lim)
    x1 = np.sqrt(w02 / s) * np.exp(y_pair)
    x2 = np.sqrt(w02 / s) * np.exp(-y_pair)
    ok = (x1 < 1) & (x2 < 1)
    x1, x2 = np.where(ok, x1, 0.5), np.where(ok, x2, 0.5)
    # The pair pT equals the summed pT of the scattered leptons, so a pair-pT cut needs one
    # lepton with pT >= pair_pt_min / 2: two channels, each restricting one photon's Q^2.
    restrict1 = rng.random(n) < 0.5 if pair_pt_min > 0 else np.zeros(n, dtype=bool)
    pt_req = 0.5 * pair_pt_min
    e1, f1, g1, r1, v1, q1sq = _scattered_lepton(rng, e_beam, x1, w02, +1.0, n, pt_req, restrict1)
    e2, f2, g2, r2, v2, q2sq = _scattered_lepton(rng, e_beam, x2, w02, -1.0, n, pt_req, ~restrict1 & (pair_pt_min > 0))
    pdf_q2 = 0.5 * (r1 * g2 + g1 * r2) if pair_pt_min > 0 else g1 * g2
    ok &= v1 & v2
    factor = np.where(ok, f1 * f2 / (pdf_lnw2 * pdf_y * np.where(ok, pdf_q2, 1.0)), 0.0)
    return e1, e2, w02, y_pair, factor, ok, q1sq, q2sq, f1 * f2


def photons_recoil(rng, n, sqrt_s, w_min, eta_max, pair_pt_min, y_margin, k_recoil):
    """Sampler for a cut |p_z(mu mu)| <= k_recoil p_T(mu mu) (recoil direction in a central cone).

    Order: W0^2; ln Q1^2 and ln Q2^2, log-uniform in x-independent ranges that contain the exact
    ones, [Q2min(x_lo), W0^2] (one of them above (pair_pt_min/2)^2 if pair_pt_min > 0, two
    channels as in ``photons_standard``); then Y uniform in the window allowed by the cut.
    With p_T(pair) <= Q1 + Q2 = P and p_z(pair) = W0 sinh Y + d1 - d2 (+- _PZ_MARGIN) with
    0 <= d_i = (Q_i^2 - Q2min_i) / (2 p_beam) <= Q_i^2 / (2 p_beam), the cut implies
    -k P - Q1^2/(2 p_beam) - margin <= W0 sinh Y <= k P + Q2^2/(2 p_beam) + margin,
    so the window contains all of the cut phase space (the weights stay exact).
    """
    s = sqrt_s**2
    e_beam = sqrt_s / 2
    p_beam = np.sqrt(e_beam**2 - ELECTRON_MASS**2)
    # Most of the cut phase space has W0^2 ~ W^2 + pT(pair)^2 above w_min^2 + pair_pt_min^2.
    w0_core = 0.95 * np.hypot(w_min, pair_pt_min) if pair_pt_min > 0 else None
    w02, pdf_lnw2 = _sample_w02(rng, n, s, w_min, w0_core, _CORE_FRACTION)
    y_lim = np.minimum(0.5 * np.log(s / w02), eta_max + y_margin)
    x_lo = np.sqrt(w02 / s) * np.exp(-y_lim)
    q2_low = 0.999 * _lepton_ranges(e_beam, x_lo)[3]
    q2_top = Q2_MAX_OVER_W02 * w02
    span_full = np.log(q2_top / q2_low)
    pt_req2 = (0.5 * pair_pt_min) ** 2
    if pair_pt_min > 0:
        # Restricted photon: mixture of ln Q^2 uniform in [(pair_pt_min/2)^2, W0^2] (covers all
        # of the cut phase space) and a core [(0.8 pair_pt_min)^2, W0^2 - (0.8 w_min)^2] where a
        # single photon gives the pair pT and W ~ sqrt(W0^2 - pT^2) stays above w_min.
        restrict1 = rng.random(n) < 0.5
        span_res = np.log(np.maximum(q2_top / pt_req2, 1.0 + 1e-12))
        core_lo = (0.8 * pair_pt_min) ** 2
        core_hi = w02 - (0.8 * w_min) ** 2
        core_ok = core_hi > 1.5 * core_lo
        span_core = np.log(np.where(core_ok, core_hi, 2.0 * core_lo) / core_lo)
        use_core = core_ok & (rng.random(n) < _CORE_FRACTION)
        res_low = np.where(use_core, core_lo, pt_req2)
        q_res = res_low * np.exp(rng.random(n) * np.where(use_core, span_core, span_res))
        q_full = q2_low * np.exp(rng.random(n) * span_full)
        q1sq = np.where(restrict1, q_res, q_full)
        q2sq = np.where(restrict1, q_full, q_res)

        def pdf_res(q2):
            broad = np.where(q2 >= pt_req2, 1.0 / span_res, 0.0)
            core = np.where(core_ok & (q2 >= core_lo) & (q2 <= core_hi), 1.0 / span_core, 0.0)
            return np.where(core_ok, (1 - _CORE_FRACTION) * broad + _CORE_FRACTION * core, broad)

        pdf_q2 = 0.5 * (pdf_res(q1sq) + pdf_res(q2sq)) / span_full
        ok = q2_top > pt_req2
    else:
        q1sq = q2_low * np.exp(rng.random(n) * span_full)
        q2sq = q2_low * np.exp(rng.random(n) * span_full)
        pdf_q2 = 1.0 / span_full**2
        ok = np.ones(n, dtype=bool)
    big_p = np.sqrt(q1sq) + np.sqrt(q2sq)
    w0 = np.sqrt(w02)
    y_lo = np.maximum(np.arcsinh((-k_recoil * big_p - q1sq / (2 * p_beam) - _PZ_MARGIN) / w0), -y_lim)
    y_hi = np.minimum(np.arcsinh((k_recoil * big_p + q2sq / (2 * p_beam) + _PZ_MARGIN) / w0), y_lim)
    ok &= y_hi > y_lo
    width = np.where(ok, y_hi - y_lo, 1.0)
    y_pair = y_lo + width * rng.random(n)
    x1 = np.sqrt(w02 / s) * np.exp(y_pair)
    x2 = np.sqrt(w02 / s) * np.exp(-y_pair)
    ok &= (x1 < 1) & (x2 < 1)
    x1, x2 = np.where(ok, x1, 0.5), np.where(ok, x2, 0.5)
    leptons, fluxes = [], []
    for x, q2, sign in ((x1, q1sq, 1.0), (x2, q2sq, -1.0)):
        e_out, p_out, _, q2_min, q2_kin = _lepton_ranges(e_beam, x)
        ok &= (e_out > ELECTRON_MASS) & (q2 > q2_min) & (q2 < np.minimum(q2_kin, q2_top))
        p4, flux = _lepton(rng, n, x, q2, e_out, p_out, p_beam, q2_min, sign)
        leptons.append(p4)
        fluxes.append(flux)
    # pdf(Y) = 1 / width: the Y window depends on (W0, Q1, Q2) only, the same for both channels.
    factor = np.where(ok, fluxes[0] * fluxes[1] * width / (pdf_lnw2 * np.where(ok, pdf_q2, 1.0)), 0.0)
    return leptons[0], leptons[1], w02, y_pair, factor, ok, q1sq, q2sq, fluxes[0] * fluxes[1]


# ---------------------------------------------------------------------------------------------
# Exact multiperipheral matrix element of e-(p1) e+(p2) -> e-(p1') e+(p2') l-(p) l+(pbar).
# ---------------------------------------------------------------------------------------------

_CHUNK = 16_384
_E2 = 4 * np.pi * ALPHA_EM


def pair_frame_axes(q1: np.ndarray, pair: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal three-vectors (N, 3) each in the rest frame of ``pair``: the direction of ``q1``
    there, and two unit vectors perpendicular to it (a right-handed set)."""
    axis = boost(q1, inverse(pair))[:, 1:]
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-300)
    helper = np.where(np.abs(axis[:, :1]) < 0.9, np.array([[1.0, 0, 0]]), np.array([[0, 1.0, 0]]))
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return axis, u, np.cross(axis, u)


def _transverse_basis(q1: np.ndarray, q2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal space-like four-vectors (e.e = -1) orthogonal to both q1 and q2, (N, 4) each.

    Built in the q1 + q2 rest frame from two unit three-vectors perpendicular to q1 there, and
    boosted back (then (0, u).(q1 + q2) = 0 and (0, u).q1 = 0, hence also orthogonal to q2).
    """
    pair = q1 + q2
    _, u, v = pair_frame_axes(q1, pair)
    zero = np.zeros((len(q1), 1))
    return boost(np.concatenate([zero, u], axis=1), pair), boost(np.concatenate([zero, v], axis=1), pair)


#: G[mu] = gamma^mu g_{mu mu} (Dirac representation), so that vslash = sum_mu v^mu G[mu].
_G = METRIC[:, None, None] * GAMMA
_G_FLAT_RE = np.ascontiguousarray(_G.reshape(4, 16).real)
_G_FLAT_IM = np.ascontiguousarray(_G.reshape(4, 16).imag)
_ROW_G = np.concatenate(list(_G), axis=1)  # (4, 16): row @ _ROW_G = [row G0 | row G1 | row G2 | row G3]
_COL_G = np.concatenate(list(_G), axis=0)  # (16, 4): _COL_G @ col = [G0 col; G1 col; G2 col; G3 col]


def _slash_many(vectors: np.ndarray) -> np.ndarray:
    """gamma^mu v_mu for (N, 4) real four-vectors: (N, 4, 4) complex."""
    out = np.empty((len(vectors), 16), dtype=complex)
    out.real = vectors @ _G_FLAT_RE
    out.imag = vectors @ _G_FLAT_IM
    return out.reshape(-1, 4, 4)


def _photon_tensor(p_in, p_out, q_self, q_other, q2_self, xx, e_x, e_y):
    """Gauge-reduced polarisation vectors and coefficients of one lepton tensor.

    The spin-summed lepton tensor of the beam line, L^{mu nu} = Tr[(p_out + m) gamma^mu
    (p_in + m) gamma^nu] = 2 [P^mu P^nu - q^mu q^nu + q^2 g^{mu nu}] with P = p_in + p_out and
    q = p_in - p_out (P.q = 0), is written in the basis (eps_S, e_x, e_y) of the space orthogonal
    to q: eps_S = (q_other - (q.q_other / q^2) q) / n (time-like, unit, n^2 = X / Q^2) and the two
    transverse vectors. Terms along q drop out of the contraction with the pair-production
    amplitude (Ward identity, which holds for any polarisation of the other photon), so the q
    component of eps_S is dropped in the vector used for the amplitude.

    Returns:
        (vectors (N, 3, 4) for the amplitude, coefficient matrix (N, 3, 3)) such that
        L ~ sum_ab C_ab eps_a eps_b.
    """
    big_p = p_in + p_out
    n_inv = np.sqrt(-q2_self / xx)  # 1 / n = sqrt(Q^2 / X)
    alpha = mdot(big_p, q_other) * n_inv
    b = np.stack([-mdot(big_p, e_x), -mdot(big_p, e_y)], axis=1)  # P = alpha eps_S + b_x e_x + b_y e_y
    comp = np.concatenate([alpha[:, None], b], axis=1)
    coeff = comp[:, :, None] * comp[:, None, :]
    # + q^2 g restricted to the space orthogonal to q: q^2 (eps_S eps_S - e_x e_x - e_y e_y).
    coeff[:, 0, 0] += q2_self
    coeff[:, 1, 1] -= q2_self
    coeff[:, 2, 2] -= q2_self
    vectors = np.stack([q_other * n_inv[:, None], e_x, e_y], axis=1)
    return vectors, 2.0 * coeff


def pair_amplitudes(p: np.ndarray, pbar: np.ndarray, q1: np.ndarray, q2: np.ndarray, eps1: np.ndarray, eps2: np.ndarray,
                    mass: float, *, q1sq: np.ndarray | None = None, q2sq: np.ndarray | None = None) -> np.ndarray:
    """Helicity amplitudes of gamma*(q1, eps1_a) gamma*(q2, eps2_b) -> l-(p) l+(pbar), without couplings.

    A = ubar(p) [eps1 (p - q1 + m) eps2 / ((p - q1)^2 - m^2) + eps2 (p - q2 + m) eps1 / ((p - q2)^2 - m^2)] v(pbar)
    (slashed vectors; the t- and u-channel lepton exchange). Both photons may be off shell.

    Args:
        p, pbar: (N, 4) lepton and antilepton four-momenta (on shell, mass ``mass``).
        q1, q2: (N, 4) photon four-momenta, q1 + q2 = p + pbar.
        eps1, eps2: (N, A, 4) and (N, B, 4) real polarisation (or any) four-vectors.
        mass: lepton mass in GeV.
        q1sq, q2sq: optional precise q1^2, q2^2 (GeV^2) for the propagator denominators
            (p - q)^2 - m^2 = q^2 - 2 p.q; default: computed from q1, q2.

    Returns:
        (N, 2, 2, A, B) complex amplitudes (lepton spin, antilepton spin, a, b).
    """
    return np.moveaxis(_amplitudes(p, pbar, q1, q2, eps1, eps2, mass, q1sq, q2sq), (3, 4), (1, 2))


def _amplitudes(p, pbar, q1, q2, eps1, eps2, mass, q1sq, q2sq):
    """:func:`pair_amplitudes` in the layout (N, A, B, 2, 2), with a few larger batched matrix products."""
    q1sq = mdot(q1, q1) if q1sq is None else q1sq
    q2sq = mdot(q2, q2) if q2sq is None else q2sq
    n, na, nb = len(p), eps1.shape[1], eps2.shape[1]
    eye = np.eye(4) * mass
    s1 = (_slash_many(p - q1) + eye) / (q1sq - 2 * mdot(p, q1))[:, None, None]
    s2 = (_slash_many(p - q2) + eye) / (q2sq - 2 * mdot(p, q2))[:, None, None]
    # ubar G[mu] for all mu, (N, 4 mu, 2 spins x 4), and G[mu] v for all mu, (N, 4 mu, 4 x 2 spins).
    row_g = (bar(spinors_u(p, mass)) @ _ROW_G).reshape(n, 2, 4, 4).transpose(0, 2, 1, 3).reshape(n, 4, 8)
    col_g = (_COL_G @ np.swapaxes(spinors_v(pbar, mass), 1, 2)).reshape(n, 4, 8)

    def row_side(eps, prop, k):  # ubar epsslash_k prop: (N, k x 2 spins, 4)
        return (eps @ row_g).reshape(n, k * 2, 4) @ prop

    def col_side(eps, k):  # epsslash_k v: (N, 4, k x 2 spins)
        return (eps @ col_g).reshape(n, k, 4, 2).transpose(0, 2, 1, 3).reshape(n, 4, k * 2)

    # t channel, row eps1_a S1 eps2_b col: [(a, h), (b, g)]; u channel, row eps2_b S2 eps1_a col: [(b, h), (a, g)].
    amp_t = (row_side(eps1, s1, na) @ col_side(eps2, nb)).reshape(n, na, 2, nb, 2)
    amp_u = (row_side(eps2, s2, nb) @ col_side(eps1, na)).reshape(n, nb, 2, na, 2).transpose(0, 3, 2, 1, 4)
    return (amp_t + amp_u).transpose(0, 1, 3, 2, 4)


def me2_multiperipheral(p1: np.ndarray, p2: np.ndarray, k1: np.ndarray, k2: np.ndarray, p: np.ndarray, pbar: np.ndarray,
                        mass: float, *, q1sq: np.ndarray | None = None, q2sq: np.ndarray | None = None) -> np.ndarray:
    """Spin-summed |M|^2 of the two multiperipheral diagrams of e-(p1) e+(p2) -> e-(k1) e+(k2) l-(p) l+(pbar).

    Tree-level QED, masses kept everywhere: the beam e- radiates gamma*(q1 = p1 - k1), the beam
    e+ radiates gamma*(q2 = p2 - k2), and the photons produce the pair by t- and u-channel
    lepton exchange::

        sum |M|^2 = e^8 / (q1^2 q2^2)^2  L1_{mu mu'} L2_{nu nu'} sum_spins A^{mu nu} A*^{mu' nu'},

    with the lepton tensors of :func:`_photon_tensor` (reduced to three polarisation vectors
    each with the Ward identity) and the amplitudes of :func:`pair_amplitudes`. This is the
    complete two-photon ("multiperipheral") set of Budnev et al. (Phys. Rep. 15 (1975) 181,
    sect. 5; the gamma* gamma* -> l+ l- cross sections sigma_TT, sigma_TS, sigma_ST, sigma_SS,
    tau_TT, tau_TS are its components); bremsstrahlung, conversion and annihilation diagrams and,
    for l = e, the exchange (identical-particle) diagrams are not included.

    Args:
        p1, p2: (N, 4) beam e- and e+.
        k1, k2: (N, 4) scattered e- and e+.
        p, pbar: (N, 4) produced lepton and antilepton.
        mass: produced-lepton mass (GeV).
        q1sq, q2sq: optional precise virtualities q^2 < 0 (GeV^2); default from the four-vectors.

    Returns:
        (N,) spin-summed (not averaged) |M|^2, GeV^-4.
    """
    out = np.empty(len(p))
    for lo in range(0, len(p), _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        q1 = p1[sl] - k1[sl]
        q2 = p2[sl] - k2[sl]
        t1 = mdot(q1, q1) if q1sq is None else q1sq[sl]
        t2 = mdot(q2, q2) if q2sq is None else q2sq[sl]
        xx = mdot(q1, q2) ** 2 - t1 * t2
        e_x, e_y = _transverse_basis(q1, q2)
        eps1, c1 = _photon_tensor(p1[sl], k1[sl], q1, q2, t1, xx, e_x, e_y)
        eps2, c2 = _photon_tensor(p2[sl], k2[sl], q2, q1, t2, xx, e_x, e_y)
        amp = _amplitudes(p[sl], pbar[sl], q1, q2, eps1, eps2, mass, t1, t2).reshape(len(q1), 9, 4)  # [(a, b), spins]
        gram = (amp @ np.conj(np.swapaxes(amp, 1, 2))).real  # sum over spins of A_ab A*_a'b' (real part suffices)
        coeff = (c1[:, :, None, :, None] * c2[:, None, :, None, :]).reshape(len(q1), 9, 9)
        out[sl] = _E2**4 * np.sum(gram * coeff, axis=(1, 2)) / (t1 * t2) ** 2
    return out

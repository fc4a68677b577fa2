"""Phase-space helpers of the two-photon generator (``twophoton``): Breit-Wheeler cross
sections (any lepton mass), Lorentz boosts, the two samplers of the photon pair (x1, x2, Q1^2, Q2^2)
and the exact multiperipheral matrix element of e+e- -> e+e- l+l-.

Both samplers return a :class:`PhotonPairs` for the valid trials only: their positions in the
batch, scattered e- and e+ four-momenta, W0^2 = x1 x2 s, the pair rapidity Y = ln(x1/x2)/2, the
photon-flux part of the weight ``f1 f2 / pdf(ln W0^2, Y, ln Q1^2, ln Q2^2)``, the sampled
virtualities Q1^2, Q2^2 > 0 (GeV^2) and the flux product f1 f2.

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

from typing import NamedTuple

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import METRIC, mdot
from darkscan.physics.matrix_elements import GAMMA, bar, spinors_u, spinors_v

# |p_beam - p_out - x E| <= m_e for each lepton: margin (GeV) on the pair pz in the recoil window.
_PZ_MARGIN = 2e-3
#: Upper limit of the sampled photon virtuality, Q^2 <= min(Q2max_kinematic, Q2_MAX_OVER_W02 * W0^2).
#: With the exact matrix element, Q^2 in [W0^2, 10 W0^2] adds 10% to the zprime_invisible-cut eemumu
#: cross section and < 1% to the total; 100 instead of 10 changes neither beyond the 0.5% MC error.
Q2_MAX_OVER_W02 = 10.0
#: Mixture shares of the restricted photon sampler (photons_recoil), tuned on the zprime_invisible
#: cuts (recoil_cos_max 0.93): the W0 >= w0_core component and the core ln Q^2 range of the
#: restricted photon. (0.5, 0.2) gives an unweighting oversampling (tolerance 1e-3, 100k-event
#: pilots) of 4.7-4.9 in five pilots; (0.8, 0.2) saves 20% of the trials but leaves a few rare
#: events to the broad W0 component, and the pilots' bound scatters over 5.3-16.8; (0.5, 0.5)
#: 8.5-8.9. The broad components keep every density positive on the whole cut phase space, so
#: the weights stay exact for any share in (0, 1).
_W0_CORE_FRACTION = 0.5
_CORE_FRACTION = 0.2


class PhotonPairs(NamedTuple):
    """Valid trials of a photon-pair sampler (arrays over those trials)."""

    index: np.ndarray  # positions of the trials in the batch
    e1: np.ndarray  # (M, 4) scattered e-
    e2: np.ndarray  # (M, 4) scattered e+
    w02: np.ndarray  # W0^2 = x1 x2 s
    y_pair: np.ndarray  # Y = ln(x1 / x2) / 2
    factor: np.ndarray  # f1 f2 / pdf(ln W0^2, Y, ln Q1^2, ln Q2^2)
    q1sq: np.ndarray  # Q1^2 > 0
    q2sq: np.ndarray  # Q2^2 > 0
    flux: np.ndarray  # f1 f2


def sigma_gg_ll(w: np.ndarray, mass: float) -> np.ndarray:
    """Breit-Wheeler cross section sigma(gamma gamma -> l+ l-) in GeV^-2 at invariant mass w (GeV),
    lepton mass ``mass``.
    """
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
    return _apply_boost(p4, _BoostParams.of(frame))


class _BoostParams(NamedTuple):
    """The frame-dependent parts of :func:`boost`, computed once for several boosts by one frame."""

    bvec: np.ndarray  # (..., 3) velocity
    gamma: np.ndarray
    gamma_m1: np.ndarray  # gamma - 1
    moving: np.ndarray  # b2 > 0
    b2_safe: np.ndarray  # b2 where moving, else 1

    @classmethod
    def of(cls, frame: np.ndarray) -> _BoostParams:
        m = np.sqrt(np.maximum(frame[..., 0] ** 2 - np.sum(frame[..., 1:] ** 2, axis=-1), 1e-300))
        bvec = frame[..., 1:] / frame[..., :1]
        gamma = frame[..., 0] / m
        b2 = np.sum(bvec**2, axis=-1)
        moving = b2 > 0
        return cls(bvec, gamma, gamma - 1, moving, np.where(moving, b2, 1.0))

    def inverse(self) -> _BoostParams:
        """Parameters of ``inverse(frame)``: only the velocity changes sign (exactly, as there)."""
        return self._replace(bvec=-self.bvec)


def _apply_boost(p4: np.ndarray, par: _BoostParams, out: np.ndarray | None = None) -> np.ndarray:
    bp = np.sum(par.bvec * p4[..., 1:], axis=-1)
    coef = np.where(par.moving, par.gamma_m1 * bp / par.b2_safe, 0.0) + par.gamma * p4[..., 0]
    out = np.empty_like(p4) if out is None else out
    out[..., 0] = par.gamma * (p4[..., 0] + bp)
    out[..., 1:] = p4[..., 1:] + coef[..., None] * par.bvec
    return out


def inverse(frame: np.ndarray) -> np.ndarray:
    out = frame.copy()
    out[..., 1:] *= -1
    return out


def _lepton_q2_min(e_beam, x):
    """(e_out, p_out, p_beam, Q2min) of the lepton radiating a photon of fraction x."""
    m2 = ELECTRON_MASS**2
    p_beam = np.sqrt(e_beam**2 - m2)
    e_out = e_beam * (1 - x)
    p_out = np.sqrt(np.maximum(e_out**2 - m2, 0.0))
    q2_min = 2 * ((m2 * (e_beam**2 + e_out**2) - m2**2) / (e_beam * e_out + p_beam * p_out) - m2)
    return e_out, p_out, p_beam, q2_min


def _lepton_ranges(e_beam, x):
    """(e_out, p_out, p_beam, Q2min, Q2max_kinematic) of the lepton radiating a photon of fraction x."""
    e_out, p_out, p_beam, q2_min = _lepton_q2_min(e_beam, x)
    q2_kin = 2 * (e_beam * e_out - ELECTRON_MASS**2 + p_beam * p_out)
    return e_out, p_out, p_beam, q2_min, q2_kin


def _lepton(rng, n, x, q2, e_out, p_out, p_beam, q2_min, sign):
    """Scattered-lepton four-momentum at photon virtuality q2 (uniform azimuth) and the photon flux."""
    one_minus_x = 1 - x
    flux = (ALPHA_EM / np.pi) * ((one_minus_x + 0.5 * x**2) - one_minus_x * q2_min / q2)
    one_minus_cos = np.clip((q2 - q2_min) / (2 * p_beam * np.maximum(p_out, 1e-300)), 0.0, 2.0)
    cos = 1 - one_minus_cos
    sin = np.sqrt(np.maximum(one_minus_cos * (2 - one_minus_cos), 0.0))
    phi = rng.random(n) * 2 * np.pi
    p_t = p_out * sin
    p4 = np.empty(p_t.shape + (4,))
    p4[..., 0] = e_out
    np.multiply(p_t, np.cos(phi), out=p4[..., 1])
    np.multiply(p_t, np.sin(phi), out=p4[..., 2])
    np.multiply(sign * p_out, cos, out=p4[..., 3])
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
    lo_sel = np.where(use_core, lo_core, lo)
    w02 = 1.0 / (lo_sel + (hi - lo_sel) * rng.random(n))
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
    index = np.flatnonzero(ok)
    flux = (f1 * f2)[index]
    factor = flux / (pdf_lnw2 * pdf_y * pdf_q2)[index]
    return PhotonPairs(index, e1[index], e2[index], w02[index], y_pair[index], factor, q1sq[index], q2sq[index], flux)


def _restricted_q2_pdf(q2, pt_req2, inv_span_res, core_ok, core_lo, core_hi, inv_span_core):
    """Density in ln Q^2 of the restricted photon of :func:`photons_recoil` (broad + core mixture);
    ``inv_span_res``, ``inv_span_core``: 1 / span_res, 1 / span_core."""
    broad = np.where(q2 >= pt_req2, inv_span_res, 0.0)
    core = np.where(core_ok & (q2 >= core_lo) & (q2 <= core_hi), inv_span_core, 0.0)
    return np.where(core_ok, (1 - _CORE_FRACTION) * broad + _CORE_FRACTION * core, broad)


def _take(index, *arrays):
    return tuple(a[index] for a in arrays)


def photons_recoil(rng, n, sqrt_s, w_min, eta_max, pair_pt_min, y_margin, k_recoil):
    """Sampler for a cut |p_z(mu mu)| <= k_recoil p_T(mu mu) (recoil direction in a central cone).

    Order: W0^2; ln Q1^2 and ln Q2^2, log-uniform in x-independent ranges that contain the exact
    ones, [Q2min(x_lo), W0^2] (one of them above (pair_pt_min/2)^2 if pair_pt_min > 0, two
    channels as in ``photons_standard``); then Y uniform in the window allowed by the cut.
    With p_T(pair) <= Q1 + Q2 = P and p_z(pair) = W0 sinh Y + d1 - d2 (+- _PZ_MARGIN) with
    0 <= d_i = (Q_i^2 - Q2min_i) / (2 p_beam) <= Q_i^2 / (2 p_beam), the cut implies
    -k P - Q1^2/(2 p_beam) - margin <= W0 sinh Y <= k P + Q2^2/(2 p_beam) + margin,
    so the window contains all of the cut phase space (the weights stay exact).

    Trials are dropped as soon as they cannot pass (Q1 + Q2 < pair_pt_min, since each lepton
    has p_T <= Q; empty Y window; outside the exact Q^2 ranges), so the later, more expensive
    steps run on the survivors only.
    """
    s = sqrt_s**2
    e_beam = sqrt_s / 2
    p_beam = np.sqrt(e_beam**2 - ELECTRON_MASS**2)
    # Most of the cut phase space has W0^2 ~ W^2 + pT(pair)^2 above w_min^2 + pair_pt_min^2.
    w0_core = 0.95 * np.hypot(w_min, pair_pt_min) if pair_pt_min > 0 else None
    w02, pdf_lnw2 = _sample_w02(rng, n, s, w_min, w0_core, _W0_CORE_FRACTION)
    y_lim = np.minimum(0.5 * np.log(s / w02), eta_max + y_margin)
    x_lo = np.sqrt(w02 / s) * np.exp(-y_lim)
    q2_low = 0.999 * _lepton_q2_min(e_beam, x_lo)[3]
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
        big_p = np.sqrt(q1sq) + np.sqrt(q2sq)
        index = np.flatnonzero((q2_top > pt_req2) & (big_p >= pair_pt_min))  # p_T(pair) <= Q1 + Q2
        w02, pdf_lnw2, y_lim, q2_top, span_full, q1sq, q2sq, big_p, span_res, core_ok, core_hi, span_core = _take(
            index, w02, pdf_lnw2, y_lim, q2_top, span_full, q1sq, q2sq, big_p, span_res, core_ok, core_hi, span_core
        )
        res = (pt_req2, 1.0 / span_res, core_ok, core_lo, core_hi, 1.0 / span_core)
        pdf_q2 = 0.5 * (_restricted_q2_pdf(q1sq, *res) + _restricted_q2_pdf(q2sq, *res)) / span_full
    else:
        q1sq = q2_low * np.exp(rng.random(n) * span_full)
        q2sq = q2_low * np.exp(rng.random(n) * span_full)
        pdf_q2 = 1.0 / span_full**2
        big_p = np.sqrt(q1sq) + np.sqrt(q2sq)
        index = np.arange(n)
    w0 = np.sqrt(w02)
    y_lo = np.maximum(np.arcsinh((-k_recoil * big_p - q1sq / (2 * p_beam) - _PZ_MARGIN) / w0), -y_lim)
    y_hi = np.minimum(np.arcsinh((k_recoil * big_p + q2sq / (2 * p_beam) + _PZ_MARGIN) / w0), y_lim)
    width = y_hi - y_lo
    y_pair = y_lo + width * rng.random(len(index))
    w0_over_sqrt_s = w0 / sqrt_s
    x1 = w0_over_sqrt_s * np.exp(y_pair)
    x2 = w0_over_sqrt_s * np.exp(-y_pair)
    ok = (width > 0) & (x1 < 1) & (x2 < 1)
    x1, x2 = np.where(ok, x1, 0.5), np.where(ok, x2, 0.5)
    ranges = []
    for x, q2 in ((x1, q1sq), (x2, q2sq)):
        e_out, p_out, _, q2_min, q2_kin = _lepton_ranges(e_beam, x)
        ok &= (e_out > ELECTRON_MASS) & (q2 > q2_min) & (q2 < np.minimum(q2_kin, q2_top))
        ranges.append((e_out, p_out, q2_min))
    keep = np.flatnonzero(ok)
    index, w02, y_pair, q1sq, q2sq, x1, x2, width, pdf_lnw2, pdf_q2 = _take(
        keep, index, w02, y_pair, q1sq, q2sq, x1, x2, width, pdf_lnw2, pdf_q2
    )
    leptons, fluxes = [], []
    for x, q2, (e_out, p_out, q2_min), sign in ((x1, q1sq, ranges[0], 1.0), (x2, q2sq, ranges[1], -1.0)):
        p4, flux = _lepton(rng, len(keep), x, q2, e_out[keep], p_out[keep], p_beam, q2_min[keep], sign)
        leptons.append(p4)
        fluxes.append(flux)
    flux = fluxes[0] * fluxes[1]
    # pdf(Y) = 1 / width: the Y window depends on (W0, Q1, Q2) only, the same for both channels.
    factor = flux * width / (pdf_lnw2 * pdf_q2)
    return PhotonPairs(index, leptons[0], leptons[1], w02, y_pair, factor, q1sq, q2sq, flux)


# ---------------------------------------------------------------------------------------------
# Exact multiperipheral matrix element of e-(p1) e+(p2) -> e-(p1') e+(p2') l-(p) l+(pbar).
# ---------------------------------------------------------------------------------------------

#: Events per matrix-element chunk: the (2, 3, 2, 3, chunk) complex amplitudes stay in the L2 cache.
_CHUNK = 2048
_E2 = 4 * np.pi * ALPHA_EM


def pair_frame_axes(q1: np.ndarray, pair: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal three-vectors (N, 3) each in the rest frame of ``pair``: the direction of ``q1``
    there, and two unit vectors perpendicular to it (a right-handed set)."""
    return _pair_frame_axes(q1, _BoostParams.of(pair))


def _pair_frame_axes(q1: np.ndarray, pair: _BoostParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pair_frame_axes` for the boost parameters of ``pair``."""
    axis = _apply_boost(q1, pair.inverse())[:, 1:]
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
    pair = _BoostParams.of(q1 + q2)
    _, u, v = _pair_frame_axes(q1, pair)
    zero = np.zeros((len(q1), 1))
    return _apply_boost(np.concatenate([zero, u], axis=1), pair), _apply_boost(np.concatenate([zero, v], axis=1), pair)


# The amplitudes are evaluated in a "components first, events last" layout, (..., N): every
# spinor-index contraction is then a short Python loop of element-wise numpy operations over
# the events (vectorised inner loops), instead of batched products of tiny 4x4 matrices.

#: G[mu] = gamma^mu g_{mu mu} (Dirac representation), so that vslash = sum_mu v^mu G[mu].
_G = METRIC[:, None, None] * GAMMA
_SLASH_RE = np.ascontiguousarray(_G.reshape(4, 16).real.T)  # (16, 4): vslash entries = _SLASH @ v
_SLASH_IM = np.ascontiguousarray(_G.reshape(4, 16).imag.T)
_ETA = np.array([1.0, -1.0, -1.0])  # metric of the (eps_S, e_x, e_y) basis: eps_S.eps_S = 1, e.e = -1
_IDENTITY_COLUMN = np.eye(4)[:, :, None]


def _slash_columns(vectors: np.ndarray) -> np.ndarray:
    """gamma^mu v_mu for real four-vectors given as columns, (4, M) -> (4, 4, M) complex."""
    out = np.empty((16, vectors.shape[1]), dtype=complex)
    out.real = _SLASH_RE @ vectors
    out.imag = _SLASH_IM @ vectors
    return out.reshape(4, 4, -1)


def _row_times(row: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Row spinors times matrices: row (R, 4 i, N) and mat (4 i, 4 j, K, N) -> (R, 4 j, K, N)."""
    out = row[:, 0, None, None] * mat[None, 0]
    for i in range(1, 4):
        out += row[:, i, None, None] * mat[None, i]
    return out


def _times_propagator(rows: np.ndarray, prop: np.ndarray) -> np.ndarray:
    """rows (R, 4 j, K, N) times a propagator prop (4 j, 4 k, N) -> (R, 4 k, K, N)."""
    out = rows[:, 0, None] * prop[None, 0, :, None]
    for j in range(1, 4):
        out += rows[:, j, None] * prop[None, j, :, None]
    return out


def _times_column(mat: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Matrices times column spinors: mat (4 i, 4 j, K, N), col (4 j, C, N) -> (4 i, C, K, N)."""
    out = mat[:, 0, None] * col[None, 0, :, None]
    for j in range(1, 4):
        out += mat[:, j, None] * col[None, j, :, None]
    return out


def _amplitudes(p, pbar, q1, q2, eps1, eps2, mass, q1sq, q2sq):
    """Amplitudes of :func:`pair_amplitudes` in the layout (2 h, A, 2 g, B, N): lepton spin h,
    photon-1 vector a, antilepton spin g, photon-2 vector b, event.

    ubar_h [E1_a S1 E2_b + E2_b S2 E1_a] v_g with E = epsslash and S_i = (pslash - qslash_i + m) / ((p - q_i)^2 - m^2).
    """
    q1sq = mdot(q1, q1) if q1sq is None else q1sq
    q2sq = mdot(q2, q2) if q2sq is None else q2sq
    n, na, nb = len(p), eps1.shape[1], eps2.shape[1]
    mass_term = _IDENTITY_COLUMN * mass
    s1 = (_slash_columns(np.ascontiguousarray((p - q1).T)) + mass_term) / (q1sq - 2 * mdot(p, q1))
    s2 = (_slash_columns(np.ascontiguousarray((p - q2).T)) + mass_term) / (q2sq - 2 * mdot(p, q2))
    e1 = _slash_columns(np.ascontiguousarray(eps1.transpose(2, 1, 0)).reshape(4, na * n)).reshape(4, 4, na, n)
    e2 = _slash_columns(np.ascontiguousarray(eps2.transpose(2, 1, 0)).reshape(4, nb * n)).reshape(4, 4, nb, n)
    ubar = np.ascontiguousarray(bar(spinors_u(p, mass)).transpose(1, 2, 0))  # (2 h, 4, N)
    v = np.ascontiguousarray(spinors_v(pbar, mass).transpose(2, 1, 0))  # (4, 2 g, N)
    t_row, t_col = _times_propagator(_row_times(ubar, e1), s1), _times_column(e2, v)  # [h, k, a], [k, g, b]
    u_row, u_col = _times_propagator(_row_times(ubar, e2), s2), _times_column(e1, v)  # [h, k, b], [k, g, a]
    u_col = u_col.transpose(0, 2, 1, 3)  # [k, a, g]
    amp = t_row[:, 0, :, None, None] * t_col[None, 0, None] + u_row[:, 0, None, None] * u_col[None, 0, :, :, None]
    for k in range(1, 4):
        amp += t_row[:, k, :, None, None] * t_col[None, k, None]
        amp += u_row[:, k, None, None] * u_col[None, k, :, :, None]
    return amp


def pair_amplitudes(
    p: np.ndarray,
    pbar: np.ndarray,
    q1: np.ndarray,
    q2: np.ndarray,
    eps1: np.ndarray,
    eps2: np.ndarray,
    mass: float,
    *,
    q1sq: np.ndarray | None = None,
    q2sq: np.ndarray | None = None,
) -> np.ndarray:
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
    return _amplitudes(p, pbar, q1, q2, eps1, eps2, mass, q1sq, q2sq).transpose(4, 0, 2, 1, 3)


def _photon_tensor(p_in, p_out, q_other, q2_self, xx, e_x, e_y):
    """Gauge-reduced polarisation vectors and coefficients of one lepton tensor.

    The spin-summed lepton tensor of the beam line, L^{mu nu} = Tr[(p_out + m) gamma^mu
    (p_in + m) gamma^nu] = 2 [P^mu P^nu - q^mu q^nu + q^2 g^{mu nu}] with P = p_in + p_out and
    q = p_in - p_out (P.q = 0), is written in the basis (eps_S, e_x, e_y) of the space orthogonal
    to q: eps_S = (q_other - (q.q_other / q^2) q) / n (time-like, unit, n^2 = X / Q^2) and the two
    transverse vectors. Terms along q drop out of the contraction with the pair-production
    amplitude (Ward identity, which holds for any polarisation of the other photon), so the q
    component of eps_S is dropped in the vector used for the amplitude.

    Returns:
        (vectors (N, 3, 4) for the amplitude, components c (3, N)) such that
        L ~ 2 sum_ab (c_a c_b + q^2 eta_ab) eps_a eps_b, eta = diag(1, -1, -1).
    """
    big_p = p_in + p_out
    n_inv = np.sqrt(-q2_self / xx)  # 1 / n = sqrt(Q^2 / X)
    comp = np.stack([mdot(big_p, q_other) * n_inv, -mdot(big_p, e_x), -mdot(big_p, e_y)])  # P = c . (eps_S, e_x, e_y)
    vectors = np.stack([q_other * n_inv[:, None], e_x, e_y], axis=1)
    return vectors, comp


def _abs2(z: np.ndarray) -> np.ndarray:
    return z.real**2 + z.imag**2


def _contract_tensors(amp, c1, c2, t1, t2):
    """sum over spins and (a, a', b, b') of C1_aa' C2_bb' A_ab A*_a'b' for the amplitudes
    ``amp`` (2, 3 a, 2, 3 b, N) and the reduced tensors C_i = 2 (c_i c_i^T + t_i eta):

        4 [|c1.A.c2|^2 + t2 sum_b eta_b |(c1.A)_b|^2 + t1 sum_a eta_a |(A.c2)_a|^2 + t1 t2 sum_ab eta_a eta_b |A_ab|^2].
    """
    c1_amp = np.einsum("hagbn,an->hgbn", amp, c1)  # photon 1 contracted with c1: [h, g, b]
    amp_c2 = np.einsum("hagbn,bn->hagn", amp, c2)  # photon 2 contracted with c2: [h, a, g]
    both = np.einsum("hgbn,bn->hgn", c1_amp, c2)
    total = _abs2(both).sum(axis=(0, 1))
    total += t2 * np.einsum("b,hgbn->n", _ETA, _abs2(c1_amp))
    total += t1 * np.einsum("a,hagn->n", _ETA, _abs2(amp_c2))
    total += t1 * t2 * np.einsum("a,b,hagbn->n", _ETA, _ETA, _abs2(amp))
    return 4.0 * total


def me2_multiperipheral(
    p1: np.ndarray,
    p2: np.ndarray,
    k1: np.ndarray,
    k2: np.ndarray,
    p: np.ndarray,
    pbar: np.ndarray,
    mass: float,
    *,
    q1sq: np.ndarray | None = None,
    q2sq: np.ndarray | None = None,
) -> np.ndarray:
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
        eps1, c1 = _photon_tensor(p1[sl], k1[sl], q2, t1, xx, e_x, e_y)
        eps2, c2 = _photon_tensor(p2[sl], k2[sl], q1, t2, xx, e_x, e_y)
        amp = _amplitudes(p[sl], pbar[sl], q1, q2, eps1, eps2, mass, t1, t2)  # (2, 3, 2, 3, N)
        out[sl] = _E2**4 * _contract_tensors(amp, c1, c2, t1, t2) / (t1 * t2) ** 2
    return out

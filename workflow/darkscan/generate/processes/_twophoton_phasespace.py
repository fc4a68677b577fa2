"""Phase-space helpers of the two-photon generator (``twophoton``): Breit-Wheeler cross
sections (any lepton mass), Lorentz boosts and the two samplers of the photon pair (x1, x2, Q1^2, Q2^2).

Both samplers return ``(e1, e2, w02, y_pair, factor, ok)``: scattered e- and e+ four-momenta,
W0^2 = x1 x2 s, the pair rapidity Y = ln(x1/x2)/2, the photon-flux part of the weight
``f1 f2 / pdf(ln W0^2, Y, ln Q1^2, ln Q2^2)`` and a validity mask (``factor`` is 0 where not ok).
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS

# |p_beam - p_out - x E| <= m_e for each lepton: margin (GeV) on the pair pz in the recoil window.
_PZ_MARGIN = 2e-3
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
    """Sample ln Q^2 of one photon; return (scattered-lepton p4, flux density, pdf full, pdf restricted, valid).

    ``restricted`` trials draw Q^2 above the value needed for a lepton pT >= ``pt_req``
    (pT^2 <= p'/p (Q^2 - Q2min) exactly); the caller combines both densities (multi-channel).
    """
    e_out, p_out, p_beam, q2_min, q2_kin = _lepton_ranges(e_beam, x)
    q2_max = np.minimum(q2_kin, w2)
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
    return p4, np.where(valid, flux, 0.0), pdf_full, pdf_res, valid


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
    e1, f1, g1, r1, v1 = _scattered_lepton(rng, e_beam, x1, w02, +1.0, n, pt_req, restrict1)
    e2, f2, g2, r2, v2 = _scattered_lepton(rng, e_beam, x2, w02, -1.0, n, pt_req, ~restrict1 & (pair_pt_min > 0))
    pdf_q2 = 0.5 * (r1 * g2 + g1 * r2) if pair_pt_min > 0 else g1 * g2
    ok &= v1 & v2
    factor = np.where(ok, f1 * f2 / (pdf_lnw2 * pdf_y * np.where(ok, pdf_q2, 1.0)), 0.0)
    return e1, e2, w02, y_pair, factor, ok


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
    span_full = np.log(w02 / q2_low)
    pt_req2 = (0.5 * pair_pt_min) ** 2
    if pair_pt_min > 0:
        # Restricted photon: mixture of ln Q^2 uniform in [(pair_pt_min/2)^2, W0^2] (covers all
        # of the cut phase space) and a core [(0.8 pair_pt_min)^2, W0^2 - (0.8 w_min)^2] where a
        # single photon gives the pair pT and W ~ sqrt(W0^2 - pT^2) stays above w_min.
        restrict1 = rng.random(n) < 0.5
        span_res = np.log(np.maximum(w02 / pt_req2, 1.0 + 1e-12))
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
        ok = w02 > pt_req2
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
        ok &= (e_out > ELECTRON_MASS) & (q2 > q2_min) & (q2 < np.minimum(q2_kin, w02))
        p4, flux = _lepton(rng, n, x, q2, e_out, p_out, p_beam, q2_min, sign)
        leptons.append(p4)
        fluxes.append(flux)
    # pdf(Y) = 1 / width: the Y window depends on (W0, Q1, Q2) only, the same for both channels.
    factor = np.where(ok, fluxes[0] * fluxes[1] * width / (pdf_lnw2 * np.where(ok, pdf_q2, 1.0)), 0.0)
    return leptons[0], leptons[1], w02, y_pair, factor, ok

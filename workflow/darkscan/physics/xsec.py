"""Monte Carlo integration of e+ e- -> mu- mu+ V over three-body phase space.

Phase space is parametrised as V(k) recoiling against the muon pair Q = p3 + p4:

    dPhi_3 = |k| |p*| / (256 pi^5 Q) domega dOmega_k dOmega*,

omega, Omega_k the V energy and direction in the CM frame, Omega* the mu- direction in the
Q rest frame measured from the V direction (the axis of the collinear singularities).
Importance sampling (mixtures, so every region keeps a flat component):

* omega ~ 1/omega (soft V) mixed with Q^2 ~ 1/Q^2 (radiative return, ISR photon propagator);
* cos(theta_k) ~ 1/(1 - beta_e^2 cos^2) mixed with flat (ISR collinear to the beams);
* cos(alpha*) ~ 1/(1 - b cos) + 1/(1 + b cos) mixed with flat, b from the exact FSR
  propagator denominators 2 p.k + M^2 (V collinear to a muon).

Weights are in fb per event: sum(weight) estimates the cross section of the sampled region.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from darkscan.events import CrossSection
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB, MUON_MASS
from darkscan.physics.kinematics import boost, orthonormal_frame
from darkscan.physics.matrix_elements import me2_mumu_v


@dataclasses.dataclass(frozen=True)
class MuMuVEvents:
    """Weighted e-(p1) e+(p2) -> mu-(p3) mu+(p4) V(k) events in the CM frame (+z = e-)."""

    p1: np.ndarray
    p2: np.ndarray
    p3: np.ndarray
    p4: np.ndarray
    k: np.ndarray
    weight: np.ndarray


def sigma_born_mumu(sqrt_s: float, *, m_mu: float = MUON_MASS) -> float:
    """Born sigma(e+e- -> mu+mu-) in fb: 4 pi alpha^2/(3s) * beta (3 - beta^2)/2 (m_e neglected)."""
    s = sqrt_s**2
    beta = np.sqrt(max(0.0, 1.0 - 4.0 * m_mu**2 / s))
    return float(4.0 * np.pi * ALPHA_EM**2 / (3.0 * s) * beta * (3.0 - beta**2) / 2.0 * GEV2_TO_FB)


def _beams(n: int, sqrt_s: float, m_e: float) -> tuple[np.ndarray, np.ndarray]:
    e = sqrt_s / 2.0
    pz = np.sqrt(e * e - m_e * m_e)
    p1 = np.tile([e, 0.0, 0.0, pz], (n, 1))
    p2 = np.tile([e, 0.0, 0.0, -pz], (n, 1))
    return p1, p2


def _sample_omega(n, rng, sqrt_s, mass, omega_lo, omega_hi, q2_lo, f_rr):
    """omega from the mixture (1 - f_rr) * [1/omega] + f_rr * [1/Q^2]; returns omega, pdf."""
    s = sqrt_s**2
    q2_hi = s + mass**2 - 2.0 * sqrt_s * omega_lo
    l_soft = np.log(omega_hi / omega_lo)
    l_rr = np.log(q2_hi / q2_lo)
    u = rng.random(n)
    omega_soft = omega_lo * np.exp(u * l_soft)
    q2 = q2_lo * np.exp(u * l_rr)
    omega_rr = (s + mass**2 - q2) / (2.0 * sqrt_s)
    omega = np.where(rng.random(n) < f_rr, omega_rr, omega_soft)
    q2 = s + mass**2 - 2.0 * sqrt_s * omega
    pdf = (1.0 - f_rr) / (omega * l_soft) + f_rr * 2.0 * sqrt_s / (q2 * l_rr)
    return omega, q2, pdf


def _sample_peaked_cos(n, rng, b, lo, hi, f_flat):
    """cos from f_flat * flat + (1 - f_flat) * [1/(1 - b c) + 1/(1 + b c)] on [lo, hi]."""
    b = np.clip(b, 1e-6, 1.0 - 1e-15)  # a scalar (beam axis) or one value per point
    at_lo, at_hi = np.arctanh(b * lo), np.arctanh(b * hi)
    # The symmetric combination 2/(1 - b^2 c^2) has primitive (2/b) artanh(b c).
    c_peak = np.tanh(at_lo + rng.random(n) * (at_hi - at_lo)) / b
    c_flat = lo + rng.random(n) * (hi - lo)
    c = np.where(rng.random(n) < f_flat, c_flat, c_peak)
    peak_pdf = b / (at_hi - at_lo) / (1.0 - (b * c) ** 2)
    return c, f_flat / (hi - lo) + (1.0 - f_flat) * peak_pdf


def sample_mumu_v(
    n: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float,
    omega_min: float | None = None,
    omega_max: float | None = None,
    cos_k_range: tuple[float, float] = (-1.0, 1.0),
    radiative_return_fraction: float = 0.0,
    beam_collinear_fraction: float = 0.0,
    muon_flat_fraction: float = 0.3,
    m_mu: float = MUON_MASS,
    m_e: float = ELECTRON_MASS,
) -> MuMuVEvents:
    """Sample three-body phase space; ``weight`` is flux * dPhi_3 / pdf in fb per event per unit |M|^2.

    Args:
        n: number of points.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: V mass in GeV (0 allowed with ``omega_min`` > 0).
        omega_min: minimum CM V energy (defaults to the mass).
        omega_max: maximum CM V energy (defaults to the kinematic limit).
        cos_k_range: range of the V polar cosine in the CM frame.
        radiative_return_fraction: mixture fraction of the 1/Q^2 component.
        beam_collinear_fraction: mixture fraction of the 1/(1 - beta_e^2 cos^2) component.
        muon_flat_fraction: mixture fraction of the flat component of cos(alpha*) (the rest
            is peaked along the V direction, FSR collinear to a muon).
        m_mu: muon mass.
        m_e: electron mass.
    """
    s = sqrt_s**2
    omega_lo = max(float(mass), float(omega_min or 0.0))
    omega_hi = (s + mass**2 - 4.0 * m_mu**2) / (2.0 * sqrt_s)
    q2_lo = 4.0 * m_mu**2  # the pair mass squared at omega_hi
    if omega_max is not None and omega_max < omega_hi:
        omega_hi = float(omega_max)
        q2_lo = s + mass**2 - 2.0 * sqrt_s * omega_hi
    if omega_lo <= 0.0 or omega_lo >= omega_hi:
        raise ValueError(f"empty V-energy range [{omega_lo}, {omega_hi}] GeV")
    omega, q2, pdf_omega = _sample_omega(n, rng, sqrt_s, mass, omega_lo, omega_hi, q2_lo, radiative_return_fraction)
    kabs = np.sqrt(np.clip(omega**2 - mass**2, 0.0, None))
    # V direction in the CM frame.
    beta_e = np.sqrt(1.0 - 4.0 * m_e**2 / s)
    cos_k, pdf_cos_k = _sample_peaked_cos(n, rng, beta_e, cos_k_range[0], cos_k_range[1], 1.0 - beam_collinear_fraction)
    phi_k = rng.uniform(0.0, 2.0 * np.pi, n)
    frame = orthonormal_frame(cos_k, phi_k)
    # Muon pair rest frame: V energy/momentum and muon momentum there.
    qm = np.sqrt(q2)
    omega_star = (s - q2 - mass**2) / (2.0 * qm)
    k_star = np.sqrt(np.clip(omega_star**2 - mass**2, 0.0, None))
    p_star = np.sqrt(np.clip(q2 / 4.0 - m_mu**2, 0.0, None))
    e_star = qm / 2.0
    b = 2.0 * p_star * k_star / (2.0 * e_star * omega_star + mass**2)
    cos_a, pdf_cos_a = _sample_peaked_cos(n, rng, b, -1.0, 1.0, muon_flat_fraction)
    phi_a = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_a = np.sqrt(np.clip(1.0 - cos_a**2, 0.0, None))
    e1, e2, nk = frame
    dirs = (sin_a * np.cos(phi_a))[:, None] * e1 + (sin_a * np.sin(phi_a))[:, None] * e2 + cos_a[:, None] * nk
    muons = np.empty((2, n, 4))  # mu-, mu+ in the pair rest frame, boosted together
    muons[0, :, 0] = e_star
    muons[0, :, 1:] = p_star[:, None] * dirs
    muons[1, :, 0] = e_star
    np.negative(muons[0, :, 1:], out=muons[1, :, 1:])
    beta_q = -(kabs / (sqrt_s - omega))[:, None] * nk
    p3, p4 = boost(muons, beta_q)
    k = np.empty((n, 4))
    k[:, 0] = omega
    k[:, 1:] = kabs[:, None] * nk
    p1, p2 = _beams(n, sqrt_s, m_e)
    flux = 2.0 * s * beta_e
    dphi = kabs * p_star / (256.0 * np.pi**5 * qm)
    pdf = pdf_omega * pdf_cos_k * pdf_cos_a / (4.0 * np.pi**2)
    weight = dphi / pdf / flux * GEV2_TO_FB / n
    return MuMuVEvents(p1, p2, p3, p4, k, weight)


def weighted_mumu_v(
    n: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float,
    g: float,
    g_e: float = 0.0,
    fsr: bool = True,
    isr: bool = False,
    **sampling,
) -> MuMuVEvents:
    """Sample phase space (see :func:`sample_mumu_v`) and weight by the exact |M|^2; weights in fb."""
    ps = sample_mumu_v(n, rng, sqrt_s=sqrt_s, mass=mass, **sampling)
    me2 = me2_mumu_v(ps.p1, ps.p2, ps.p3, ps.p4, ps.k, g=g, g_e=g_e, fsr=fsr, isr=isr)
    return dataclasses.replace(ps, weight=ps.weight * me2)


def cross_section(weights: np.ndarray, n_total: int | None = None) -> CrossSection:
    """Sum of weights and its MC error sqrt(sum w^2 - (sum w)^2 / N)."""
    w = np.asarray(weights, float)
    n = len(w) if n_total is None else n_total
    total = float(w.sum())
    err2 = float((w**2).sum()) - total**2 / n
    return CrossSection(total, float(np.sqrt(max(err2, 0.0))))


def sigma_mumu_zprime(mass: float, *, sqrt_s: float, rng: np.random.Generator, n_events: int = 200_000) -> CrossSection:
    """sigma(e+e- -> mu+ mu- Z') / g'^2 in fb (Z' radiated from the muons, tree level).

    Args:
        mass: Z' mass in GeV, 0 < mass < sqrt_s - 2 m_mu.
        sqrt_s: CM energy in GeV.
        rng: random generator (the result is deterministic for a given generator state).
        n_events: number of Monte Carlo points.
    """
    if not 0.0 < mass < sqrt_s - 2.0 * MUON_MASS:
        raise ValueError(
            f"Z' mass {mass} GeV outside the allowed range (0, {sqrt_s - 2.0 * MUON_MASS:.4f}) GeV "
            f"at sqrt_s = {sqrt_s} GeV"
        )
    ev = weighted_mumu_v(n_events, rng, sqrt_s=sqrt_s, mass=mass, g=1.0, radiative_return_fraction=0.1)
    return cross_section(ev.weight)

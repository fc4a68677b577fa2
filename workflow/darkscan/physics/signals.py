"""Closed-form tree-level cross sections and widths of dark-sector signals at e+e- colliders.

Conventions: massless e+-, CM energy ``sqrt_s`` in GeV, cross sections in fb, widths in GeV,
x = m^2/s. Polar angles are those of the recoiling photon (or A') in the CM frame, +z = e-.
Every formula is checked in ``tests/physics/test_signals.py`` against a numerical
integration of a spin-summed |M|^2 evaluated with explicit Dirac matrices.

Sources:

* ALP, L = -(g/4) a F F~: sigma(e+e- -> gamma a) = alpha g^2/24 (1 - x)^3 with
  dsigma/dcos ~ 1 + cos^2 (Dolan, Ferber, Hearty, Kahlhoefer, Schmidt-Hoberg, JHEP 12 (2017)
  094, eq. 2.4; Belle II Physics Book PTEP 2019 123C01, sec. 5.3); Gamma(a -> gamma gamma)
  = g^2 m^3/(64 pi) (same references).
* Dark photon (coupling eps e to the electromagnetic current), e+e- -> gamma A' with the
  e+e- -> gamma Z |M|^2 (Berends & Kleiss, Nucl. Phys. B177 (1981) 237 structure; Essig,
  Mardon, Papucci, Volansky, Zhong, JHEP 11 (2013) 167, eq. 2.2):
  dsigma/dcos = (2 pi alpha^2 eps^2/s) [(1 - x)(1 + c^2) + 4x/(1 - x)] / (1 - c^2).
  Integrated over |c| < c0 this gives a closed form (sigma_gamma_darkphoton); for x -> 0 it
  is 2 eps^2 sigma_Born(e+e- -> gamma gamma) in the same acceptance (derived and tested).
* Dark Higgsstrahlung (Batell, Pospelov, Ritz, PRD 79 (2009) 115008, eq. 11; the SM
  Higgsstrahlung structure with the Z replaced by A'), vertex 2 g_D m_A' g^{mu nu} for h'A'A':
  sigma = (pi alpha alpha_D eps^2/(3s)) lambda^1/2 (lambda + 12 x_A)/(1 - x_A)^2,
  dsigma/dcos ~ 8 x_A + lambda sin^2(theta), lambda = lambda(1, x_A, x_h).
* A' widths: Gamma(A' -> l l) = (alpha eps^2 m/3)(1 + 2r) sqrt(1 - 4r), r = m_l^2/m^2;
  Gamma(A' -> hadrons) = (alpha eps^2 m/3) R(m) (Batell, Pospelov, Ritz, PRD 80 (2009) 095024;
  Bjorken, Essig, Schuster, Toro, PRD 80 (2009) 075018); Gamma(A' -> chi chi) for a Dirac
  fermion of coupling g_D = sqrt(4 pi alpha_D): (alpha_D m/3)(1 + 2r) sqrt(1 - 4r).

R(m) is a documented approximation (:func:`r_ratio`), good to about 10-30%.
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB, MUON_MASS, TAU_MASS
from darkscan.physics.kinematics import kallen

PION_MASS = 0.13957039  # GeV, PDG 2024 (charged pion)

#: Vector mesons (PDG 2024): mass, total width, Gamma(ee) in GeV, hadronic branching fraction.
VECTOR_MESONS = {
    "rho": (0.77526, 0.1491, 7.04e-6, 1.0),
    "omega": (0.78266, 8.68e-3, 0.60e-6, 0.985),  # 1 - BF(e e, mu mu, eta gamma...) ~ hadrons + pi0 gamma
    "phi": (1.019461, 4.249e-3, 1.263e-6, 0.9994),
}
#: Open-charm threshold (2 m_D0) above which R gains 3 (2/3)^2; narrow J/psi, psi(2S) omitted.
CHARM_THRESHOLD = 3.73


def cos_range(
    theta_min: float | None, theta_max: float | None, *, default: tuple[float, float] = (0.0, 180.0)
) -> tuple[float, float]:
    """Return (cos(theta_max), cos(theta_min)) for CM polar angles in degrees, checking the range."""
    lo = default[0] if theta_min is None else float(theta_min)
    hi = default[1] if theta_max is None else float(theta_max)
    if not 0.0 <= lo < hi <= 180.0:
        raise ValueError(f"need 0 <= theta_min < theta_max <= 180 degrees, got {lo}, {hi}")
    return float(np.cos(np.radians(hi))), float(np.cos(np.radians(lo)))


def symmetric_cos_range(
    theta_min: float | None, theta_max: float | None, *, default: tuple[float, float] = (0.0, 180.0)
) -> tuple[float, float]:
    """Cosine range of particle 1 such that it AND its back-to-back partner are in [theta_min, theta_max]."""
    a, b = cos_range(theta_min, theta_max, default=default)
    lo, hi = max(a, -b), min(b, -a)
    if lo >= hi:
        raise ValueError(f"no back-to-back configuration with both particles in [{theta_min}, {theta_max}] degrees")
    return lo, hi


def _check_mass(name: str, mass: float, upper: float, what: str) -> float:
    if mass is None or not 0.0 <= float(mass) < upper:
        raise ValueError(f"{name} mass {mass} GeV is outside the allowed range [0, {upper:.4f}) GeV ({what})")
    return float(mass)


# ---------------------------------------------------------------------------------------------
# Axion-like particle


def dsigma_gamma_alp_dcos(cos_theta: np.ndarray | float, *, sqrt_s: float, mass: float, g_agg: float) -> np.ndarray:
    """dsigma/dcos(theta_gamma)(e+e- -> gamma a) in fb: (alpha g^2/64)(1 - x)^3 (1 + c^2)."""
    x = mass**2 / sqrt_s**2
    c = np.asarray(cos_theta, float)
    return ALPHA_EM * g_agg**2 / 64.0 * (1.0 - x) ** 3 * (1.0 + c * c) * GEV2_TO_FB


def sigma_gamma_alp(*, sqrt_s: float, mass: float, g_agg: float, cos_min: float = -1.0, cos_max: float = 1.0) -> float:
    """sigma(e+e- -> gamma a) in fb, photon with cos(theta) in [cos_min, cos_max] (CM).

    Full range: alpha g_agg^2/24 (1 - m^2/s)^3 (Dolan et al., JHEP 12 (2017) 094).

    Args:
        sqrt_s: CM energy in GeV.
        mass: ALP mass in GeV, below sqrt_s.
        g_agg: ALP-photon coupling in GeV^-1.
        cos_min: lower edge of the photon polar cosine.
        cos_max: upper edge.
    """
    _check_mass("ALP", mass, sqrt_s, f"sqrt_s = {sqrt_s} GeV")
    x = mass**2 / sqrt_s**2
    frac = 3.0 / 8.0 * ((cos_max - cos_min) + (cos_max**3 - cos_min**3) / 3.0)
    return float(ALPHA_EM * g_agg**2 / 24.0 * (1.0 - x) ** 3 * frac * GEV2_TO_FB)


def width_alp_gammagamma(mass: float | np.ndarray, g_agg: float) -> np.ndarray:
    """Gamma(a -> gamma gamma) = g^2 m^3/(64 pi) in GeV (g in GeV^-1)."""
    return np.asarray(g_agg, float) ** 2 * np.asarray(mass, float) ** 3 / (64.0 * np.pi)


# ---------------------------------------------------------------------------------------------
# Born e+e- -> gamma gamma and the dark photon


def dsigma_gammagamma_dcos(cos_theta: np.ndarray | float, *, sqrt_s: float) -> np.ndarray:
    """Born dsigma/dcos(e+e- -> gamma gamma), massless e: (2 pi alpha^2/s)(1 + c^2)/(1 - c^2), fb.

    Derived from (1/4) sum |M|^2 = 2 e^4 (u/t + t/u). Integrating over a range counts each
    event twice (identical photons): the cross section is half the integral.
    """
    c = np.asarray(cos_theta, float)
    return 2.0 * np.pi * ALPHA_EM**2 / sqrt_s**2 * (1.0 + c * c) / (1.0 - c * c) * GEV2_TO_FB


def sigma_gammagamma(*, sqrt_s: float, cos_min: float, cos_max: float) -> float:
    """Born sigma(e+e- -> gamma gamma) in fb with BOTH photons in cos in [cos_min, cos_max].

    For |c| < c0: (2 pi alpha^2/s)[ln((1 + c0)/(1 - c0)) - c0].
    """
    lo, hi = max(cos_min, -cos_max), min(cos_max, -cos_min)
    if lo >= hi:
        return 0.0
    integral = 2.0 * (np.arctanh(hi) - np.arctanh(lo)) - (hi - lo)
    return float(0.5 * 2.0 * np.pi * ALPHA_EM**2 / sqrt_s**2 * integral * GEV2_TO_FB)


def dsigma_gamma_darkphoton_dcos(
    cos_theta: np.ndarray | float, *, sqrt_s: float, mass: float, eps: float
) -> np.ndarray:
    """dsigma/dcos(theta_gamma)(e+e- -> gamma A') in fb (massless e, eps e coupling)."""
    x = mass**2 / sqrt_s**2
    c = np.asarray(cos_theta, float)
    return (
        2.0
        * np.pi
        * ALPHA_EM**2
        * eps**2
        / sqrt_s**2
        * ((1.0 - x) * (1.0 + c * c) + 4.0 * x / (1.0 - x))
        / (1.0 - c * c)
        * GEV2_TO_FB
    )


def sigma_gamma_darkphoton(*, sqrt_s: float, mass: float, eps: float, cos_min: float, cos_max: float) -> float:
    """sigma(e+e- -> gamma A') in fb, photon with cos(theta) in [cos_min, cos_max], |cos| < 1.

    (2 pi alpha^2 eps^2/s)[2 A (1 + x^2)/(1 - x) - (1 - x)(cos_max - cos_min)],
    A = artanh(cos_max) - artanh(cos_min); for |c| < c0 this is the DESIGN formula
    (4 pi alpha^2 eps^2/s)[(1 + x^2)/(1 - x) ln((1 + c0)/(1 - c0)) - (1 - x) c0].
    """
    _check_mass("dark photon", mass, sqrt_s, f"sqrt_s = {sqrt_s} GeV")
    if not -1.0 < cos_min < cos_max < 1.0:
        raise ValueError(f"gamma A': need -1 < cos_min < cos_max < 1 (collinear divergence), got {cos_min}, {cos_max}")
    x = mass**2 / sqrt_s**2
    a = np.arctanh(cos_max) - np.arctanh(cos_min)
    bracket = 2.0 * a * (1.0 + x * x) / (1.0 - x) - (1.0 - x) * (cos_max - cos_min)
    return float(2.0 * np.pi * ALPHA_EM**2 * eps**2 / sqrt_s**2 * bracket * GEV2_TO_FB)


def _alpha_s(q: np.ndarray) -> np.ndarray:
    """One-loop alpha_s(Q), n_f = 3, from alpha_s(m_tau) = 0.33 (PDG); frozen below 1.5 GeV."""
    q = np.maximum(q, 1.5)
    b0 = 27.0 / (12.0 * np.pi)
    return 0.33 / (1.0 + 0.33 * b0 * np.log(q**2 / TAU_MASS**2))


def r_ratio(mass: float | np.ndarray) -> np.ndarray:
    """R(sqrt s) = sigma(e+e- -> hadrons)/sigma_point(e+e- -> mu mu), approximate parametrisation.

    Chosen model (vector-meson dominance plus continuum):

    * omega, phi: relativistic Breit-Wigners sigma_V = 12 pi Gamma_ee Gamma_had/((s - M^2)^2
      + M^2 Gamma^2) (PDG 2024 masses, widths, Gamma_ee), i.e. R = 9 Gamma_ee BF_had/(alpha^2
      Gamma) at the peak;
    * rho: the vector-dominance pion form factor, R = beta^3 |F|^2/4 with |F|^2 = M^4/((s -
      M^2)^2 + M^2 Gamma(s)^2), p-wave running width Gamma(s) = Gamma (M/sqrt s)(p/p_M)^3,
      rescaled to the same peak R as its Gamma_ee (the plain form factor undershoots the
      measured peak, a Breit-Wigner with running width overshoots the tails);
      no rho-omega interference (changes R by < 20% near 0.78 GeV);
    * multi-hadron continuum 3 sum(q^2) (1 + alpha_s/pi) for u, d, s, switched on smoothly
      (tanh step at 1.15 GeV, width 0.12 GeV), plus charm 3 (2/3)^2 (1 + alpha_s/pi) above
      2 m_D = 3.73 GeV (smooth step, width 0.05 GeV). Narrow charmonia (J/psi, psi(2S)) and the
      Upsilons are omitted: they matter only within a few widths of their masses.

    Good to about 10% above 2 GeV and 20-50% between 1.0 and 2 GeV (cf. the PDG R compilation).

    Args:
        mass: sqrt(s) in GeV (A' mass).
    """
    m = np.asarray(mass, float)
    s = m * m
    r = np.zeros_like(m)
    for name, (mv, gam, gee, bf_had) in VECTOR_MESONS.items():
        peak = 9.0 * gee * bf_had / (ALPHA_EM**2 * gam)  # R at s = M^2 of the Breit-Wigner
        if name == "rho":
            # Pion form-factor shape beta^3 |F|^2 (p-wave running width), normalised to the peak.
            beta3 = np.clip(1.0 - 4.0 * PION_MASS**2 / np.maximum(s, 1e-12), 0.0, None) ** 1.5
            beta3_m = (1.0 - 4.0 * PION_MASS**2 / mv**2) ** 1.5
            g_s = gam * (mv / np.maximum(m, 1e-9)) * (beta3 / beta3_m) * (m / mv) ** 3
            r += peak * beta3 / beta3_m * mv**2 * gam**2 / ((s - mv**2) ** 2 + mv**2 * g_s**2)
        else:
            r += peak * (m > 3 * PION_MASS) * s * mv**2 * gam**2 / (mv**2 * ((s - mv**2) ** 2 + mv**2 * gam**2))
    qcd = 1.0 + _alpha_s(m) / np.pi
    r += 2.0 * qcd * 0.5 * (1.0 + np.tanh((m - 1.15) / 0.12)) * (m > 4 * PION_MASS)  # 4 pi threshold
    r += 4.0 / 3.0 * qcd * 0.5 * (1.0 + np.tanh((m - CHARM_THRESHOLD) / 0.05))
    return r


def width_darkphoton_ll(mass: float | np.ndarray, eps: float, lepton_mass: float) -> np.ndarray:
    """Gamma(A' -> l+ l-) = (alpha eps^2 m/3)(1 + 2r) sqrt(1 - 4r), zero below threshold (GeV)."""
    m = np.asarray(mass, float)
    r = lepton_mass**2 / m**2
    beta = np.sqrt(np.clip(1.0 - 4.0 * r, 0.0, None))
    return ALPHA_EM * eps**2 * m / 3.0 * (1.0 + 2.0 * r) * beta


def width_darkphoton_hadrons(mass: float | np.ndarray, eps: float) -> np.ndarray:
    """Gamma(A' -> hadrons) = (alpha eps^2 m/3) R(m) (GeV)."""
    m = np.asarray(mass, float)
    return ALPHA_EM * eps**2 * m / 3.0 * r_ratio(m)


def width_darkphoton_chi(mass: float | np.ndarray, alpha_d: float, m_chi: float) -> np.ndarray:
    """Gamma(A' -> chi chibar), Dirac chi with coupling sqrt(4 pi alpha_D): (alpha_D m/3)(1+2r)beta."""
    m = np.asarray(mass, float)
    r = m_chi**2 / m**2
    beta = np.sqrt(np.clip(1.0 - 4.0 * r, 0.0, None))
    return alpha_d * m / 3.0 * (1.0 + 2.0 * r) * beta


#: Decay scenarios: "visible" (SM final states only), "invisible" (BF(invisible) = 1),
#: "dark" (SM widths plus A' -> chi chi with alpha_d and m_chi).
DARKPHOTON_SCENARIOS = ("visible", "invisible", "dark")
DARKPHOTON_DECAYS = ("ee", "mumu", "tautau", "hadrons", "invisible")


def darkphoton_widths(
    mass: float | np.ndarray, *, eps: float = 1.0, alpha_d: float = 0.0, m_chi: float = 0.0
) -> dict[str, np.ndarray]:
    """Partial widths of the dark photon (GeV) for each of :data:`DARKPHOTON_DECAYS`."""
    return {
        "ee": width_darkphoton_ll(mass, eps, ELECTRON_MASS),
        "mumu": width_darkphoton_ll(mass, eps, MUON_MASS),
        "tautau": width_darkphoton_ll(mass, eps, TAU_MASS),
        "hadrons": width_darkphoton_hadrons(mass, eps),
        "invisible": width_darkphoton_chi(mass, alpha_d, m_chi)
        if alpha_d > 0
        else np.zeros_like(np.asarray(mass, float)),
    }


def darkphoton_branching_fraction(
    mass: float | np.ndarray,
    decay: str,
    *,
    scenario: str = "visible",
    eps: float = 1e-3,
    alpha_d: float = 0.5,
    m_chi: float = 0.0,
) -> np.ndarray:
    """BF(A' -> decay) in a scenario.

    Args:
        mass: A' mass(es) in GeV.
        decay: one of :data:`DARKPHOTON_DECAYS`.
        scenario: "visible" (no dark decays; eps drops out), "invisible" (BF(invisible) = 1,
            e.g. alpha_D >> alpha eps^2 with m_chi < m/2), or "dark" (uses eps, alpha_d, m_chi).
        eps: kinetic-mixing parameter (only for "dark").
        alpha_d: dark coupling alpha_D (only for "dark").
        m_chi: dark-matter (Dirac) mass in GeV (only for "dark").
    """
    if scenario not in DARKPHOTON_SCENARIOS:
        raise ValueError(f"unknown dark-photon scenario {scenario!r}; allowed: {DARKPHOTON_SCENARIOS}")
    if decay not in DARKPHOTON_DECAYS:
        raise ValueError(f"unknown dark-photon decay {decay!r}; allowed: {DARKPHOTON_DECAYS}")
    m = np.asarray(mass, float)
    if scenario == "invisible":
        return np.where(decay == "invisible", 1.0, 0.0) * np.ones_like(m)
    widths = darkphoton_widths(
        m, eps=eps if scenario == "dark" else 1.0, alpha_d=alpha_d if scenario == "dark" else 0.0, m_chi=m_chi
    )
    total = sum(widths.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, widths[decay] / total, 0.0)


# ---------------------------------------------------------------------------------------------
# Dark Higgsstrahlung


def sigma_darkhiggsstrahlung(*, sqrt_s: float, mass_ap: float, mass_h: float, eps2_alpha_d: float) -> float:
    """sigma(e+e- -> A' h') in fb (Batell, Pospelov, Ritz, PRD 79 (2009) 115008).

    (pi alpha alpha_D eps^2/(3s)) lambda^1/2 (lambda + 12 x_A)/(1 - x_A)^2, x_A = m_A'^2/s,
    lambda = lambda(1, x_A, x_h). h'A'A' vertex 2 g_D m_A' (m_A' = g_D v_D).

    Args:
        sqrt_s: CM energy in GeV.
        mass_ap: A' mass in GeV (> 0).
        mass_h: h' mass in GeV (>= 0), mass_ap + mass_h < sqrt_s.
        eps2_alpha_d: eps^2 alpha_D.
    """
    if not (mass_ap > 0.0 and mass_h >= 0.0 and mass_ap + mass_h < sqrt_s):
        raise ValueError(
            f"dark Higgsstrahlung: need m_A' > 0, m_h' >= 0 and m_A' + m_h' < sqrt_s = {sqrt_s} GeV, "
            f"got m_A' = {mass_ap}, m_h' = {mass_h} GeV"
        )
    s = sqrt_s**2
    xa, xh = mass_ap**2 / s, mass_h**2 / s
    lam = float(kallen(1.0, xa, xh))
    return float(
        np.pi * ALPHA_EM * eps2_alpha_d / (3.0 * s) * np.sqrt(lam) * (lam + 12.0 * xa) / (1.0 - xa) ** 2 * GEV2_TO_FB
    )


def darkhiggsstrahlung_angular(
    cos_theta: np.ndarray | float, *, sqrt_s: float, mass_ap: float, mass_h: float
) -> np.ndarray:
    """Normalised dsigma/dcos(theta_A') / sigma = 3 [8 x_A + lambda (1 - c^2)]/(4 (lambda + 12 x_A))."""
    s = sqrt_s**2
    xa, xh = mass_ap**2 / s, mass_h**2 / s
    lam = float(kallen(1.0, xa, xh))
    c = np.asarray(cos_theta, float)
    return 3.0 * (8.0 * xa + lam * (1.0 - c * c)) / (4.0 * (lam + 12.0 * xa))

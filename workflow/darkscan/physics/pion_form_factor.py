"""The pion's electromagnetic form factor in the time-like region and e+e- -> pi+ pi-.

F_pi(s) is the Gounaris-Sakurai rho(770) (G. J. Gounaris and J. J. Sakurai, Phys. Rev. Lett.
21 (1968) 244) times the rho-omega interference factor (1 + delta s / m_omega^2 BW_omega(s)) /
(1 + delta), the form used in the e+e- -> pi+ pi- analyses (e.g. BaBar, Phys. Rev. D 86 (2012)
032013, App. B, which adds higher rho states that are left out here):

    BW_GS(s) = m^2 (1 + d Gamma / m) / (m^2 - s + f(s) - i m Gamma(s)),
    Gamma(s) = Gamma (m / sqrt(s)) (k(s) / k(m^2))^3,   k(s) = sqrt(s / 4 - m_pi^2),
    f(s) = Gamma m^2 / k(m^2)^3 [k(s)^2 (h(s) - h(m^2)) + (m^2 - s) k(m^2)^2 h'(m^2)],
    h(s) = (2 / pi) (k(s) / sqrt(s)) ln((sqrt(s) + 2 k(s)) / (2 m_pi)),
    d = (3 / pi) m_pi^2 / k(m^2)^2 ln((m + 2 k(m^2)) / (2 m_pi)) + m / (2 pi k(m^2))
        - m_pi^2 m / (pi k(m^2)^3),

where d makes F_pi(0) = 1 (Gounaris and Sakurai). Masses and widths are PDG 2024's (rho(770)
from e+e- -> pi+ pi-: 775.26 and 149.1 MeV; omega(782): 782.66 and 8.68 MeV); delta = 1.9e-3 is ASSUMED, of the size the
fits find (|delta| ~ 2e-3, with a small phase neglected here). Above ~1.2 GeV the rho(1450) and
rho(1700) the fits add are missing: the form factor is then too small (it falls as 1 / s).

sigma(e+e- -> pi+ pi-) = pi alpha^2 beta^3 |F_pi(s)|^2 / (3 s) (Born, point-like electrons).
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, PION_MASS

RHO_MASS = 0.77526  # GeV, PDG 2024 (e+e- -> pi+ pi-, tau decays averaged separately)
RHO_WIDTH = 0.1491  # GeV, PDG 2024
OMEGA_MASS = 0.78266  # GeV, PDG 2024
OMEGA_WIDTH = 0.00868  # GeV, PDG 2024
RHO_OMEGA_DELTA = 1.9e-3  # ASSUMED (see the module docstring)


def _k(s: np.ndarray) -> np.ndarray:
    """Pion momentum in the pi pi rest frame (GeV), sqrt(s / 4 - m_pi^2), zero below threshold."""
    return np.sqrt(np.clip(np.asarray(s, float) / 4.0 - PION_MASS**2, 0.0, None))


def _h(s: np.ndarray) -> np.ndarray:
    root = np.sqrt(s)
    k = _k(s)
    return 2.0 / np.pi * k / root * np.log((root + 2.0 * k) / (2.0 * PION_MASS))


def _h_prime(s: float) -> float:
    """dh/ds, analytic: h = (2 / pi) (k / sqrt(s)) L with L = ln((sqrt(s) + 2k) / (2 m_pi))."""
    root, k = np.sqrt(s), float(_k(s))
    dk = 1.0 / (8.0 * k)  # dk/ds
    dlog = (1.0 / (2.0 * root) + 2.0 * dk) / (root + 2.0 * k)
    log = np.log((root + 2.0 * k) / (2.0 * PION_MASS))
    return float(2.0 / np.pi * ((dk / root - k / (2.0 * root**3)) * log + k / root * dlog))


def gounaris_sakurai(s: np.ndarray, mass: float = RHO_MASS, width: float = RHO_WIDTH) -> np.ndarray:
    """The Gounaris-Sakurai rho propagator normalised to 1 at s = 0 (complex, s in GeV^2 > 4 m_pi^2)."""
    s = np.asarray(s, float)
    m2 = mass**2
    k_m = float(_k(m2))
    k_s = _k(s)
    gamma_s = width * (mass / np.sqrt(s)) * (k_s / k_m) ** 3
    f = width * m2 / k_m**3 * (k_s**2 * (_h(s) - _h(m2)) + (m2 - s) * k_m**2 * _h_prime(m2))
    d = gounaris_sakurai_d(mass)
    return m2 * (1.0 + d * width / mass) / (m2 - s + f - 1j * mass * gamma_s)


def gounaris_sakurai_d(mass: float = RHO_MASS) -> float:
    """The Gounaris-Sakurai constant d(m) that normalises the propagator to 1 at s = 0."""
    k_m = float(_k(mass**2))
    log_m = np.log((mass + 2.0 * k_m) / (2.0 * PION_MASS))
    return float(
        3.0 / np.pi * PION_MASS**2 / k_m**2 * log_m
        + mass / (2.0 * np.pi * k_m)
        - PION_MASS**2 * mass / (np.pi * k_m**3)
    )


def form_factor(s: np.ndarray) -> np.ndarray:
    """F_pi(s): Gounaris-Sakurai rho(770) with rho-omega interference (complex)."""
    s = np.asarray(s, float)
    omega = OMEGA_MASS**2 / (OMEGA_MASS**2 - s - 1j * OMEGA_MASS * OMEGA_WIDTH)
    return gounaris_sakurai(s) * (1.0 + RHO_OMEGA_DELTA * s / OMEGA_MASS**2 * omega) / (1.0 + RHO_OMEGA_DELTA)


def sigma_pipi(s: np.ndarray) -> np.ndarray:
    """sigma(e+e- -> pi+ pi-) in fb at CM energy squared ``s`` (GeV^2): pi alpha^2 beta^3 |F|^2 / (3 s)."""
    s = np.asarray(s, float)
    beta = np.sqrt(np.clip(1.0 - 4.0 * PION_MASS**2 / s, 0.0, None))
    return np.pi * ALPHA_EM**2 * beta**3 * np.abs(form_factor(s)) ** 2 / (3.0 * s) * GEV2_TO_FB

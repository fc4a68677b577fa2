"""The L_mu - L_tau Z' model: decay widths, branching fractions and (g-2)_mu.

The Z' couples with strength g' to the vector current of mu, tau (charge +1 for mu-, nu_mu,
-1 for tau-, nu_tau) and to left-handed nu_mu, nu_tau (He, Joshi, Lew, Volkas, PRD 43 (1991)
R22; Altmannshofer, Gori, Pospelov, Yavin, PRL 113 (2014) 091801; Belle II, PRL 124 (2020)
141801). Tree-level widths (e.g. Altmannshofer et al., JHEP 12 (2016) 106, and the Belle II PRL):

* Gamma(Z' -> nu nubar) = g'^2 M / (24 pi) per neutrino flavour: a purely left-handed
  neutrino carries half the width of a Dirac fermion;
* Gamma(Z' -> l+ l-) = g'^2 M / (12 pi) (1 + 2 r) sqrt(1 - 4 r), r = m_l^2 / M^2.

One-loop (g-2)_mu from a vector of mass M with vector coupling g' to muons (Leveille,
Nucl. Phys. B137 (1978) 63; Pospelov, PRD 80 (2009) 095002; Jegerlehner & Nyffeler, Phys.
Rept. 477 (2009) 1):

    Delta a_mu = g'^2 / (4 pi^2) int_0^1 dz m^2 z (1 - z)^2 / (m^2 (1 - z)^2 + M^2 z),

which tends to g'^2/(8 pi^2) for M -> 0 (Schwinger's alpha/(2 pi) with g'^2 = 4 pi alpha)
and to g'^2 m^2 / (12 pi^2 M^2) for M >> m_mu.
"""

from __future__ import annotations

import numpy as np

from darkscan.physics.constants import MUON_MASS, TAU_MASS

#: Decay scenarios: "lmu_ltau" (minimal L_mu - L_tau: nu, mu, tau), "invisible" (BF(inv) = 1,
#: e.g. dominant decays to light dark matter).
SCENARIOS = ("lmu_ltau", "invisible")


def width_nunu(coupling: float | np.ndarray, mass: float | np.ndarray) -> np.ndarray:
    """Gamma(Z' -> nu nubar) for ONE neutrino flavour (left-handed only), GeV."""
    return np.asarray(coupling, float) ** 2 * np.asarray(mass, float) / (24.0 * np.pi)


def width_ll(coupling: float | np.ndarray, mass: float | np.ndarray, lepton_mass: float) -> np.ndarray:
    """Gamma(Z' -> l+ l-) for a charged lepton of mass ``lepton_mass``; zero below threshold, GeV."""
    mass = np.asarray(mass, float)
    r = lepton_mass**2 / mass**2
    beta = np.sqrt(np.clip(1.0 - 4.0 * r, 0.0, None))
    return np.asarray(coupling, float) ** 2 * mass / (12.0 * np.pi) * (1.0 + 2.0 * r) * beta


def width_invisible(coupling: float | np.ndarray, mass: float | np.ndarray) -> np.ndarray:
    """Gamma(Z' -> nu_mu nubar_mu + nu_tau nubar_tau) in L_mu - L_tau, GeV."""
    return 2.0 * width_nunu(coupling, mass)


def total_width(coupling: float | np.ndarray, mass: float | np.ndarray) -> np.ndarray:
    """Total L_mu - L_tau width: nu_mu, nu_tau, mu, tau (GeV)."""
    return width_invisible(coupling, mass) + width_ll(coupling, mass, MUON_MASS) + width_ll(coupling, mass, TAU_MASS)


def branching_fraction(mass: float | np.ndarray, decay: str, *, scenario: str = "lmu_ltau") -> np.ndarray:
    """Branching fraction of the Z' into ``decay`` ("invisible", "mumu" or "tautau").

    Independent of g' (all widths scale as g'^2).

    Args:
        mass: Z' mass(es) in GeV.
        decay: "invisible", "mumu" or "tautau".
        scenario: "lmu_ltau" (minimal model) or "invisible" (BF(invisible) = 1).
    """
    mass = np.asarray(mass, float)
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown Z' scenario {scenario!r}; allowed: {SCENARIOS}")
    partial = {
        "invisible": width_invisible(1.0, mass),
        "mumu": width_ll(1.0, mass, MUON_MASS),
        "tautau": width_ll(1.0, mass, TAU_MASS),
    }
    if decay not in partial:
        raise ValueError(f"unknown Z' decay {decay!r}; allowed: {sorted(partial)}")
    if scenario == "invisible":
        return np.where(decay == "invisible", 1.0, 0.0) * np.ones_like(mass)
    return partial[decay] / total_width(1.0, mass)


def branching_fraction_invisible(mass: float | np.ndarray, *, scenario: str = "lmu_ltau") -> np.ndarray:
    """BF(Z' -> invisible): 1 below 2 m_mu, about 1/2 above, about 1/3 above 2 m_tau (lmu_ltau)."""
    return branching_fraction(mass, "invisible", scenario=scenario)


def _g2_integral(mass: float, m_mu: float) -> float:
    from scipy import integrate  # imported here: config checks load this module at every Snakemake start

    def integrand(z: float) -> float:
        return m_mu**2 * z * (1.0 - z) ** 2 / (m_mu**2 * (1.0 - z) ** 2 + mass**2 * z)

    # Points help quad find the peak near z ~ m^2/M^2 for heavy Z'.
    peak = min(0.5, (m_mu / max(mass, 1e-12)) ** 2)
    value, _ = integrate.quad(
        integrand, 0.0, 1.0, points=[peak] if 0.0 < peak < 1.0 else None, epsabs=0.0, epsrel=1e-10, limit=200
    )
    return value


def delta_a_mu(coupling: float | np.ndarray, mass: float | np.ndarray, *, m_mu: float = MUON_MASS) -> np.ndarray:
    """One-loop Z' contribution to a_mu = (g-2)_mu / 2, vectorised over coupling and mass.

    Args:
        coupling: g'.
        mass: Z' mass(es) in GeV (>= 0).
        m_mu: muon mass in GeV.
    """
    mass = np.asarray(mass, float)
    integral = np.vectorize(lambda m: _g2_integral(float(m), m_mu), otypes=[float])(mass)
    return np.asarray(coupling, float) ** 2 / (4.0 * np.pi**2) * integral


def coupling_for_delta_a_mu(
    delta_a: float | np.ndarray, mass: float | np.ndarray, *, m_mu: float = MUON_MASS
) -> np.ndarray:
    """g' that gives ``delta_a`` (e.g. the measured-minus-predicted a_mu), using Delta a ∝ g'^2."""
    return np.sqrt(np.asarray(delta_a, float) / delta_a_mu(1.0, mass, m_mu=m_mu))

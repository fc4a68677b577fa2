"""The Gounaris-Sakurai pion form factor and sigma(e+e- -> pi+ pi-)."""

import numpy as np
import pytest

from darkscan.physics import pion_form_factor as ff
from darkscan.physics.constants import GEV2_TO_FB


def test_gounaris_sakurai_constant_and_derivative():
    # d(m_rho) = 0.48 for m_rho ~ 775 MeV (Gounaris and Sakurai 1968; e.g. BaBar PRD 86 032013)
    assert ff.gounaris_sakurai_d() == pytest.approx(0.48, abs=0.005)
    s0, eps = ff.RHO_MASS**2, 1e-6
    assert ff._h_prime(s0) == pytest.approx((ff._h(s0 + eps) - ff._h(s0 - eps)) / (2 * eps), rel=1e-6)
    # on the rho mass shell f = 0 and Gamma(s) = Gamma: |BW|^2 = (1 + d Gamma / m)^2 (m / Gamma)^2
    peak = abs(ff.gounaris_sakurai(np.array([s0]))[0]) ** 2
    d = ff.gounaris_sakurai_d()
    assert peak == pytest.approx(
        (1 + d * ff.RHO_WIDTH / ff.RHO_MASS) ** 2 * (ff.RHO_MASS / ff.RHO_WIDTH) ** 2, rel=1e-9
    )


def test_peak_cross_section_follows_the_rho_electron_width():
    """At the rho peak sigma(e+e- -> pi+ pi-) ~ 12 pi BF(rho -> e e) / m_rho^2 (BF(rho -> pi pi) ~ 1):
    1.15 mub with PDG 2024's BF(rho0 -> e+ e-) = 4.72e-5; the Gounaris-Sakurai shape and the omega
    interference move it by a few per cent."""
    expected = 12 * np.pi * 4.72e-5 / ff.RHO_MASS**2 * GEV2_TO_FB
    s = np.linspace(0.55, 0.65, 2001)
    assert ff.sigma_pipi(s).max() == pytest.approx(expected, rel=0.08)


def test_omega_interference_makes_the_rho_omega_structure():
    """|F|^2 jumps across the omega mass: the interference of the narrow omega with the rho."""
    m, g = ff.OMEGA_MASS, ff.OMEGA_WIDTH
    below, above = np.abs(ff.form_factor(np.array([(m - g) ** 2, (m + g) ** 2]))) ** 2
    without = np.abs(ff.gounaris_sakurai(np.array([(m - g) ** 2, (m + g) ** 2]))) ** 2
    assert below / above > 1.2 * without[0] / without[1]
    # far from the resonances the form factor falls: |F|^2 at 1.5 and 2 GeV well below the peak
    assert np.all(np.abs(ff.form_factor(np.array([1.5**2, 2.0**2]))) ** 2 < [2.0, 0.6])

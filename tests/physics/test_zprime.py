"""Tests of the L_mu - L_tau Z' model (widths, branching fractions, (g-2)_mu, cross section)."""

import numpy as np
import pytest

from darkscan.physics import xsec, zprime
from darkscan.physics.constants import MUON_MASS


def test_partial_widths_hand_values():
    # g' = 0.1, M = 1 GeV: g^2 M / (24 pi) and g^2 M/(12 pi) (1 + 2r) sqrt(1 - 4r), by hand.
    assert zprime.width_nunu(0.1, 1.0) == pytest.approx(1.3262911924e-4, rel=1e-9)
    assert zprime.width_ll(0.1, 1.0, MUON_MASS) == pytest.approx(2.6505685793e-4, rel=1e-9)
    assert zprime.width_invisible(0.1, 1.0) == pytest.approx(2 * 1.3262911924e-4, rel=1e-9)
    assert zprime.width_ll(0.1, 0.2, MUON_MASS) == 0.0  # below threshold
    assert zprime.total_width(0.1, 0.2) == pytest.approx(2 * 0.01 * 0.2 / (24 * np.pi))


def test_branching_fractions():
    assert zprime.branching_fraction_invisible(0.15) == pytest.approx(1.0)
    assert zprime.branching_fraction_invisible(1.0) == pytest.approx(1 / (1 + 0.99924081319), rel=1e-7)
    assert zprime.branching_fraction_invisible(5.0) == pytest.approx(0.3470890907, rel=1e-8)
    masses = np.array([0.5, 2.0, 5.0, 9.0])
    total = sum(zprime.branching_fraction(masses, d) for d in ("invisible", "mumu", "tautau"))
    assert np.allclose(total, 1.0)
    assert np.all(zprime.branching_fraction_invisible(masses, scenario="invisible") == 1.0)
    assert np.all(zprime.branching_fraction(masses, "mumu", scenario="invisible") == 0.0)
    with pytest.raises(ValueError, match="scenario"):
        zprime.branching_fraction(1.0, "invisible", scenario="foo")


def test_g_minus_2_limits():
    g = 1e-3
    # M -> 0: g^2/(8 pi^2) (Schwinger alpha/2pi for g^2 = 4 pi alpha).
    assert zprime.delta_a_mu(g, 1e-7) == pytest.approx(g**2 / (8 * np.pi**2), rel=1e-5)
    # M >> m_mu: g^2 m^2 / (12 pi^2 M^2) (corrections O(m^2/M^2 log)).
    heavy = zprime.delta_a_mu(g, 100.0)
    assert heavy == pytest.approx(g**2 * MUON_MASS**2 / (12 * np.pi**2 * 100.0**2), rel=1e-4)
    values = zprime.delta_a_mu(g, np.array([0.01, 0.1, 1.0, 10.0]))
    assert values.shape == (4,) and np.all(np.diff(values) < 0)


def test_coupling_for_delta_a_mu_roundtrip():
    masses = np.array([0.05, 0.3, 2.0])
    g = zprime.coupling_for_delta_a_mu(2.51e-9, masses)
    assert np.allclose(zprime.delta_a_mu(g, masses), 2.51e-9, rtol=1e-10)
    # Light Z' explaining 2.5e-9 needs g' ~ sqrt(8 pi^2 * 2.5e-9) ~ 4.5e-4 at M -> 0.
    assert zprime.coupling_for_delta_a_mu(2.51e-9, 1e-6) == pytest.approx(np.sqrt(8 * np.pi**2 * 2.51e-9), rel=1e-4)


def test_cross_section_deterministic_and_ordered():
    a = xsec.sigma_mumu_zprime(1.0, sqrt_s=10.58, rng=np.random.default_rng(1), n_events=20_000)
    b = xsec.sigma_mumu_zprime(1.0, sqrt_s=10.58, rng=np.random.default_rng(1), n_events=20_000)
    assert a == b
    assert a.error_fb / a.value_fb < 0.01
    heavy = xsec.sigma_mumu_zprime(6.0, sqrt_s=10.58, rng=np.random.default_rng(1), n_events=20_000)
    assert heavy.value_fb < a.value_fb / 10
    with pytest.raises(ValueError, match=r"Z' mass 10.5 GeV outside the allowed range \(0, 10.36"):
        xsec.sigma_mumu_zprime(10.5, sqrt_s=10.58, rng=np.random.default_rng(1))

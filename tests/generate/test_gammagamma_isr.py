"""e+e- -> gamma gamma with ISR, one photon lost (darkscan.generate.processes.qed_gammagamma_isr)."""

import math

import numpy as np
import pytest
from scipy import integrate

from darkscan.generate.processes import qed_gammagamma_isr as ggi
from darkscan.generate.processes import tautau_qed
from darkscan.generate.registry import get_process
from darkscan.physics.signals import sigma_gammagamma

SQRT_S = 10.58
BANDS = [[0.0, 20.4], [37.2, 45.3], [137.9, 144.0], [158.4, 180.0]]


def test_isr_factor_equals_the_structure_function_integral():
    """The tabulated integral of f(x) / (1 - x) against scipy.quad of the Kuraev-Fadin formula."""
    beta = tautau_qed.isr_beta(SQRT_S)

    def f(x):
        return beta * x ** (beta - 1) * (1 + 0.75 * beta) - beta * (1 - 0.5 * x)

    for x_min, x_max in ((0.0, 0.95), (0.05, 0.95), (0.0, 0.5)):
        # below x = 1e-8 only the x^(beta - 1) peak counts: its integral is analytic
        head = (1 + 0.75 * beta) * 1e-8**beta if x_min == 0.0 else 0.0
        lo = max(x_min, 1e-8)
        tail, _ = integrate.quad(lambda x: f(x) / (1 - x), lo, x_max, limit=200, points=[1e-6, 1e-4, 1e-2])
        reference = head + tail
        table = tautau_qed.isr_factor(sqrt_s=SQRT_S, x_min=x_min, x_max=x_max, ratio=ggi.born_ratio_gammagamma)
        assert table == pytest.approx(reference, rel=2e-4)


def test_events_conserve_momentum_and_the_pair_mass_follows_the_isr_photon():
    p = ggi.draw(np.random.default_rng(1), 20_000, sqrt_s=SQRT_S, pair_theta_min=5.0, x_min=0.0, x_max=0.95)
    np.testing.assert_allclose(p.sum(axis=1), np.tile([SQRT_S, 0, 0, 0], (len(p), 1)), atol=1e-9)
    pair = p[:, 0] + p[:, 1]
    m2 = pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(-1)
    np.testing.assert_allclose(m2, SQRT_S**2 - 2 * SQRT_S * p[:, 2, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(p[..., 0] ** 2, (p[..., 1:] ** 2).sum(-1), rtol=1e-9, atol=1e-12)


def test_without_radiation_the_pair_follows_the_born_distribution():
    """x <= 1e-9: back-to-back photons with dN/dc ~ (1 + c^2) / (1 - c^2) on |c| < cos(5 deg)."""
    p = ggi.draw(np.random.default_rng(2), 200_000, sqrt_s=SQRT_S, pair_theta_min=5.0, x_min=0.0, x_max=1e-9)
    c = p[:, 0, 3] / p[:, 0, 0]
    np.testing.assert_allclose(p[:, 0, 1:], -p[:, 1, 1:], atol=1e-6)
    c0 = math.cos(math.radians(5.0))
    edges = np.linspace(-c0, c0, 21)
    counts, _ = np.histogram(c, edges)

    def cdf(x):
        return 2 * np.arctanh(x) - x

    expected = len(c) * np.diff(cdf(edges)) / (cdf(c0) - cdf(-c0))
    chi2 = (((counts - expected) ** 2) / expected).sum()
    assert chi2 < 45  # 20 bins: p ~ 1e-3


def test_cuts_seen_photon_and_lost_photon_and_cross_section():
    options = dict(photon_energy_min=1.8, photon_theta_min=52.0, photon_theta_max=115.0, lost_bands=BANDS)
    events = get_process("gammagamma_isr").generate(5_000, np.random.default_rng(3), sqrt_s=SQRT_S, **options)
    k = events.p4
    theta = np.degrees(np.arccos(k[:, :2, 3] / k[:, :2, 0]))
    assert (k[:, 0, 0] > 1.8).all() and ((theta[:, 0] >= 52) & (theta[:, 0] <= 115)).all()
    assert ggi._in_bands(theta[:, 1], BANDS).all()
    assert np.allclose(events.weight, events.weight[0])
    # every kept event is far from back to back: the lost photon needs hard radiation
    assert np.percentile(events.p4[:, 2, 0], 5) > 0.1
    # the cut phase space is a small part of the ISR-corrected Born cross section
    c0 = math.cos(math.radians(5.0))
    total = sigma_gammagamma(sqrt_s=SQRT_S, cos_min=-c0, cos_max=c0)
    assert 1e-3 * total < events.weight.sum() < 3e-2 * total


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(photon_energy_min=0.0), "photon_energy_min"),
        (dict(lost_bands=[[10.0, 5.0]]), "lost_bands"),
        (dict(x_min=0.96), "x_min"),
        (dict(pair_theta_min=0.0), "pair_theta_min"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        get_process("gammagamma_isr").generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, **options)

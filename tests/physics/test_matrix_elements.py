"""Tests of the numerical tree-level matrix elements and the 2 -> 3 phase-space integration."""

import numpy as np
import pytest
from scipy import integrate

from darkscan.physics import matrix_elements as me
from darkscan.physics import xsec
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB, MUON_MASS
from darkscan.physics.kinematics import two_body_decay

SQRT_S = 10.58
E_CHARGE = np.sqrt(4 * np.pi * ALPHA_EM)


def _born_events(cos_theta):
    n = len(cos_theta)
    p1, p2 = xsec._beams(n, SQRT_S, ELECTRON_MASS)
    p3, p4 = two_body_decay(
        np.tile([SQRT_S, 0, 0, 0.0], (n, 1)), MUON_MASS, MUON_MASS, cos_theta=cos_theta, phi=np.full(n, 0.3)
    )
    return p1, p2, p3, p4


def test_born_numeric_equals_textbook():
    p1, p2, p3, p4 = _born_events(np.linspace(-0.99, 0.99, 41))
    assert np.allclose(me.me2_born(p1, p2, p3, p4), me.me2_born_analytic(p1, p2, p3, p4), rtol=1e-12)


def test_born_cross_section_0776_nb():
    # Gauss-Legendre over cos(theta): sigma = 1/(2 s) * p/(16 pi^2 sqrt_s) * 2 pi * int dcos |M|^2.
    x, w = np.polynomial.legendre.leggauss(24)
    p1, p2, p3, p4 = _born_events(x)
    s = SQRT_S**2
    p = np.sqrt(s / 4 - MUON_MASS**2)
    sigma = np.sum(w * me.me2_born(p1, p2, p3, p4)) * 2 * np.pi * p / (16 * np.pi**2 * SQRT_S) / (2 * s) * GEV2_TO_FB
    hand = 4 * np.pi * ALPHA_EM**2 / (3 * s) * 0.3894e12  # fb
    assert sigma == pytest.approx(hand, rel=2e-4)
    assert sigma == pytest.approx(0.776e6, rel=1e-3)  # 0.776 nb
    assert xsec.sigma_born_mumu(SQRT_S) == pytest.approx(sigma, rel=1e-6)


@pytest.mark.parametrize("mass", [0.0, 1.0, 7.0])
def test_current_conservation(mass):
    ev = xsec.sample_mumu_v(200, np.random.default_rng(4), sqrt_s=SQRT_S, mass=mass, omega_min=0.2)
    assert np.all(me.ward_residual(ev.p1, ev.p2, ev.p3, ev.p4, ev.k) < 1e-10)
    assert np.all(me.ward_residual(ev.p1, ev.p2, ev.p3, ev.p4, ev.k, fsr=False) < 1e-10)


def test_phase_space_momentum_conservation():
    ev = xsec.sample_mumu_v(1000, np.random.default_rng(5), sqrt_s=SQRT_S, mass=2.0)
    assert np.allclose(ev.p3 + ev.p4 + ev.k, ev.p1 + ev.p2, atol=1e-10)
    assert np.allclose(ev.k[:, 0] ** 2 - (ev.k[:, 1:] ** 2).sum(1), 4.0)


def test_fsr_massless_limit_reproduces_qed():
    """V of mass 0 with coupling e = QED FSR: sigma_B alpha/(2 pi) (x1^2 + x2^2)/((1-x1)(1-x2))."""
    ev = xsec.weighted_mumu_v(
        300_000, np.random.default_rng(3), sqrt_s=SQRT_S, mass=0.0, g=E_CHARGE, omega_min=0.05 * SQRT_S / 2
    )
    x1, x2 = 2 * ev.p3[:, 0] / SQRT_S, 2 * ev.p4[:, 0] / SQRT_S
    region = (x1 < 0.9) & (x2 < 0.9)  # then x3 = 2 - x1 - x2 > 0.2
    mc = xsec.cross_section(np.where(region, ev.weight, 0.0))
    integral, _ = integrate.dblquad(
        lambda y, x: (x * x + y * y) / ((1 - x) * (1 - y)), 0.1, 0.9, lambda x: 1 - x, lambda x: 0.9
    )
    ref = xsec.sigma_born_mumu(SQRT_S) * ALPHA_EM / (2 * np.pi) * integral
    # Independent check of the quadrature: midpoint rule on a grid.
    g = (np.arange(2000) + 0.5) / 2000 * 0.8 + 0.1
    xx, yy = np.meshgrid(g, g)
    grid = np.sum(np.where(xx + yy > 1, (xx**2 + yy**2) / ((1 - xx) * (1 - yy)), 0.0)) * (0.8 / 2000) ** 2
    assert integral == pytest.approx(grid, rel=2e-3)
    assert mc.error_fb / mc.value_fb < 0.006
    assert mc.value_fb == pytest.approx(ref, rel=0.015)


def test_isr_spectrum_wide_angle():
    """ISR only vs. the radiator H(x, theta) of Binner-Kühn-Melnikov (massless e, muons integrated).

    d sigma/dx dcos = sigma_B(s(1-x)) alpha/pi [(1 + (1-x)^2)/(x sin^2) - x/2].
    """
    c0 = 0.8
    ev = xsec.weighted_mumu_v(
        300_000,
        np.random.default_rng(6),
        sqrt_s=SQRT_S,
        mass=0.0,
        g=E_CHARGE,
        g_e=E_CHARGE,
        fsr=False,
        isr=True,
        omega_min=0.5,
        cos_k_range=(-c0, c0),
        radiative_return_fraction=0.3,
        beam_collinear_fraction=0.5,
    )
    x = 2 * ev.k[:, 0] / SQRT_S
    for lo, hi in [(0.1, 0.4), (0.4, 0.8), (0.8, 0.99)]:
        mc = xsec.cross_section(np.where((x > lo) & (x < hi), ev.weight, 0.0))

        def dsig(xx):
            born = xsec.sigma_born_mumu(np.sqrt(SQRT_S**2 * (1 - xx)))
            return born * ALPHA_EM / np.pi * ((1 + (1 - xx) ** 2) / xx * np.log((1 + c0) / (1 - c0)) - xx * c0)

        ref, _ = integrate.quad(dsig, lo, hi)
        assert mc.value_fb == pytest.approx(ref, rel=max(0.015, 3 * mc.error_fb / mc.value_fb))


def test_interference_is_charge_odd():
    """ISR-FSR interference changes sign under mu+ <-> mu- and vanishes when symmetrised."""
    ev = xsec.sample_mumu_v(2000, np.random.default_rng(7), sqrt_s=SQRT_S, mass=0.0, omega_min=1.0)
    kw = dict(g=E_CHARGE, g_e=E_CHARGE)

    def interference(p3, p4):
        full = me.me2_mumu_v(ev.p1, ev.p2, p3, p4, ev.k, fsr=True, isr=True, **kw)
        return (
            full
            - me.me2_mumu_v(ev.p1, ev.p2, p3, p4, ev.k, **kw)
            - me.me2_mumu_v(ev.p1, ev.p2, p3, p4, ev.k, fsr=False, isr=True, **kw)
        )

    a, b = interference(ev.p3, ev.p4), interference(ev.p4, ev.p3)
    assert np.abs(a).max() > 1e-3 * me.me2_mumu_v(ev.p1, ev.p2, ev.p3, ev.p4, ev.k, **kw).max()
    assert np.allclose(a, -b, rtol=1e-8, atol=1e-14)


def _dirac_to_chiral(spinors):
    """(N, S, 4) Dirac-representation spinors -> chiral representation (4, S, N), psi_W = U psi_D."""
    top, bottom = spinors[..., :2], spinors[..., 2:]
    return np.concatenate([top - bottom, top + bottom], axis=-1).transpose(2, 1, 0) / np.sqrt(2)


def test_chiral_spinors_match_dirac_spinors():
    ev = xsec.sample_mumu_v(500, np.random.default_rng(8), sqrt_s=SQRT_S, mass=0.0, omega_min=0.5)
    for p, m in [(ev.p1, ELECTRON_MASS), (ev.p3, MUON_MASS), (ev.p4, MUON_MASS)]:
        assert np.allclose(me._chiral_spinors(p, m, False), _dirac_to_chiral(me.spinors_u(p, m)), rtol=0, atol=1e-14)
        assert np.allclose(me._chiral_spinors(p, m, True), _dirac_to_chiral(me.spinors_v(p, m)), rtol=0, atol=1e-14)
        assert np.allclose(
            me._chiral_bar(me._chiral_spinors(p, m, False)),
            _dirac_to_chiral(me.bar(me.spinors_u(p, m))),
            rtol=0,
            atol=1e-14,
        )


def test_currents_match_dirac_representation():
    ev = xsec.sample_mumu_v(300, np.random.default_rng(9), sqrt_s=SQRT_S, mass=0.0, omega_min=0.5)
    mbar, mv = me.bar(me.spinors_u(ev.p3, MUON_MASS)), me.spinors_v(ev.p4, MUON_MASS)
    dirac = np.einsum("nsi,mij,ntj->mstn", mbar, me.GAMMA, mv).reshape(4, 4, -1)  # [mu, 2 s + t]
    chiral = me._chiral_current(
        me._chiral_bar(me._chiral_spinors(ev.p3, MUON_MASS, False)), me._chiral_spinors(ev.p4, MUON_MASS, True)
    )
    assert np.allclose(chiral, dirac, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mass", [0.0, 1.0])
def test_fixed_beam_path_equals_general_path(mass, monkeypatch):
    """Fixed beams use matrix products with constant spinors; the general path gives the same |M|^2."""
    ev = xsec.sample_mumu_v(3000, np.random.default_rng(10), sqrt_s=SQRT_S, mass=mass, omega_min=0.5)
    args = (ev.p1, ev.p2, ev.p3, ev.p4, ev.k)
    fixed = me.me2_mumu_v(*args, g=E_CHARGE, g_e=E_CHARGE, isr=True)
    monkeypatch.setattr(me, "_is_fixed", lambda p: False)
    general = me.me2_mumu_v(*args, g=E_CHARGE, g_e=E_CHARGE, isr=True)
    assert np.allclose(fixed, general, rtol=1e-12, atol=0)


def test_transverse_photon_polarisations_equal_metric_sum(monkeypatch):
    """For a photon the two transverse polarisations replace -g_{rho sigma} (current conservation)."""
    c0 = np.cos(np.radians(36.0))
    ev = xsec.sample_mumu_v(
        3000, np.random.default_rng(11), sqrt_s=SQRT_S, mass=0.0, omega_min=0.9, cos_k_range=(-c0, c0)
    )
    args = (ev.p1, ev.p2, ev.p3, ev.p4, ev.k)
    transverse = me.me2_mumu_v(*args, g=E_CHARGE, g_e=E_CHARGE, isr=True)
    assert me._polarisations(ev.k)[0].shape[1] == 2
    monkeypatch.setattr(
        me, "_polarisations", lambda k: (np.broadcast_to(np.eye(4)[:, :, None], (4, 4, len(k))), -me.METRIC)
    )
    metric = me.me2_mumu_v(*args, g=E_CHARGE, g_e=E_CHARGE, isr=True)
    assert np.allclose(transverse, metric, rtol=1e-9, atol=0)

"""Tests of the tau-pair spin-correlation matrix and the tau polarimeters (darkscan.physics.tau_spin)."""

import numpy as np
import pytest

from darkscan.physics import tau_spin as ts
from darkscan.physics.constants import MUON_MASS, TAU_MASS

M_PI = 0.13957


def _unit(rng, n):
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


@pytest.mark.parametrize("m_pair", [3.56, 4.5, 10.58, 60.0])
def test_correlation_matrix_matches_spin_projector_traces(m_pair):
    # Closed form of C against |M|^2 with explicit (pslash +- m)(1 + g5 sslash)/2 projectors,
    # random production angles and random spin vectors of both taus.
    rng = np.random.default_rng(int(m_pair * 10))
    n = 300
    e = 0.5 * m_pair
    p = np.sqrt(e * e - TAU_MASS**2)
    k_hat, e_hat = _unit(rng, n), _unit(rng, n)
    p1 = np.c_[np.full(n, e), e * e_hat]
    p2 = np.c_[np.full(n, e), -e * e_hat]
    pm = np.c_[np.full(n, e), p * k_hat]
    pp = np.c_[np.full(n, e), -p * k_hat]
    s_m, s_p = _unit(rng, n), _unit(rng, n)
    unpol = ts.me2_polarised(p1, p2, pm, pp, m_tau=TAU_MASS)
    pol = ts.me2_polarised(p1, p2, pm, pp, ts.spin_four_vector(pm, s_m), ts.spin_four_vector(pp, s_p), m_tau=TAU_MASS)
    corr = ts.spin_correlation_matrix(k_hat, e_hat, np.full(n, p / e))
    np.testing.assert_allclose(4 * pol / unpol, ts.spin_weight(s_m, corr, s_p), atol=1e-12)
    # No single-tau polarisation for photon exchange.
    single = ts.me2_polarised(p1, p2, pm, pp, ts.spin_four_vector(pm, s_m), None, m_tau=TAU_MASS)
    np.testing.assert_allclose(2 * single / unpol, 1.0, atol=1e-12)
    # Unpolarised angular distribution 2 - beta^2 sin^2(theta), up to a constant.
    shape = unpol / (2 - (p / e) ** 2 * (1 - (k_hat * e_hat).sum(1) ** 2))
    np.testing.assert_allclose(shape / shape.mean(), 1.0, rtol=1e-12)
    # Symmetric, trace 1 (triplet), eigenvalues in [-1, 1] with the largest = 1: W in [0, 2].
    np.testing.assert_allclose(corr, np.swapaxes(corr, 1, 2), atol=1e-14)
    np.testing.assert_allclose(np.trace(corr, axis1=1, axis2=2), 1.0, atol=1e-12)
    eig = np.linalg.eigvalsh(corr)
    assert eig.min() >= -1 - 1e-12 and np.allclose(eig.max(axis=1), 1.0)


def test_correlation_matrix_limits():
    k = np.array([[0.0, 0.0, 1.0], [np.sin(0.7), 0.0, np.cos(0.7)]])
    e_hat = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    # Threshold: C = e e^T (3S1 state polarised transverse to the beam).
    c0 = ts.spin_correlation_matrix(k, e_hat, np.zeros(2))
    np.testing.assert_allclose(c0, np.einsum("ni,nj->nij", e_hat, e_hat), atol=1e-14)
    # beta -> 1: C_kk = 1 in common axes (opposite helicities), C_nn = -sin^2/(1 + cos^2).
    c1 = ts.spin_correlation_matrix(k, e_hat, np.ones(2))
    kk = np.einsum("ni,nij,nj->n", k, c1, k)
    np.testing.assert_allclose(kk, 1.0, atol=1e-14)
    n_hat = np.array([0.0, 1.0, 0.0])
    assert n_hat @ c1[1] @ n_hat == pytest.approx(-(np.sin(0.7) ** 2) / (1 + np.cos(0.7) ** 2))


def test_pion_polarimeter_signs():
    # tau- -> pi- nu: pion along the tau- spin (h = +pi_hat); tau+ -> pi+ nubar: h = -pi_hat.
    rng = np.random.default_rng(1)
    d = _unit(rng, 20)
    p = (TAU_MASS**2 - M_PI**2) / (2 * TAU_MASS)
    ppi = np.c_[np.full(20, np.hypot(p, M_PI)), p * d]
    pnu = np.c_[np.full(20, p), -p * d]
    np.testing.assert_allclose(ts.hadronic_polarimeter(pnu, ppi, m_tau=TAU_MASS, tau_charge=-1), d, atol=1e-12)
    np.testing.assert_allclose(ts.hadronic_polarimeter(pnu, ppi, m_tau=TAU_MASS, tau_charge=1), -d, atol=1e-12)


def test_two_pion_polarimeter_bounded_and_rho_limit():
    # tau -> pi pi0 nu from flat three-body points: |h| <= 1, and opposite for tau+ and tau-.
    rng = np.random.default_rng(2)
    n = 2000
    nu_dir, q_dir = _unit(rng, n), _unit(rng, n)
    m_rho = rng.uniform(0.3, 1.7, n)
    e_nu = (TAU_MASS**2 - m_rho**2) / (2 * TAU_MASS)
    nu = np.c_[e_nu, e_nu[:, None] * nu_dir]
    big_q = np.c_[TAU_MASS - e_nu, -e_nu[:, None] * nu_dir]
    k = 0.5 * np.sqrt(m_rho**2 - 4 * M_PI**2)
    rest = np.c_[0.5 * m_rho, k[:, None] * q_dir]
    to_lab = ts.inverse_boost(ts.boost_to_rest(big_q))
    p1 = ts.apply(to_lab, rest)
    p2 = big_q - p1
    cur = ts.two_meson_current(p1, p2)
    h_m = ts.hadronic_polarimeter(nu, cur, m_tau=TAU_MASS, tau_charge=-1)
    h_p = ts.hadronic_polarimeter(nu, cur, m_tau=TAU_MASS, tau_charge=1)
    assert np.linalg.norm(h_m, axis=1).max() <= 1 + 1e-9
    np.testing.assert_allclose(h_p, -h_m, atol=1e-10)


def test_leptonic_polarimeter_and_spectrum():
    w = (TAU_MASS**2 + MUON_MASS**2) / (2 * TAU_MASS)
    x = np.linspace(MUON_MASS / w, 1.0, 5001)
    e = x * w
    p = np.sqrt(np.maximum(e * e - MUON_MASS**2, 0))
    p_l = np.c_[e, np.zeros_like(e), np.zeros_like(e), p]
    h = ts.leptonic_polarimeter(p_l, m_tau=TAU_MASS, m_lepton=MUON_MASS, tau_charge=-1)
    assert np.abs(h).max() <= 1 + 1e-12
    assert h[-1, 2] == pytest.approx(-1.0)  # x = 1: lepton against the tau- spin
    # Massless limit (1 - 2x)/(3 - 2x) away from threshold.
    np.testing.assert_allclose(h[2500:, 2], ((1 - 2 * x) / (3 - 2 * x))[2500:], atol=0.01)
    hp = ts.leptonic_polarimeter(p_l, m_tau=TAU_MASS, m_lepton=MUON_MASS, tau_charge=1)
    np.testing.assert_allclose(hp, -h)
    # Sampled spectrum: <x> of the Michel spectrum (0.7 for massless leptons), isotropic.
    pl = ts.sample_leptonic_decay(np.random.default_rng(3), 200_000, m_tau=TAU_MASS, m_lepton=MUON_MASS)
    dens = ts.michel_density(x, m_tau=TAU_MASS, m_lepton=MUON_MASS)
    assert (pl[:, 0] / w).mean() == pytest.approx((x * dens).sum() / dens.sum(), abs=0.002)
    assert abs(pl[:, 3].mean()) < 0.005
    np.testing.assert_allclose(pl[:, 0] ** 2 - (pl[:, 1:] ** 2).sum(1), MUON_MASS**2, rtol=1e-8)


def test_boosts_and_rotations():
    rng = np.random.default_rng(4)
    p = np.c_[np.full(50, 5.0), rng.uniform(-2, 2, (50, 3))]
    lam = ts.boost_to_rest(p)
    rest = ts.apply(lam, p)
    np.testing.assert_allclose(rest[:, 1:], 0, atol=1e-12)
    np.testing.assert_allclose(ts.inverse_boost(lam) @ lam, np.tile(np.eye(4), (50, 1, 1)), atol=1e-12)
    # Spin four-vector: s.p = 0, s.s = -1.
    s = ts.spin_four_vector(p, _unit(rng, 50))
    np.testing.assert_allclose(s[:, 0] * p[:, 0] - (s[:, 1:] * p[:, 1:]).sum(1), 0, atol=1e-12)
    np.testing.assert_allclose(s[:, 0] ** 2 - (s[:, 1:] ** 2).sum(1), -1, atol=1e-12)
    r = ts.random_rotations(rng, 1000)
    np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.tile(np.eye(3), (1000, 1, 1)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    assert np.abs((r @ np.array([0, 0, 1.0])).mean(0)).max() < 0.08  # isotropic images

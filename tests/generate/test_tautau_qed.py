"""Built-in tau pairs (tautau_qed): samplers against closed forms and quadrature, events against Pythia."""

import math

import numpy as np
import pytest
from scipy import integrate

from darkscan.generate.processes import tautau_qed
from darkscan.generate.registry import get_process
from darkscan.physics.constants import BF_TAU_TO_E_NU_NU, BF_TAU_TO_MU_NU_NU, ELECTRON_MASS, TAU_MASS

SQRT_S = 10.58


def test_isr_beta_at_belle2():
    # 2 alpha / pi (ln(s / m_e^2) - 1) at 10.58 GeV
    assert tautau_qed.isr_beta(SQRT_S) == pytest.approx(0.0877, abs=2e-4)


def test_isr_fraction_matches_quadrature_of_the_structure_function():
    """<x> and P(x > 0.1) of the sampler vs scipy.quad of f(x) sigma(s') with the x^(beta-1) weight."""
    beta = tautau_qed.isr_beta(SQRT_S)
    x_max = 1.0 - (2.0 * TAU_MASS + 1e-3) ** 2 / SQRT_S**2

    def smooth(x):  # f(x) / x^(beta - 1), times the Born ratio
        return (beta * (1.0 + 0.75 * beta) - beta * (1.0 - 0.5 * x) * x ** (1.0 - beta)) * tautau_qed.born_ratio(
            x, sqrt_s=SQRT_S
        )

    def quad(g, a, b):
        return (
            integrate.quad(g, a, b, weight="alg", wvar=(beta - 1.0, 0.0), limit=400, epsrel=1e-10)[0]
            if a == 0.0
            else integrate.quad(lambda x: g(x) * x ** (beta - 1.0), a, b, limit=400)[0]
        )

    norm = quad(smooth, 0.0, x_max)
    mean = quad(lambda x: x * smooth(x), 0.0, x_max) / norm
    tail = quad(smooth, 0.1, x_max) / norm
    x = tautau_qed.sample_isr_fraction(np.random.default_rng(1), 1_000_000, sqrt_s=SQRT_S, x_max=x_max)
    assert x.min() >= 0.0 and x.max() <= x_max
    assert x.mean() == pytest.approx(mean, abs=4 * x.std() / 1000)
    assert (x > 0.1).mean() == pytest.approx(tail, abs=4 * math.sqrt(tail / 1e6))


def test_isr_photon_angles_follow_the_eikonal_pattern():
    """P(|cos| < 0.9) against the closed-form integral of sin^2 / (1 - b^2 cos^2)^2."""
    one_minus_b2 = (2.0 * ELECTRON_MASS / SQRT_S) ** 2
    b = math.sqrt(1.0 - one_minus_b2)

    def primitive(c):  # (1/b^2) artanh(bc)/b + (1 - 1/b^2) [c / (2 (1 - b^2 c^2)) + artanh(bc) / (2b)]
        return math.atanh(b * c) / b**3 - one_minus_b2 / b**2 * (
            c / (2.0 * (1.0 - b * b * c * c)) + math.atanh(b * c) / (2.0 * b)
        )

    central = (primitive(0.9) - primitive(-0.9)) / (primitive(1.0) - primitive(-1.0))
    cos = tautau_qed.sample_isr_cos(np.random.default_rng(2), 400_000, beam_beta=b)
    assert np.abs(cos).max() <= 1.0
    assert (np.abs(cos) < 0.9).mean() == pytest.approx(central, abs=4 * math.sqrt(central / 4e5))
    assert 0.05 < central < 0.2  # collinear photons dominate


def test_born_angular_distribution():
    """<cos^2> of 1 + c^2 + (1 - beta^2)(1 - c^2): (16/15 + 4/15 (1 - beta^2)) / (8/3 + 4/3 (1 - beta^2))."""
    for beta in (0.3, 0.9):
        expected = (16 / 15 + 4 / 15 * (1 - beta**2)) / (8 / 3 + 4 / 3 * (1 - beta**2))
        c = tautau_qed.sample_born_cos(np.random.default_rng(3), np.full(400_000, beta))
        assert (c**2).mean() == pytest.approx(expected, abs=4 * (c**2).std() / 632)


def test_fsr_rate_follows_the_soft_photon_factor():
    """P(omega > 0.5 GeV) at M = 10 GeV: A(b) * integral of (1 - y + y^2/2) d(omega)/omega, by quadrature."""
    mass = 10.0
    beta = math.sqrt(1.0 - 4.0 * TAU_MASS**2 / mass**2)
    omega_max = (mass**2 - (2.0 * TAU_MASS + 1e-3) ** 2) / (2.0 * mass)
    factor = integrate.quad(lambda w: (1.0 - 2.0 * w / mass + 2.0 * (w / mass) ** 2) / w, 0.5, omega_max)[0]
    expected = float(tautau_qed.fsr_probability_density(np.array([beta]))[0]) * factor
    n = 400_000
    k = np.tile([0.0, 0.0, 1.0], (n, 1))
    photon, taus = tautau_qed.final_state_radiation(np.random.default_rng(7), np.full(n, mass), k)
    assert (photon[:, 0] > 0.5).mean() == pytest.approx(expected, abs=4 * math.sqrt(expected / n))
    assert 0.01 < expected < 0.05
    # the taus recoil: energy and momentum conserved in the pair frame, both on shell
    assert np.allclose(photon + taus.sum(axis=1), [mass, 0.0, 0.0, 0.0], atol=1e-9)
    assert np.allclose(taus[..., 0] ** 2 - (taus[..., 1:] ** 2).sum(-1), TAU_MASS**2, atol=1e-8)


def test_events_conserve_momentum_are_normalised_and_reproducible():
    process = get_process("tautau_qed")
    events = process.generate(20_000, np.random.default_rng(4), sqrt_s=SQRT_S)
    again = process.generate(20_000, np.random.default_rng(4), sqrt_s=SQRT_S)
    assert np.array_equal(events.p4, again.p4) and np.array_equal(events.invisible, again.invisible)
    total = events.p4.sum(axis=1) + events.invisible
    assert np.allclose(total, [SQRT_S, 0.0, 0.0, 0.0], atol=2e-4)  # photons below 0.1 MeV are not written
    assert events.weight.sum() == pytest.approx(tautau_qed.XSEC_TAUTAU_NB * 1e6 * BF_TAU_TO_MU_NU_NU**2, rel=1e-12)
    assert (events.pdg[:, 0] == 13).all() and (events.pdg[:, 1] == -13).all()
    mu_mass = np.sqrt(np.maximum(events.p4[:, :2, 0] ** 2 - (events.p4[:, :2, 1:] ** 2).sum(-1), 0.0))
    assert np.allclose(mu_mass, 0.10566, atol=1e-4)
    with pytest.raises(ValueError, match="below the tau-pair threshold"):
        process.generate(10, np.random.default_rng(0), sqrt_s=3.5)


def _observables(events):
    rows = np.arange(len(events))
    mu_minus = events.p4[rows, np.argmax(events.pdg == 13, axis=1)]
    mu_plus = events.p4[rows, np.argmax(events.pdg == -13, axis=1)]
    recoil = np.array([SQRT_S, 0.0, 0.0, 0.0]) - mu_minus - mu_plus
    recoil_m2 = recoil[:, 0] ** 2 - (recoil[:, 1:] ** 2).sum(1)
    return {
        "muon energy": mu_minus[:, 0],
        "recoil mass^2": recoil_m2,
        "muon energy product": mu_minus[:, 0] * mu_plus[:, 0],
    }


def test_spectra_agree_with_pythia():
    """Muon energy, recoil mass squared and the muon-energy product (spin correlations) vs Pythia
    (tautau, tau_decays = mumu, spin_correlations = reweight) within 4 standard errors."""
    ours = _observables(get_process("tautau_qed").generate(100_000, np.random.default_rng(5), sqrt_s=SQRT_S))
    pythia = _observables(
        get_process("tautau").generate(
            20_000, np.random.default_rng(6), sqrt_s=SQRT_S, tau_decays="mumu", spin_correlations="reweight"
        )
    )
    for name in ours:
        a, b = ours[name], pythia[name]
        error = math.hypot(a.std() / math.sqrt(len(a)), b.std() / math.sqrt(len(b)))
        assert abs(a.mean() - b.mean()) < 4 * error, f"{name}: {a.mean():.4f} vs Pythia {b.mean():.4f} +- {error:.4f}"


def test_emu_events_have_one_electron_and_one_muon_and_their_normalisation():
    """tautau_qed_emu: (e-, mu+) or (mu-, e+) in equal shares, 2 BF_e BF_mu, the same production as tautau_qed."""
    events = get_process("tautau_qed_emu").generate(20_000, np.random.default_rng(5), sqrt_s=SQRT_S)
    e_minus = (events.pdg[:, :2] == [11, -13]).all(axis=1)
    mu_minus = (events.pdg[:, :2] == [13, -11]).all(axis=1)
    assert np.all(e_minus | mu_minus)
    assert abs(e_minus.mean() - 0.5) < 0.015  # 4.5 sigma of a binomial share of 20000
    expected = tautau_qed.XSEC_TAUTAU_NB * 1e6 * 2 * BF_TAU_TO_E_NU_NU * BF_TAU_TO_MU_NU_NU
    assert events.weight.sum() == pytest.approx(expected, rel=1e-12)
    assert get_process("tautau_qed_emu").xsec(sqrt_s=SQRT_S).value_fb == pytest.approx(expected, rel=1e-12)
    assert np.allclose(events.p4.sum(axis=1) + events.invisible, [SQRT_S, 0.0, 0.0, 0.0], atol=2e-4)
    masses = np.sqrt(np.maximum(events.p4[:, :2, 0] ** 2 - (events.p4[:, :2, 1:] ** 2).sum(-1), 0.0))
    assert np.allclose(masses, np.where(np.abs(events.pdg[:, :2]) == 11, ELECTRON_MASS, 0.10566), atol=1e-4)
    # V-A spectra: the electron's lab energy has the muon's mean, up to the mass term (m_mu^2 / m_tau^2 ~ 0.4%)
    electron_energy = events.p4[:, :2, 0][np.abs(events.pdg[:, :2]) == 11]
    muon_energy = events.p4[:, :2, 0][np.abs(events.pdg[:, :2]) == 13]
    error = np.hypot(electron_energy.std(), muon_energy.std()) / np.sqrt(len(events))
    assert abs(electron_energy.mean() - muon_energy.mean()) < 4 * error + 0.01 * muon_energy.mean()
    both_mu = get_process("tautau_qed").generate(20_000, np.random.default_rng(5), sqrt_s=SQRT_S)
    assert muon_energy.mean() == pytest.approx(both_mu.p4[:, :2, 0].mean(), abs=4 * error)

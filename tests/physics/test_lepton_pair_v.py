"""Tests of the tree-level e+e- -> l- l'+ V amplitudes with V emitted from any lepton line."""

import numpy as np
import pytest

from darkscan.generate.processes.qed_eegamma import matrix_element as berends_kleiss
from darkscan.physics import lepton_pair_v, matrix_elements
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import direction, two_body_decay
from darkscan.physics.lepton_pair_v import PLACES, Emission, me2_bhabha_born, me2_lepton_pair_v

SQRT_S = 10.58
E_CHARGE = np.sqrt(4 * np.pi * ALPHA_EM)


def _beams(n, m=ELECTRON_MASS):
    e = SQRT_S / 2
    pz = np.sqrt(e * e - m * m)
    return np.tile([e, 0, 0, pz], (n, 1)), np.tile([e, 0, 0, -pz], (n, 1))


def _points(n, m3, m4, mass, seed):
    """Random e-(p1) e+(p2) -> l-(p3) l'+(p4) V(k) points: V energy and direction, the pair decaying isotropically."""
    rng = np.random.default_rng(seed)
    omega = rng.uniform(max(mass, 0.3) + 0.01, 4.0, n)
    k = np.zeros((n, 4))
    k[:, 0] = omega
    k[:, 1:] = np.sqrt(omega**2 - mass**2)[:, None] * direction(rng.uniform(-0.9, 0.9, n), rng.uniform(0, 2 * np.pi, n))
    pair = -k
    pair[:, 0] = SQRT_S - omega
    p3, p4 = two_body_decay(pair, m3, m4, rng=rng)
    return (*_beams(n), p3, p4, k)


def test_bhabha_born_equals_the_textbook_formula():
    """s and t channel with the relative minus sign: 2 e^4 [(s^2 + u^2)/t^2 + 2 u^2/(s t) + (t^2 + u^2)/s^2]."""
    m = 1e-6  # massless limit of the formula
    c = np.linspace(-0.95, 0.95, 39)
    p1, p2 = _beams(len(c), m)
    p3 = np.zeros((len(c), 4))
    p3[:, 0] = SQRT_S / 2
    p3[:, 1:] = np.sqrt(SQRT_S**2 / 4 - m * m) * direction(c, np.full(len(c), 0.7))
    p4 = p3 * [1, -1, -1, -1]
    s, t, u = SQRT_S**2, -(SQRT_S**2) * (1 - c) / 2, -(SQRT_S**2) * (1 + c) / 2
    textbook = 2 * E_CHARGE**4 * ((s * s + u * u) / t**2 + 2 * u * u / (s * t) + (t * t + u * u) / s**2)
    assert me2_bhabha_born(p1, p2, p3, p4, m_e=m) == pytest.approx(textbook, rel=1e-9)


@pytest.mark.parametrize("seed", [1, 2])
def test_photon_from_all_four_lines_is_radiative_bhabha(seed):
    """Eight diagrams with V = photon and l = l' = e: the Berends-Kleiss formula (massless leptons)."""
    m = 1e-5
    p1, p2, p3, p4, k = _points(40, m, m, 0.0, seed)
    p1, p2 = _beams(40, m)
    everywhere = {place: Emission(E_CHARGE, m, m) for place in PLACES}
    numeric = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=everywhere, m3=m, m4=m, m_e=m)
    assert numeric == pytest.approx(berends_kleiss(p2, p1, p4, p3, k), rel=1e-6)


@pytest.mark.parametrize("mass", [0.5, 3.0])
def test_flavour_diagonal_emission_equals_the_mu_mu_v_code(mass):
    """Emission from the produced pair (the beam line) only: me2_mumu_v's FSR (ISR) amplitudes, massive V."""
    p1, p2, p3, p4, k = _points(30, MUON_MASS, MUON_MASS, mass, 3)
    fsr = {"s_final": Emission(0.3, MUON_MASS, MUON_MASS)}
    isr = {"s_initial": Emission(0.3, ELECTRON_MASS, ELECTRON_MASS)}
    ours = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=fsr, m3=MUON_MASS, m4=MUON_MASS)
    theirs = matrix_elements.me2_mumu_v(p1, p2, p3, p4, k, g=0.3)
    assert ours == pytest.approx(theirs, rel=1e-10)
    ours = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=isr, m3=MUON_MASS, m4=MUON_MASS)
    theirs = matrix_elements.me2_mumu_v(p1, p2, p3, p4, k, g=0.0, g_e=0.3, fsr=False, isr=True)
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_lfv_final_states_are_cp_images():
    """|M|^2(e- mu+ V) at (p3, p4, k) = |M|^2(mu- e+ V), from its own diagrams, at (P p4, P p3, P k)."""
    p1, p2, p3, p4, k = _points(25, ELECTRON_MASS, MUON_MASS, 1.5, 4)
    e_mu = {"s_final": Emission(1.0, MUON_MASS, ELECTRON_MASS), "t_plus": Emission(1.0, MUON_MASS, ELECTRON_MASS)}
    mu_e = {"s_final": Emission(1.0, ELECTRON_MASS, MUON_MASS), "t_minus": Emission(1.0, ELECTRON_MASS, MUON_MASS)}
    parity = np.array([1.0, -1.0, -1.0, -1.0])
    a = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=e_mu, m3=ELECTRON_MASS, m4=MUON_MASS)
    b = me2_lepton_pair_v(p1, p2, p4 * parity, p3 * parity, k * parity, emissions=mu_e, m3=MUON_MASS, m4=ELECTRON_MASS)
    assert a == pytest.approx(b, rel=1e-10)
    # the t channel (the scattered e- forward) dominates, and the s channel interferes with it
    s_only = me2_lepton_pair_v(
        p1, p2, p3, p4, k, emissions={"s_final": e_mu["s_final"]}, m3=ELECTRON_MASS, m4=MUON_MASS
    )
    t_only = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions={"t_plus": e_mu["t_plus"]}, m3=ELECTRON_MASS, m4=MUON_MASS)
    assert np.median(t_only / s_only) > 2.0
    assert np.abs(a - s_only - t_only).max() > 1e-3 * a.max()


def test_couplings_scale_the_amplitude_and_unknown_places_are_named():
    p1, p2, p3, p4, k = _points(5, ELECTRON_MASS, MUON_MASS, 2.0, 5)
    em = {"t_plus": Emission(1.0, MUON_MASS, ELECTRON_MASS)}
    em2 = {"t_plus": Emission(2.0, MUON_MASS, ELECTRON_MASS)}
    one = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=em, m3=ELECTRON_MASS, m4=MUON_MASS)
    two = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=em2, m3=ELECTRON_MASS, m4=MUON_MASS)
    assert two == pytest.approx(4 * one, rel=1e-12)
    with pytest.raises(ValueError, match="u_channel"):
        me2_lepton_pair_v(p1, p2, p3, p4, k, emissions={"u_channel": em["t_plus"]}, m3=ELECTRON_MASS, m4=MUON_MASS)


def _me2_without_longitudinal(p1, p2, p3, p4, k, emissions, m3, m4):
    """The same |M|^2 with the polarisation sum -g only (no k k / M^2 term)."""
    eps, weight = lepton_pair_v._polarisation_sum(k, massive_longitudinal=False)
    amp = lepton_pair_v._amplitudes(p1, p2, p3, p4, k, emissions, ELECTRON_MASS, m3, m4, eps)
    return weight @ (np.abs(amp) ** 2).sum(axis=(1, 2)) / 4.0


def test_massive_polarisation_sum_keeps_the_longitudinal_term():
    """k.J = 0 on a line with equal masses, so -g suffices; a flavour-changing vertex m_e != m_mu needs k k / M^2."""
    for m3, m4, em, conserved in (
        (MUON_MASS, MUON_MASS, Emission(1.0, MUON_MASS, MUON_MASS), True),
        (ELECTRON_MASS, MUON_MASS, Emission(1.0, MUON_MASS, ELECTRON_MASS), False),
    ):
        p1, p2, p3, p4, k = _points(20, m3, m4, 0.3, 6)
        emissions = {"s_final": em} if conserved else {"s_final": em, "t_plus": em}
        full = me2_lepton_pair_v(p1, p2, p3, p4, k, emissions=emissions, m3=m3, m4=m4)
        transverse = _me2_without_longitudinal(p1, p2, p3, p4, k, emissions, m3, m4)
        difference = np.abs(full / transverse - 1.0)
        if conserved:
            assert difference.max() < 1e-8
        else:
            assert np.median(difference) > 1e-3

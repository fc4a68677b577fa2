"""Tests of the LFV Z' signal process emu_zprime (e+e- -> e+- mu-+ Z', Z' invisible)."""

import numpy as np
import pytest

from darkscan.generate.processes import lfv_zprime
from darkscan.generate.registry import get_process
from darkscan.physics.constants import ELECTRON_MASS, GEV2_TO_FB, MUON_MASS
from darkscan.physics.kinematics import boost, direction, two_body_momentum

SQRT_S = 10.58
CUTS = {"lepton_theta_min": 15.0, "lepton_theta_max": 165.0}


def _flat_integration(mass, n, seed):
    """sigma_cut(e- mu+ Z') in fb from flat sampling in another parametrisation: the Z' recoiling against e mu."""
    rng = np.random.default_rng(seed)
    s = SQRT_S**2
    omega_max = (s + mass**2 - (ELECTRON_MASS + MUON_MASS) ** 2) / (2 * SQRT_S)
    omega = rng.uniform(mass, omega_max, n)
    k = np.zeros((n, 4))
    k[:, 0] = omega
    k_abs = np.sqrt(omega**2 - mass**2)
    k[:, 1:] = k_abs[:, None] * direction(rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))
    q = np.sqrt(s + mass**2 - 2 * SQRT_S * omega)
    p_star = two_body_momentum(q, ELECTRON_MASS, MUON_MASS)
    d = direction(rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))
    e = np.concatenate([np.sqrt(p_star**2 + ELECTRON_MASS**2)[:, None], p_star[:, None] * d], axis=1)
    mu = np.concatenate([np.sqrt(p_star**2 + MUON_MASS**2)[:, None], -p_star[:, None] * d], axis=1)
    p3, p4 = boost(np.stack([e, mu]), -(k[:, 1:] / (SQRT_S - omega)[:, None]))
    lo, hi = np.cos(np.radians(CUTS["lepton_theta_max"])), np.cos(np.radians(CUTS["lepton_theta_min"]))
    cos3 = p3[:, 3] / np.linalg.norm(p3[:, 1:], axis=1)
    cos4 = p4[:, 3] / np.linalg.norm(p4[:, 1:], axis=1)
    keep = (cos3 > lo) & (cos3 < hi) & (cos4 > lo) & (cos4 < hi)
    p1, p2 = lfv_zprime._beams(int(keep.sum()), SQRT_S)
    me2 = lfv_zprime.me2_lepton_pair_v(
        p1, p2, p3[keep], p4[keep], k[keep], emissions=lfv_zprime.emu_emissions(1.0), m3=ELECTRON_MASS, m4=MUON_MASS
    )
    # dPhi_3 = |k| p* / (256 pi^5 q) domega dOmega_k dOmega*
    w = np.zeros(n)
    w[keep] = me2 * k_abs[keep] * p_star[keep] / (256 * np.pi**5 * q[keep]) * (omega_max - mass) * (4 * np.pi) ** 2
    w *= GEV2_TO_FB / (2 * s)
    return w.mean(), w.std() / np.sqrt(n)


@pytest.mark.parametrize("mass", [0.5, 4.0])
def test_cross_section_equals_an_independent_integration(mass):
    events = get_process("emu_zprime").generate(10_000, np.random.default_rng(1), sqrt_s=SQRT_S, mass=mass, **CUTS)
    w = events.weight
    ours, our_error = w.sum(), np.sqrt((w**2).sum() - w.sum() ** 2 / len(w))
    flat, flat_error = _flat_integration(mass, 150_000, 2)
    # both charge combinations in ours
    assert ours == pytest.approx(2 * flat, abs=3.5 * np.hypot(our_error, 2 * flat_error))
    assert our_error < 0.03 * ours


def test_events_are_e_mu_pairs_with_a_z_prime_inside_the_cuts():
    mass = 2.0
    events = lfv_zprime.generate(4000, np.random.default_rng(3), sqrt_s=SQRT_S, mass=mass, **CUTS)
    assert len(events.weight) == 4000 and np.all(events.weight > 0)
    e_minus = (events.pdg == [11, -13]).all(axis=1)
    mu_minus = (events.pdg == [13, -11]).all(axis=1)
    assert np.all(e_minus | mu_minus)
    assert abs(e_minus.mean() - 0.5) < 0.03
    total = events.p4.sum(axis=1) + events.invisible
    assert np.allclose(total, [SQRT_S, 0, 0, 0], atol=1e-9)
    k = events.invisible
    assert np.allclose(k[:, 0] ** 2 - (k[:, 1:] ** 2).sum(1), mass**2, atol=1e-9)
    masses = np.sqrt(np.maximum(events.p4[..., 0] ** 2 - (events.p4[..., 1:] ** 2).sum(-1), 0))
    lepton_mass = np.where(np.abs(events.pdg) == 11, ELECTRON_MASS, MUON_MASS)
    assert np.allclose(masses, lepton_mass, atol=1e-6)
    theta = np.degrees(np.arccos(events.p4[..., 3] / np.linalg.norm(events.p4[..., 1:], axis=-1)))
    assert theta.min() >= 15.0 and theta.max() <= 165.0
    # the t channel sends the electron forward along its beam (and the positron backward, in the CP image)
    cos_e = np.where(e_minus, 1, -1) * np.cos(np.radians(np.where(e_minus, theta[:, 0], theta[:, 1])))
    assert np.average(cos_e, weights=events.weight) > 0.3


def test_weights_scale_with_the_coupling_squared_and_are_reproducible():
    a = lfv_zprime.generate(500, np.random.default_rng(7), sqrt_s=SQRT_S, mass=1.0, coupling=1.0)
    b = lfv_zprime.generate(500, np.random.default_rng(7), sqrt_s=SQRT_S, mass=1.0, coupling=0.1)
    assert np.array_equal(a.p4, b.p4)
    assert b.weight == pytest.approx(0.01 * a.weight, rel=1e-12)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mass": None}, "Z' mass None"),
        ({"mass": 10.5}, "outside the allowed range"),
        ({"mass": 1.0, "lepton_theta_min": 20.0, "lepton_theta_max": 10.0}, "lepton_theta_min"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        lfv_zprime.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, **options)

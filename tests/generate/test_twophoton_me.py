"""Independent checks of the exact multiperipheral matrix element of e+e- -> e+e- l+l-."""

import numpy as np
import pytest

from darkscan.generate.processes import twophoton
from darkscan.generate.processes._twophoton_phasespace import (
    _transverse_basis,
    dsigma_gg_ll_dcos,
    me2_multiperipheral,
    pair_amplitudes,
)
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import mdot
from darkscan.physics.matrix_elements import GAMMA, bar, spinors_u, spinors_v

SQRT_S = 10.58
E_BEAM = SQRT_S / 2
P_BEAM = np.sqrt(E_BEAM**2 - ELECTRON_MASS**2)
UNCUT = dict(
    sqrt_s=SQRT_S,
    w_min=0.5,
    theta_min=0.0,
    theta_max=180.0,
    pt_min=0.0,
    pair_pt_min=0.0,
    recoil_cos_max=None,
    recoil_p_min=0.0,
    prefix="lepton",
)


def _events(n, mass, seed, matrix_element="exact"):
    return twophoton.generate_pairs(
        n, np.random.default_rng(seed), mass=mass, pdg=(11, -11, 13, -13), matrix_element=matrix_element, **UNCUT
    )


def _beams(n):
    return np.tile([E_BEAM, 0, 0, P_BEAM], (n, 1)), np.tile([E_BEAM, 0, 0, -P_BEAM], (n, 1))


@pytest.mark.parametrize("mass", [ELECTRON_MASS, MUON_MASS])
@pytest.mark.parametrize("w", [0.6, 3.0])
def test_real_photon_amplitudes_reproduce_breit_wheeler(mass, w):
    """q1^2 = q2^2 = 0, transverse photons: (1/4) sum |e^2 A|^2 gives the Breit-Wheeler dsigma/dcos."""
    cos = np.array([-0.999999, -0.7, 0.0, 0.3, 0.95, 0.99999])
    n = len(cos)
    phi = np.linspace(0.1, 5.0, n)
    q1 = np.tile([w / 2, 0, 0, w / 2], (n, 1))
    q2 = np.tile([w / 2, 0, 0, -w / 2], (n, 1))
    p_star = np.sqrt(w**2 / 4 - mass**2)
    sin = np.sqrt(1 - cos**2)
    p = np.stack([np.full(n, w / 2), p_star * sin * np.cos(phi), p_star * sin * np.sin(phi), p_star * cos], axis=1)
    eps = np.stack(_transverse_basis(q1, q2), axis=1)
    amp = pair_amplitudes(p, p * [1, -1, -1, -1], q1, q2, eps, eps, mass, q1sq=np.zeros(n), q2sq=np.zeros(n))
    me2 = (4 * np.pi * ALPHA_EM) ** 2 * (np.abs(amp) ** 2).sum(axis=(1, 2, 3, 4)) / 4
    beta = np.sqrt(1 - 4 * mass**2 / w**2)
    dsigma_dcos = 2 * np.pi * me2 / (2 * w**2) * beta / (32 * np.pi**2)
    np.testing.assert_allclose(dsigma_dcos, dsigma_gg_ll_dcos(np.full(n, w), cos, mass), rtol=1e-7)


@pytest.mark.parametrize("mass", [ELECTRON_MASS, MUON_MASS])
def test_gauge_invariance_with_virtual_photons(mass):
    ev = _events(300, mass, 7)
    p1, p2 = _beams(len(ev))
    q1, q2 = p1 - ev.p4[:, 0], p2 - ev.p4[:, 1]
    eps = np.stack(_transverse_basis(q1, q2), axis=1)
    p, pbar = ev.p4[:, 2], ev.p4[:, 3]
    scale = np.abs(pair_amplitudes(p, pbar, q1, q2, eps, eps, mass)).max(axis=(1, 2, 3, 4))
    ward1 = np.abs(pair_amplitudes(p, pbar, q1, q2, q1[:, None], eps, mass)).max(axis=(1, 2, 3, 4))
    ward2 = np.abs(pair_amplitudes(p, pbar, q1, q2, eps, q2[:, None], mass)).max(axis=(1, 2, 3, 4))
    # q1 (q2) as the polarisation of photon 1 (2): the t- and u-channel diagrams cancel (Ward identity).
    assert np.all(ward1 < 1e-8 * scale) and np.all(ward2 < 1e-8 * scale)


@pytest.mark.parametrize("mass", [ELECTRON_MASS, MUON_MASS])
def test_reduced_tensors_agree_with_explicit_beam_currents(mass):
    """The gauge-reduced lepton tensors versus explicit e-/e+ currents contracted over all Lorentz indices."""
    ev = _events(200, mass, 8)
    n = len(ev)
    p1, p2 = _beams(n)
    k1, k2, p, pbar = (ev.p4[:, i] for i in range(4))
    q1, q2 = p1 - k1, p2 - k2
    j1 = np.einsum("nsi,mij,ntj->nstm", bar(spinors_u(k1, ELECTRON_MASS)), GAMMA, spinors_u(p1, ELECTRON_MASS))
    j2 = np.einsum("nsi,mij,ntj->nstm", bar(spinors_v(p2, ELECTRON_MASS)), GAMMA, spinors_v(k2, ELECTRON_MASS))
    basis = np.tile(np.eye(4), (n, 1, 1))  # amplitude with eps = e_(mu): A_mu; contracted with j^mu
    amp = pair_amplitudes(p, pbar, q1, q2, basis, basis, mass)
    full = np.einsum("nsta,nuvb,nhgab->nstuvhg", j1, j2, amp)
    spin_sum = (np.abs(full) ** 2).sum(axis=(1, 2, 3, 4, 5, 6))
    reference = (4 * np.pi * ALPHA_EM) ** 4 * spin_sum / (mdot(q1, q1) * mdot(q2, q2)) ** 2
    np.testing.assert_allclose(me2_multiperipheral(p1, p2, k1, k2, p, pbar, mass), reference, rtol=1e-4)


@pytest.mark.parametrize("mass", [ELECTRON_MASS, MUON_MASS])
def test_nearly_real_photons_reproduce_epa_times_breit_wheeler(mass):
    """Q1^2, Q2^2 -> 0: exact weights equal the EPA (Budnev flux x Breit-Wheeler) weights of the same events."""
    epa = _events(20_000, mass, 9, "epa")
    exact = _events(20_000, mass, 9, "exact")
    np.testing.assert_array_equal(epa.p4, exact.p4)
    p1, p2 = _beams(len(epa))
    q1, q2 = p1 - epa.p4[:, 0], p2 - epa.p4[:, 1]
    pair = epa.p4[:, 2] + epa.p4[:, 3]
    q2_max = np.maximum(-mdot(q1, q1), -mdot(q2, q2)) / mdot(pair, pair)
    small = q2_max < 1e-4
    assert small.sum() > 0.2 * len(epa)
    assert exact.weight[small].sum() / epa.weight[small].sum() == pytest.approx(1.0, abs=0.01)
    # Far-off-shell photons: the EPA with real-photon cross sections overestimates.
    large = q2_max > 0.1
    assert exact.weight[large].sum() < 0.8 * epa.weight[large].sum()

"""Radiative Bhabha e+e- -> e+e- gamma (darkscan.generate.processes.qed_eegamma).

The closed-form matrix element is checked against the eight Feynman diagrams evaluated with
explicit Dirac matrices and spinors, the phase-space sampler against flat RAMBO phase space, and
the cross section of a cut region against a RAMBO integration of the same matrix element.
"""

import numpy as np
import pytest

from darkscan.generate.processes import qed_eegamma as eeg
from darkscan.generate.processes._twobody import weighted_xsec
from darkscan.generate.processes.qed3 import phase_space_volume_3, rambo3
from darkscan.generate.registry import get_process
from darkscan.physics.constants import ALPHA_EM

SQRT_S = 10.58
HALF = SQRT_S / 2.0
P_PLUS = np.array([HALF, 0.0, 0.0, -HALF])
P_MINUS = np.array([HALF, 0.0, 0.0, HALF])

# --- the eight diagrams, numerically (Dirac representation, e = 1, polarisation sum -g) -------------
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_PAULI = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
_GAMMA = [np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)] + [
    np.block([[_Z2, s], [-s, _Z2]]).astype(complex) for s in _PAULI
]
_METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def _slash(p):
    return _GAMMA[0] * p[0] - _GAMMA[1] * p[1] - _GAMMA[2] * p[2] - _GAMMA[3] * p[3]


def _spinors(p, m, antiparticle):
    sign = -1.0 if antiparticle else 1.0
    basis = ([0, 0, 1, 0], [0, 0, 0, 1]) if antiparticle else ([1, 0, 0, 0], [0, 1, 0, 0])
    return [(sign * _slash(p) + m * np.eye(4)) @ np.array(b, complex) / np.sqrt(p[0] + m) for b in basis]


def _propagator(q, m):
    return (_slash(q) + m * np.eye(4)) / (q @ _METRIC @ q - m * m)


def _diagrams_msq(pp, pm, qp, qm, k, m):
    """1/4 sum |M|^2 (e = 1): t-channel and s-channel exchange, the photon off each of four legs."""

    def sq(q):
        return q @ _METRIC @ q

    total = 0.0
    for u1 in _spinors(pm, m, False):
        for v2 in _spinors(pp, m, True):
            for u3 in _spinors(qm, m, False):
                for v4 in _spinors(qp, m, True):
                    b3, b2 = u3.conj() @ _GAMMA[0], v2.conj() @ _GAMMA[0]
                    amp = np.zeros(4, complex)
                    for nu in range(4):
                        eps = _GAMMA[nu]
                        for mu in range(4):
                            g, gm = _METRIC[mu, mu], _GAMMA[mu]
                            e_rad = b3 @ (eps @ _propagator(qm + k, m) @ gm + gm @ _propagator(pm - k, m) @ eps) @ u1
                            p_rad = b2 @ (eps @ _propagator(k - pp, m) @ gm + gm @ _propagator(-qp - k, m) @ eps) @ v4
                            i_rad = b2 @ (eps @ _propagator(k - pp, m) @ gm + gm @ _propagator(pm - k, m) @ eps) @ u1
                            f_rad = b3 @ (eps @ _propagator(qm + k, m) @ gm + gm @ _propagator(-qp - k, m) @ eps) @ v4
                            amp[nu] += g * (e_rad * (b2 @ gm @ v4) / sq(pp - qp) + (b3 @ gm @ u1) * p_rad / sq(pm - qm))
                            amp[nu] -= g * (i_rad * (b3 @ gm @ v4) / sq(qm + qp) + (b2 @ gm @ u1) * f_rad / sq(pm + pp))
                    total += -(abs(amp[0]) ** 2 - (abs(amp[1:]) ** 2).sum())
    return total / 4.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matrix_element_equals_the_eight_diagrams(seed):
    m = 1e-5  # GeV: massless to O(m^2 / invariants) ~ 1e-11 at these hard points
    qm, qp, k = rambo3(1, np.random.default_rng(seed), SQRT_S)[0]
    p_beam = np.sqrt(HALF**2 - m * m)
    pm, pp = np.array([HALF, 0, 0, p_beam]), np.array([HALF, 0, 0, -p_beam])
    qm, qp = qm.copy(), qp.copy()
    qm[0], qp[0] = np.hypot(qm[0], m), np.hypot(qp[0], m)
    reference = _diagrams_msq(pp, pm, qp, qm, k, m) * (4 * np.pi * ALPHA_EM) ** 3
    closed = eeg.matrix_element(P_PLUS, P_MINUS, qp[None], qm[None], k[None])[0]
    assert closed == pytest.approx(reference, rel=1e-6)


def _rambo_region(n, seed, cuts, me):
    """RAMBO estimate (GeV^-2) of the cut region's phase-space volume (me False) or cross section."""
    p = rambo3(n, np.random.default_rng(seed), SQRT_S)
    forward = np.cos(np.radians(cuts.lepton_theta_forward))
    backward = np.cos(np.radians(cuts.lepton_theta_backward))
    c_lo, c_hi = np.cos(np.radians(cuts.photon_theta_max)), np.cos(np.radians(cuts.photon_theta_min))
    values = []
    for i_minus, i_plus in ((0, 1), (1, 0)):  # RAMBO momenta are unordered: both lepton labellings
        qm, qp, k = p[:, i_minus], p[:, i_plus], p[:, 2]
        cm, cp, ck = (x[:, 3] / x[:, 0] for x in (qm, qp, k))
        ok = (k[:, 0] > cuts.photon_energy_min) & (ck >= c_lo) & (ck <= c_hi)
        ok &= ((cm >= forward) | (cm <= backward)) & ((cp >= forward) | (cp <= backward))
        ok &= (cm >= forward) | (cp <= backward)  # the generator's support: e- forward or e+ backward
        ok &= (2 * HALF * (qm[:, 0] - qm[:, 3]) > cuts.t_abs_min) & (2 * HALF * (qp[:, 0] + qp[:, 3]) > cuts.t_abs_min)
        f = np.zeros(n)
        f[ok] = eeg.matrix_element(P_PLUS, P_MINUS, qp[ok], qm[ok], k[ok]) / (2 * SQRT_S**2) if me else 1.0
        values.append(f)
    f = np.concatenate(values) * phase_space_volume_3(SQRT_S)  # either labelling estimates the integral
    return f.mean(), f.std() / np.sqrt(len(f))


@pytest.mark.parametrize("me", [False, True])
def test_cross_section_of_a_region_equals_rambo_integration(me):
    """Multichannel sampler vs flat phase space (|t|, |t'| > 0.3 GeV^2 keeps RAMBO's variance finite)."""
    cuts = eeg.EegammaCuts(1.0, HALF, 45.0, 135.0, 35.0, 145.0, mass_bound=False, t_abs_min=0.3)
    _, weight = eeg.sample_weighted(100_000, np.random.default_rng(5), SQRT_S, cuts, flat=not me)
    ours = weighted_xsec(weight)
    ref, ref_err = _rambo_region(1_500_000, 11, cuts, me)
    assert ours.value_fb == pytest.approx(ref, abs=4 * np.hypot(ours.error_fb, ref_err))
    assert np.hypot(ours.error_fb, ref_err) < 0.03 * ref  # the comparison is a real one


def test_events_are_lost_leptons_and_a_photon_in_the_cuts():
    options = dict(photon_energy_min=2.0, photon_theta_min=40.0, photon_theta_max=140.0)
    options |= dict(lepton_theta_forward=25.0, lepton_theta_backward=160.0)
    events = get_process("eegamma").generate(20_000, np.random.default_rng(7), sqrt_s=SQRT_S, **options)
    assert events.pdg[0].tolist() == [11, -11, 22]
    np.testing.assert_allclose(events.p4.sum(axis=1), np.tile([SQRT_S, 0, 0, 0], (len(events.weight), 1)), atol=1e-9)
    k = events.p4[:, 2]
    assert k[:, 0].min() > 2.0
    cos_k = k[:, 3] / k[:, 0]
    assert np.all(np.abs(cos_k) <= np.cos(np.radians(40.0)) + 1e-12)
    for lepton in (0, 1):
        cos_l = events.p4[:, lepton, 3] / events.p4[:, lepton, 0]
        lost = (cos_l >= np.cos(np.radians(25.0)) - 1e-9) | (cos_l <= np.cos(np.radians(160.0)) + 1e-9)
        assert lost.all()
    assert np.all(events.weight > 0)
    # the t-channel pole: a quarter of the cross section has a lepton within 0.1 deg of its beam
    # (0.26 at 2026-12-03), while flat phase space puts 1e-6 of the cone's solid angle there
    small = np.minimum(1 - events.p4[:, 0, 3] / events.p4[:, 0, 0], 1 + events.p4[:, 1, 3] / events.p4[:, 1, 0])
    assert events.weight[small < 1 - np.cos(np.radians(0.1))].sum() > 0.15 * events.weight.sum()
    again = get_process("eegamma").generate(20_000, np.random.default_rng(7), sqrt_s=SQRT_S, **options)
    np.testing.assert_array_equal(again.weight, events.weight)


def test_mass_bound_cuts_the_pole_logarithmically():
    """The massive |t| bound removes only the region below it: the cross section is finite and the
    massless formula without it grows with the drawn range (the 1/t pole)."""
    cuts = eeg.EegammaCuts(2.0, HALF, 40.0, 140.0, 25.0, 160.0)
    _, weight = eeg.sample_weighted(50_000, np.random.default_rng(3), SQRT_S, cuts)
    _, unbounded = eeg.sample_weighted(
        50_000, np.random.default_rng(3), SQRT_S, eeg.EegammaCuts(2.0, HALF, 40.0, 140.0, 25.0, 160.0, mass_bound=False)
    )
    assert 1.0 < unbounded.sum() / weight.sum() < 2.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(photon_energy_min=0.0), "photon_energy_min"),
        (dict(photon_energy_min=6.0), "photon_energy_max"),
        (dict(photon_theta_min=0.0), "photon_theta_min"),
        (dict(lepton_theta_forward=0.0), "lepton_theta_forward"),
    ],
)
def test_bad_cuts_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        get_process("eegamma").generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, **options)

"""Radiative Bhabha with both leptons seen (eegamma_seen) against flat phase space."""

import numpy as np
import pytest

from darkscan.generate.processes import qed_eegamma as eeg
from darkscan.generate.processes import qed_eegamma_seen as seen
from darkscan.generate.processes._twobody import weighted_xsec
from darkscan.generate.processes.qed3 import phase_space_volume_3, rambo3
from darkscan.generate.registry import get_process

SQRT_S = 10.58
HALF = SQRT_S / 2
P_PLUS, P_MINUS = np.array([HALF, 0, 0, -HALF]), np.array([HALF, 0, 0, HALF])
CUTS = seen.SeenCuts(eeg.EegammaCuts(1.0, HALF, 45.0, 135.0, 90.0, 90.0), 30.0, 150.0, 20.0, 0.5)


def _rambo_region(n: int, seed: int, me: bool) -> tuple[float, float]:
    """Flat (RAMBO) estimate of the cut region's phase-space volume (me False) or cross section (GeV^-2)."""
    p = rambo3(n, np.random.default_rng(seed), SQRT_S)
    lo, hi = CUTS.cos_range
    c_lo, c_hi = np.cos(np.radians(135.0)), np.cos(np.radians(45.0))
    limit = np.cos(np.radians(CUTS.photon_lepton_angle_min))
    values = []
    for i_minus, i_plus in ((0, 1), (1, 0)):  # RAMBO momenta are unordered: both lepton labellings
        qm, qp, k = p[:, i_minus], p[:, i_plus], p[:, 2]
        cm, cp, ck = (x[:, 3] / x[:, 0] for x in (qm, qp, k))
        ok = (k[:, 0] > 1.0) & (ck >= c_lo) & (ck <= c_hi)
        ok &= (cm >= lo) & (cm <= hi) & (cp >= lo) & (cp <= hi)
        pair = qm + qp
        ok &= pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1) > CUTS.pair_mass_min**2
        for lepton in (qm, qp):
            ok &= (k[:, 1:] * lepton[:, 1:]).sum(1) / (k[:, 0] * lepton[:, 0]) < limit
        f = np.zeros(n)
        f[ok] = eeg.matrix_element(P_PLUS, P_MINUS, qp[ok], qm[ok], k[ok]) / (2 * SQRT_S**2) if me else 1.0
        values.append(f)
    f = np.concatenate(values) * phase_space_volume_3(SQRT_S)
    return f.mean(), f.std() / np.sqrt(len(f))


@pytest.mark.parametrize("me", [False, True])
def test_cross_section_of_a_region_equals_rambo_integration(me):
    """The two-channel sampler against flat phase space: the volume and the cross section."""
    _, weight = seen.sample_weighted(100_000, np.random.default_rng(5), SQRT_S, CUTS, flat=not me)
    ours = weighted_xsec(weight)
    ref, ref_err = _rambo_region(1_000_000, 11, me)
    assert ours.value_fb == pytest.approx(ref, abs=4 * np.hypot(ours.error_fb, ref_err))
    assert np.hypot(ours.error_fb, ref_err) < 0.03 * ref  # the comparison is a real one


def test_events_have_both_leptons_and_the_photon_inside_the_cuts():
    options = dict(photon_energy_min=1.0, photon_theta_min=36.0, photon_theta_max=142.0)
    options |= dict(lepton_theta_min=15.0, lepton_theta_max=165.0, photon_lepton_angle_min=15.0)
    events = get_process("eegamma_seen").generate(20_000, np.random.default_rng(7), sqrt_s=SQRT_S, **options)
    assert events.pdg[0].tolist() == [11, -11, 22]
    np.testing.assert_allclose(events.p4.sum(axis=1), np.tile([SQRT_S, 0, 0, 0], (len(events.weight), 1)), atol=1e-9)
    cos = events.p4[..., 3] / events.p4[..., 0]
    assert np.all(np.abs(cos[:, :2]) <= np.cos(np.radians(15.0)) + 1e-9)
    assert np.all(np.abs(cos[:, 2]) <= np.cos(np.radians(36.0)) + 1e-9) and events.p4[:, 2, 0].min() > 1.0
    # the t channel: the e- goes forward more often than backward
    assert np.average(cos[:, 0] > 0, weights=events.weight) > 0.6
    with pytest.raises(ValueError, match="lepton_theta_min"):
        get_process("eegamma_seen").generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, lepton_theta_min=0.0)

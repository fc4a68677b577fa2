"""e+e- -> 3 gamma (darkscan.generate.processes.qed3): matrix element, phase space, generator."""

import numpy as np
import pytest

from darkscan.generate.processes import qed3
from darkscan.generate.registry import get_process

SQRT_S = 10.58


def test_rambo_conserves_momentum_and_is_flat():
    p = qed3.rambo3(200_000, np.random.default_rng(3), SQRT_S)
    np.testing.assert_allclose(p.sum(axis=1), np.tile([SQRT_S, 0, 0, 0], (len(p), 1)), atol=1e-9)
    np.testing.assert_allclose(p[..., 0] ** 2, (p[..., 1:] ** 2).sum(-1), rtol=1e-9, atol=1e-9)
    # flat massless three-body phase space: the Dalitz plot is uniform, so dN/dE ~ E on [0, sqrt_s/2]
    e = p[:, 0, 0]
    assert abs(np.mean(e < SQRT_S / 4) - 0.25) < 0.005
    assert abs(np.mean(e) - SQRT_S / 3) < 0.01
    assert abs(np.mean(p[:, 0, 3] / p[:, 0, 0])) < 0.01  # isotropic


def test_phase_space_volume():
    assert qed3.phase_space_volume_3(SQRT_S) == pytest.approx(SQRT_S**2 / (256 * np.pi**3))


@pytest.mark.parametrize("cos_theta", [-0.7, 0.1, 0.9])
def test_soft_photon_limit_factorises_onto_born(cos_theta):
    """|M_3|^2 -> e^2 2 p+.p- / (p-.k p+.k) |M_2|^2 for a soft photon k (eikonal factor)."""
    pm, pp = qed3.beam_momenta(SQRT_S)
    ratios = []
    for eps in (1e-3, 1e-5):
        k3 = eps * np.array([1.0, 0.6, 0.0, 0.8])
        q = np.array([SQRT_S, 0, 0, 0]) - k3
        mq = np.sqrt(q[0] ** 2 - (q[1:] ** 2).sum())
        sin = np.sqrt(1 - cos_theta**2)
        k1r = mq / 2 * np.array([1.0, sin, 0.0, cos_theta])
        k2r = mq / 2 * np.array([1.0, -sin, 0.0, -cos_theta])
        # boost the rest-frame pair with the velocity of q
        b = q[1:] / q[0]
        g = q[0] / mq

        def boost(k, b=b, g=g):
            bk = b @ k[1:]
            return np.concatenate([[g * (k[0] + bk)], k[1:] + ((g - 1) * bk / (b @ b) + g * k[0]) * b])

        k1, k2 = boost(k1r), boost(k2r)
        photons3 = np.array([[k1, k2, k3]])
        m3 = qed3.matrix_element_3gamma(pm, pp, photons3)[0]
        m2 = qed3.matrix_element_2gamma(pm, pp, np.array([[k1, k2]]))[0]
        dot = lambda a, c: a[0] * c[0] - a[1:] @ c[1:]  # noqa: E731
        eikonal = 4 * np.pi * qed3.ALPHA_EM * 2 * dot(pm, pp) / (dot(pm, k3) * dot(pp, k3))
        ratios.append(m3 / (eikonal * m2))
    assert ratios[1] == pytest.approx(1.0, abs=1e-4)
    assert abs(ratios[1] - 1) < abs(ratios[0] - 1) + 1e-12


def test_matrix_element_symmetric_under_photon_exchange_and_beam_swap():
    pm, pp = qed3.beam_momenta(SQRT_S)
    p = qed3.rambo3(100, np.random.default_rng(1), SQRT_S)
    m = qed3.matrix_element_3gamma(pm, pp, p)
    np.testing.assert_allclose(m, qed3.matrix_element_3gamma(pm, pp, p[:, [2, 0, 1]]), rtol=1e-12)
    np.testing.assert_allclose(m, qed3.matrix_element_3gamma(pp, pm, p), rtol=1e-12)
    assert np.all(m > 0)


def test_generator_cuts_weights_and_reproducibility():
    proc = get_process("gammagammagamma")
    opts = dict(sqrt_s=SQRT_S, photon_energy_min=0.5, photon_theta_min=15.0, photon_theta_max=165.0)
    a = proc.generate(20_000, np.random.default_rng(7), **opts)
    b = proc.generate(20_000, np.random.default_rng(7), **opts)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert len(a) == 20_000 and np.all(a.pdg == 22)
    assert np.all(a.p4[..., 0] > 0.5)
    cos = a.p4[..., 3] / a.p4[..., 0]
    assert np.all(np.abs(cos) <= np.cos(np.radians(15.0)) + 1e-12)
    assert np.all(np.diff(a.p4[..., 0], axis=1) <= 0)  # ordered by energy
    np.testing.assert_allclose(a.p4.sum(axis=1)[:, 0], SQRT_S)
    # tree-level sigma(3 gamma) with these cuts: about 0.12 nb, a few % of the 2-photon Born (~4.5 nb)
    sigma = a.weight.sum()
    assert 0.08e6 < sigma < 0.18e6
    c = proc.generate(20_000, np.random.default_rng(8), **opts)
    assert c.weight.sum() == pytest.approx(sigma, rel=0.06)
    # looser cuts contain the tighter phase space
    loose = proc.generate(
        20_000,
        np.random.default_rng(9),
        sqrt_s=SQRT_S,
        photon_energy_min=0.3,
        photon_theta_min=12.0,
        photon_theta_max=168.0,
    )
    assert loose.weight.sum() > sigma
    scaled = proc.generate(1000, np.random.default_rng(7), xsec_scale=2.0, **opts)
    np.testing.assert_allclose(scaled.weight, 2 * proc.generate(1000, np.random.default_rng(7), **opts).weight)


def test_generator_rejects_divergent_cuts():
    proc = get_process("gammagammagamma")
    with pytest.raises(ValueError, match="collinear"):
        proc.generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, photon_theta_min=0.0)
    with pytest.raises(ValueError, match="soft"):
        proc.generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, photon_energy_min=0.0)

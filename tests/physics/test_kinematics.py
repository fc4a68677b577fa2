"""Tests of darkscan.physics.kinematics."""

import numpy as np

from darkscan.physics import kinematics as kin


def test_kallen_and_two_body_momentum():
    assert kin.kallen(9.0, 1.0, 1.0) == 9.0**2 - 4 * 9.0  # (x-2)^2 - 4 with y = z = 1
    # Z -> mu mu style check: p = sqrt(M^2/4 - m^2) for equal masses.
    assert np.isclose(kin.two_body_momentum(10.0, 0.1, 0.1), np.sqrt(25.0 - 0.01))
    assert kin.two_body_momentum(0.1, 0.1, 0.1) == 0.0


def test_boost_inverse_and_invariance():
    rng = np.random.default_rng(1)
    p = np.column_stack([np.full(50, 5.0), rng.uniform(-2, 2, (50, 3))])
    beta = rng.uniform(-0.5, 0.5, (50, 3))
    q = kin.boost(p, beta)
    assert np.allclose(kin.mass2(q), kin.mass2(p))
    assert np.allclose(kin.boost(q, -beta), p)
    # A particle at rest acquires velocity beta; (3,) beta broadcasts.
    rest = np.tile([2.0, 0, 0, 0], (3, 1))
    moved = kin.boost(rest, np.array([0.0, 0.0, 0.6]))
    assert np.allclose(moved, [[2.5, 0, 0, 1.5]] * 3)


def test_two_body_decay_conserves_and_given_direction():
    rng = np.random.default_rng(2)
    parent = np.column_stack([np.full(100, 6.0), rng.uniform(-1, 1, (100, 3))])
    a, b = kin.two_body_decay(parent, 0.1056583755, 1.77693, rng=rng)
    assert np.allclose(a + b, parent)
    assert np.allclose(kin.mass2(a), 0.1056583755**2)
    assert np.allclose(kin.mass2(b), 1.77693**2)
    at_rest = np.tile([3.0, 0, 0, 0], (2, 1))
    a, _ = kin.two_body_decay(at_rest, 0.0, 0.0, cos_theta=np.array([1.0, -1.0]), phi=np.zeros(2))
    assert np.allclose(a, [[1.5, 0, 0, 1.5], [1.5, 0, 0, -1.5]])

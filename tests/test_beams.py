"""CM-to-lab transformation against hand calculations."""

import numpy as np
import pytest

from darkscan.beams import Beams
from darkscan.experiments.beams import (
    beam_four_momenta,
    boost_beta_gamma,
    cm_to_lab_matrix,
    lab_to_cm_matrix,
    transform,
)

BELLE2 = Beams(7.004, 4.002, 0.083)


def test_particle_at_rest_in_cm_moves_with_the_beam_boost():
    """A mass-M particle at rest in the CM frame gets p = M beta gamma along the beams' sum."""
    mass = 3.0
    lab = transform(np.array([mass, 0.0, 0.0, 0.0]), cm_to_lab_matrix(BELLE2))
    electron, positron = beam_four_momenta(BELLE2)
    total = electron + positron
    expected = mass * total / BELLE2.sqrt_s  # p^mu = M u^mu, u = P / sqrt(s)
    np.testing.assert_allclose(lab, expected, rtol=1e-12)
    assert np.linalg.norm(lab[1:]) / mass == pytest.approx(0.2868, abs=2e-4)  # DESIGN: 0.287


def test_beams_map_back_to_head_on_cm_beams():
    to_cm = lab_to_cm_matrix(BELLE2)
    electron, positron = beam_four_momenta(BELLE2)
    half = BELLE2.sqrt_s / 2
    np.testing.assert_allclose(transform(electron, to_cm), [half, 0, 0, half], atol=1e-12)
    np.testing.assert_allclose(transform(positron, to_cm), [half, 0, 0, -half], atol=1e-12)


def test_head_on_boost_is_along_z():
    babar = Beams(9.0, 3.1)
    assert boost_beta_gamma(babar) == pytest.approx((9.0 - 3.1) / np.sqrt(4 * 9.0 * 3.1), rel=1e-12)
    matrix = cm_to_lab_matrix(babar)
    assert matrix[1, 0] == pytest.approx(0.0) and matrix[2, 0] == pytest.approx(0.0)


def test_transformation_preserves_invariant_mass():
    rng = np.random.default_rng(3)
    p = rng.normal(size=(100, 3))
    p4 = np.concatenate([np.sqrt((p**2).sum(1) + 0.1**2)[:, None], p], axis=1)
    lab = transform(p4, cm_to_lab_matrix(BELLE2))
    m2 = lambda v: v[:, 0] ** 2 - (v[:, 1:] ** 2).sum(1)  # noqa: E731
    np.testing.assert_allclose(m2(lab), m2(p4), atol=1e-12)

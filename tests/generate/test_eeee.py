"""Tests of the two-photon e+e- -> e+e- e+e- generator (shared EPA engine with eemumu)."""

import numpy as np
import pytest
from scipy.integrate import quad

from darkscan.generate.processes import eeee
from darkscan.generate.processes._twophoton_phasespace import dsigma_gg_ll_dcos, sigma_gg_ll, sigma_gg_mumu
from darkscan.generate.registry import get_process
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS

SQRT_S = 10.58
NO_CUTS = dict(electron_theta_min=0.0, electron_theta_max=180.0, electron_pt_min=0.0)


def test_breit_wheeler_electron_mass():
    w = 1.0
    total = quad(
        lambda c: float(dsigma_gg_ll_dcos(np.array(w), np.array(c), ELECTRON_MASS)),
        -1,
        1,
        points=[-1 + 1e-6, 1 - 1e-6],
        limit=500,
    )[0]
    assert total == pytest.approx(float(sigma_gg_ll(w, ELECTRON_MASS)), rel=1e-4)
    expected = 4 * np.pi * ALPHA_EM**2 / w**2 * (np.log(w**2 / ELECTRON_MASS**2) - 1)
    assert float(sigma_gg_ll(w, ELECTRON_MASS)) == pytest.approx(expected, rel=1e-5)
    assert float(sigma_gg_ll(w, MUON_MASS)) == float(sigma_gg_mumu(w))


def test_total_cross_section_matches_physics_book():
    # Belle II Physics Book (PTEP 2019 123C01): 39.7 nb for W > 0.5 GeV, AAFH cut on all four e- e+ pairs.
    ev = eeee.generate(30_000, np.random.default_rng(1), sqrt_s=SQRT_S, **NO_CUTS)
    sigma_nb = ev.weight.sum() / 1e6
    assert sigma_nb == pytest.approx(eeee.XSEC_EEEE_PHYSICS_BOOK_NB, rel=0.20)
    # Mass cut on the produced pair only: the collinear region stays, about 71 nb (EPA x Breit-Wheeler: 90 nb).
    produced_only = eeee.generate(20_000, np.random.default_rng(2), sqrt_s=SQRT_S, all_pairs_w_min=False, **NO_CUTS)
    assert 60 < produced_only.weight.sum() / 1e6 < 82
    scaled = eeee.generate(20_000, np.random.default_rng(3), sqrt_s=SQRT_S, xsec_nb=39.7, **NO_CUTS)
    assert scaled.weight.sum() / 1e6 == pytest.approx(eeee.XSEC_EEEE_PHYSICS_BOOK_NB, rel=0.05)


def test_all_pairs_mass_cut():
    ev = eeee.generate(5_000, np.random.default_rng(4), sqrt_s=SQRT_S, **NO_CUTS)
    for i, j in ((0, 1), (0, 3), (1, 2), (2, 3)):  # every e- e+ combination
        pair = ev.p4[:, i] + ev.p4[:, j]
        assert np.sqrt(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1)).min() > 0.5


def test_record_cuts_and_conservation():
    ev = eeee.generate(10_000, np.random.default_rng(3), sqrt_s=SQRT_S)
    assert (ev.pdg == [11, -11, 11, -11]).all()
    total = ev.p4.sum(axis=1)
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(ev), 1)), atol=1e-9)
    produced = ev.p4[:, 2:]
    pt = np.hypot(produced[..., 1], produced[..., 2])
    theta = np.degrees(np.arctan2(pt, produced[..., 3]))
    assert pt.min() >= 0.3 and theta.min() >= 15 and theta.max() <= 165
    pair = produced.sum(1)
    assert np.sqrt(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1)).min() > 0.5
    assert np.all(ev.weight > 0)
    # Central cut cross section is a small part of the total.
    assert ev.weight.sum() < 0.1 * eeee.total_fb(SQRT_S, 0.5).value_fb


def test_registered_with_xsec_and_determinism():
    proc = get_process("eeee")
    assert proc.generate is eeee.generate and proc.xsec is eeee.xsec
    sigma = eeee.xsec(sqrt_s=SQRT_S)
    assert sigma.value_fb == pytest.approx(eeee.XSEC_EEEE_PHYSICS_BOOK_NB * 1e6, rel=0.20)
    assert sigma.error_fb < 0.02 * sigma.value_fb
    a = eeee.generate(500, np.random.default_rng(5), sqrt_s=SQRT_S)
    b = eeee.generate(500, np.random.default_rng(5), sqrt_s=SQRT_S)
    np.testing.assert_array_equal(a.p4, b.p4)
    with pytest.raises(ValueError, match="electron_theta"):
        eeee.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, electron_theta_min=170, electron_theta_max=10)
    with pytest.raises(ValueError, match="xsec_nb"):
        eeee.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, xsec_nb=-1.0)

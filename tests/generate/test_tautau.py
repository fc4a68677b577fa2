"""Tests of the Pythia 8 e+e- -> tau+ tau- generator (kept short: a few thousand events)."""

import numpy as np
import pytest

from darkscan.generate.processes import tautau
from darkscan.physics.constants import BF_TAU_TO_MU_NU_NU

SQRT_S = 10.58


@pytest.fixture(scope="module")
def mumu_fast():
    return tautau.generate(2000, np.random.default_rng(7), sqrt_s=SQRT_S, spin_correlations=False)


def test_cross_section_and_bf_scaling(mumu_fast):
    sigma_all = tautau.generate(200, np.random.default_rng(1), sqrt_s=SQRT_S, tau_decays="all", spin_correlations=False).weight.sum()
    assert sigma_all / 1e6 == pytest.approx(0.919, rel=0.10)
    assert mumu_fast.weight.sum() == pytest.approx(sigma_all * BF_TAU_TO_MU_NU_NU**2, rel=1e-12)
    w = mumu_fast.weight
    assert np.all(np.isfinite(w)) and np.all(w > 0) and np.ptp(w) == 0


def test_pythia_sigma_close_to_table(caplog):
    # Pythia's own sigma (tree level + ISR) is logged; it lies within 10 % of the table value.
    with caplog.at_level("INFO", logger="darkscan.generate.processes.tautau"):
        tautau.generate(500, np.random.default_rng(2), sqrt_s=SQRT_S, tau_decays="all", spin_correlations=False)
    text = caplog.text
    sigma_pythia = float(text.split("Pythia sigmaGen ")[1].split(" nb")[0])
    assert sigma_pythia == pytest.approx(0.919, rel=0.10)


def test_mumu_final_state(mumu_fast):
    pdg = mumu_fast.pdg
    assert ((pdg == 13).sum(1) == 1).all() and ((pdg == -13).sum(1) == 1).all()
    # Photons from ISR/FSR; rarely an e+e- pair from a shower photon splitting (gamma -> e+ e-).
    assert set(np.unique(pdg)) <= {0, 13, -13, 22, 11, -11}
    assert (np.abs(pdg) == 11).any(axis=1).mean() < 0.02
    # Four neutrinos: the invisible system is massive and carries energy.
    inv = mumu_fast.invisible
    assert (inv[:, 0] > 0).all()
    assert (inv[:, 0] ** 2 - (inv[:, 1:] ** 2).sum(1) > 0).mean() > 0.99


def test_four_momentum_conservation(mumu_fast):
    # ISR photons are in the event record, so visible + invisible = (sqrt_s, 0, 0, 0) exactly.
    total = mumu_fast.p4.sum(axis=1) + mumu_fast.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(total), 1)), atol=1e-8)


def test_all_decays_conservation_and_content():
    ev = tautau.generate(500, np.random.default_rng(3), sqrt_s=SQRT_S, tau_decays="all", spin_correlations=False)
    total = ev.p4.sum(axis=1) + ev.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(total), 1)), atol=1e-8)
    assert {211, -211, 22} <= set(np.unique(ev.pdg))
    assert np.all(np.abs(ev.pdg) != 12) and np.all(np.abs(ev.pdg) != 16)


def test_spin_correlated_mode_runs():
    ev = tautau.generate(150, np.random.default_rng(4), sqrt_s=SQRT_S)
    total = ev.p4.sum(axis=1) + ev.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(total), 1)), atol=1e-8)
    assert ((ev.pdg == 13).sum(1) == 1).all()


def test_seeding():
    kw = dict(sqrt_s=SQRT_S, spin_correlations=False)
    a = tautau.generate(200, np.random.default_rng(5), **kw)
    b = tautau.generate(200, np.random.default_rng(5), **kw)
    c = tautau.generate(200, np.random.default_rng(6), **kw)
    np.testing.assert_array_equal(a.pdg, b.pdg)
    np.testing.assert_array_equal(a.p4, b.p4)
    np.testing.assert_array_equal(a.invisible, b.invisible)
    assert a.p4.shape != c.p4.shape or not np.array_equal(a.p4, c.p4)


def test_settings_and_errors():
    s = tautau.pythia_settings(sqrt_s=SQRT_S, tau_decays="mumu", spin_correlations=True, seed=3, mhat_min=3.6)
    assert "TauDecays:mode = 1" in s and "Print:quiet = on" in s and "PDF:lepton = on" in s
    with pytest.raises(ValueError, match="tau_decays"):
        tautau.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, tau_decays="ee")
    with pytest.raises(ValueError, match="threshold"):
        tautau.generate(10, np.random.default_rng(0), sqrt_s=3.0)

"""Tests of the Pythia 8 e+e- -> tau+ tau- generator (kept short: a few thousand events)."""

import numpy as np
import pytest

from darkscan.generate.processes import tautau
from darkscan.physics.constants import BF_TAU_TO_MU_NU_NU, MUON_MASS, TAU_MASS

SQRT_S = 10.58


@pytest.fixture(scope="module")
def mumu_fast():
    return tautau.generate(2000, np.random.default_rng(7), sqrt_s=SQRT_S, spin_correlations=False)


def test_cross_section_and_bf_scaling(mumu_fast):
    sigma_all = tautau.generate(
        200, np.random.default_rng(1), sqrt_s=SQRT_S, tau_decays="all", spin_correlations=False
    ).weight.sum()
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


# --------------------------------------------------------------------------- spin correlations by reweighting


def _generate_with_taus(n, seed, mode, decays="mumu"):
    return tautau._generate(
        n,
        np.random.default_rng(seed),
        sqrt_s=SQRT_S,
        tau_decays=decays,
        spin_correlations=mode,
        xsec_nb=tautau.XSEC_TAUTAU_NB,
        mhat_min=None,
    )


def _spin_observables(ev, taus):
    """Mean muon energy fraction x = 2 E_mu / m_tautau and <h_k- h_k+> in the tau-pair frame.

    h_k is the longitudinal component (along the tau- direction) of the muon polarimeter in
    the tau rest frame; <h_k- h_k+> vanishes without spin correlations. Also the dimuon mass.
    """
    from darkscan.physics import tau_spin as ts

    good = ((ev.pdg == 13).sum(1) == 1) & ((ev.pdg == -13).sum(1) == 1)  # drops rare gamma -> mu mu
    pdg, p4, taus = ev.pdg[good], ev.p4[good], taus[good]
    mu = [p4[pdg == 13], p4[pdg == -13]]
    pair = taus[:, 0] + taus[:, 1]
    lam = ts.boost_to_rest(pair)
    m_pair = np.sqrt(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1))
    k = ts.apply(lam, taus[:, 0])[:, 1:]
    k /= np.linalg.norm(k, axis=1)[:, None]
    x = np.concatenate([2 * ts.apply(lam, m)[:, 0] / m_pair for m in mu])
    hk = []
    for j, charge in ((0, -1), (1, 1)):
        to_rest = ts.boost_to_rest(ts.apply(lam, taus[:, j])) @ lam
        h = ts.leptonic_polarimeter(ts.apply(to_rest, mu[j]), m_tau=TAU_MASS, m_lepton=MUON_MASS, tau_charge=charge)
        hk.append((h * k).sum(1))
    o = hk[0] * hk[1]
    s = mu[0] + mu[1]
    mmm = np.sqrt(s[:, 0] ** 2 - (s[:, 1:] ** 2).sum(1))
    return {
        "x": (x.mean(), x.std() / np.sqrt(len(x))),
        "hh": (o.mean(), o.std() / np.sqrt(len(o))),
        "mmm": (mmm.mean(), mmm.std() / np.sqrt(len(mmm))),
    }


def _pull(a, b):
    return (a[0] - b[0]) / np.hypot(a[1], b[1])


def test_reweight_mode_conservation_normalisation_and_seeding():
    a = tautau.generate(1500, np.random.default_rng(8), sqrt_s=SQRT_S, spin_correlations="reweight")
    b = tautau.generate(1500, np.random.default_rng(8), sqrt_s=SQRT_S, spin_correlations="reweight")
    c = tautau.generate(1500, np.random.default_rng(9), sqrt_s=SQRT_S, spin_correlations="reweight")
    total = a.p4.sum(axis=1) + a.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(total), 1)), atol=1e-8)
    assert len(a.weight) == 1500 and np.ptp(a.weight) == 0
    assert a.weight.sum() == pytest.approx(tautau.XSEC_TAUTAU_NB * 1e6 * BF_TAU_TO_MU_NU_NU**2, rel=1e-12)
    assert ((a.pdg == 13).sum(1) >= 1).all() and ((a.pdg == -13).sum(1) >= 1).all()
    mu = a.p4[a.pdg == 13]
    np.testing.assert_allclose(mu[:, 0] ** 2 - (mu[:, 1:] ** 2).sum(1), MUON_MASS**2, rtol=1e-6)
    for field in ("pdg", "p4", "invisible"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.p4.shape != c.p4.shape or not np.array_equal(a.p4, c.p4)


def test_reweight_mode_all_decays():
    ev = tautau.generate(600, np.random.default_rng(10), sqrt_s=SQRT_S, tau_decays="all", spin_correlations="reweight")
    total = ev.p4.sum(axis=1) + ev.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(total), 1)), atol=1e-8)
    assert {211, -211, 22} <= set(np.unique(ev.pdg))
    assert ev.weight.sum() / 1e6 == pytest.approx(0.919, rel=1e-12)


def test_spin_option_values():
    assert tautau.spin_mode(True) == "pythia" and tautau.spin_mode(False) == "none"
    assert tautau.spin_mode("reweight") == "reweight"
    s = tautau.pythia_settings(sqrt_s=SQRT_S, tau_decays="mumu", spin_correlations="reweight", seed=3, mhat_min=3.6)
    assert "TauDecays:mode = 0" in s
    with pytest.raises(ValueError, match="spin_correlations"):
        tautau.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, spin_correlations="maybe")


def test_reweight_reproduces_pythia_spin_correlations():
    """(a) Pythia TauDecays:mode = 1, (b) "reweight", (c) mode 0, both taus -> mu nu nu.

    (a) and (b) agree within 3.5 sigma in <x>, <h_k- h_k+> and <m_mumu>; (c) has a softer
    muon spectrum (phase-space decays) and no spin correlation. A run with 16k mode-1 events
    gave <x> = 0.3535(12), <h_k- h_k+> = 0.0049(6), corr(x-, x+) = 0.038(8), against
    0.3546(4), 0.0048(2), 0.038(3) for 150k reweighted events and 0.343, 0.000, 0.003 for mode 0.
    """
    pythia = _spin_observables(*_generate_with_taus(2500, 31, "pythia"))
    reweight = _spin_observables(*_generate_with_taus(20000, 32, "reweight"))
    none = _spin_observables(*_generate_with_taus(20000, 33, "none"))
    for key in ("x", "hh", "mmm"):
        assert abs(_pull(pythia[key], reweight[key])) < 3.5, (key, pythia[key], reweight[key])
    assert _pull(reweight["hh"], none["hh"]) > 5
    assert abs(none["hh"][0]) < 4 * none["hh"][1]
    assert _pull(reweight["x"], none["x"]) > 5 and _pull(pythia["x"], none["x"]) > 3
    assert reweight["hh"][0] == pytest.approx(0.0048, abs=0.0010)

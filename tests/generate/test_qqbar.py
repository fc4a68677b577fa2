"""Tests of the Pythia 8 e+e- -> q qbar (u, d, s, c) continuum generator and its detector response."""

import awkward as ak
import numpy as np
import pytest

from darkscan.experiments import detector
from darkscan.generate.processes import qqbar
from darkscan.generate.registry import get_process

SQRT_S = 10.58


@pytest.fixture(scope="module")
def events():
    return qqbar.generate(2000, np.random.default_rng(1), sqrt_s=SQRT_S)


def test_settings_restrict_flavour_and_keep_low_mass():
    settings = qqbar.pythia_settings(sqrt_s=SQRT_S, flavour="c", seed=3, mhat_min=0.5)
    assert "23:onIfAny = 4" in settings and "23:onMode = off" in settings
    assert "PDF:lepton = on" in settings and "PhaseSpace:mHatMin = 0.5" in settings
    assert not any("= 5" in line for line in settings if line.startswith("23:"))


def test_normalisation_and_conservation(events):
    assert events.weight.sum() / 1e6 == pytest.approx(1.61 + 0.40 + 0.38 + 1.30)
    assert np.all(events.weight == events.weight[0])
    total = events.p4.sum(axis=1) + events.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(events), 1)), atol=1e-6)
    assert np.all(detector._charge(events.pdg).sum(axis=1) == 0)
    ids = set(np.unique(np.abs(events.pdg)).tolist()) - {0}
    assert {22, 211, 321, 2212}.issubset(ids)
    assert not ids & {12, 14, 16, 111, 310, 511, 521, 3122}  # neutrinos invisible; pi0, K_S, B, Lambda decayed
    assert np.median((events.pdg != 0).sum(axis=1)) > 10


def test_flavour_option_and_scaling():
    strange = qqbar.generate(300, np.random.default_rng(2), sqrt_s=SQRT_S, flavours="s")
    down = qqbar.generate(300, np.random.default_rng(3), sqrt_s=SQRT_S, flavours=["d"])
    kaons = [np.isin(np.abs(e.pdg), (321, 130)).sum() / len(e) for e in (strange, down)]
    assert kaons[0] > 1.5 * kaons[1]
    assert strange.weight.sum() / 1e6 == pytest.approx(0.38)
    assert qqbar.xsec(sqrt_s=SQRT_S / 2).value_fb == pytest.approx(4 * 3.69e6)
    assert qqbar.flavour_xsec_nb(3.773, "uds")["u"] == pytest.approx(1.61 * (10.58 / 3.773) ** 2)
    scaled = qqbar.generate(50, np.random.default_rng(4), sqrt_s=SQRT_S, flavours="ud", xsec_nb=1.0)
    assert scaled.weight.sum() == pytest.approx(1.0e6)


def test_registration_and_bad_options():
    proc = get_process("qqbar")
    assert proc.unweighted and proc.xsec is qqbar.xsec and proc.generate is qqbar.generate
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="flavours"):
        qqbar.generate(10, rng, sqrt_s=SQRT_S, flavours="udsb")
    with pytest.raises(ValueError, match="open-charm"):
        qqbar.generate(10, rng, sqrt_s=3.0)
    with pytest.raises(ValueError, match="below 2.0 GeV"):
        qqbar.generate(10, rng, sqrt_s=1.019, flavours="uds")


def test_detector_sees_hadrons(events, experiment):
    out = detector.simulate(events, experiment, np.random.default_rng(5))
    tracks = out["track"]
    assert np.mean([len(t) for t in tracks]) > 4
    assert set(np.unique(ak.to_numpy(ak.flatten(tracks.charge))).tolist()) == {-1, 1}
    assert out["trigger"].mean() > 0.7

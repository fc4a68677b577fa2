"""Tests of the mumu_gamma and mumu_zprime generators."""

import numpy as np
import pytest

from darkscan.generate.processes import qed_mumu, zprime
from darkscan.generate.registry import get_process

SQRT_S = 10.58


def test_registered():
    assert get_process("mumu_gamma").generate is qed_mumu.generate
    assert get_process("mumu_zprime").generate is zprime.generate


def test_mumu_gamma_events_and_cuts():
    ev = qed_mumu.generate(20_000, np.random.default_rng(1), sqrt_s=SQRT_S)
    assert ev.pdg.shape == (20_000, 3) and np.all(ev.pdg == [13, -13, 22])
    assert np.allclose(ev.p4.sum(axis=1), [SQRT_S, 0, 0, 0], atol=1e-9)
    photon = ev.p4[:, 2]
    theta = np.degrees(np.arccos(photon[:, 3] / np.linalg.norm(photon[:, 1:], axis=1)))
    assert photon[:, 0].min() >= 0.3 and theta.min() >= 20 and theta.max() <= 160
    assert np.all(ev.weight > 0) and ev.weight.max() / ev.weight.mean() < 50
    # Tree-level cross section with the default cuts is a fraction of the Born 0.776 nb.
    assert 0.05 * 0.776e6 < ev.weight.sum() < 0.4 * 0.776e6
    scaled = qed_mumu.generate(20_000, np.random.default_rng(1), sqrt_s=SQRT_S, xsec_scale=1.3)
    assert np.allclose(scaled.weight, 1.3 * ev.weight)
    assert np.array_equal(scaled.p4, ev.p4)


def test_mumu_gamma_bad_options():
    with pytest.raises(ValueError, match="photon_energy_min"):
        qed_mumu.generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, photon_energy_min=0.0)


@pytest.mark.parametrize("gen, opts", [(qed_mumu.generate, {}), (zprime.generate, {"mass": 2.0})])
def test_seeds(gen, opts):
    a = gen(5000, np.random.default_rng(11), sqrt_s=SQRT_S, **opts)
    b = gen(5000, np.random.default_rng(11), sqrt_s=SQRT_S, **opts)
    c = gen(5000, np.random.default_rng(12), sqrt_s=SQRT_S, **opts)
    assert np.array_equal(a.p4, b.p4) and np.array_equal(a.weight, b.weight)
    assert not np.array_equal(a.p4, c.p4)
    assert a.weight.sum() == pytest.approx(c.weight.sum(), rel=0.05)


@pytest.mark.parametrize("decay", ["invisible", "mumu"])
def test_zprime_four_momentum_and_weights(decay):
    ev = zprime.generate(20_000, np.random.default_rng(2), sqrt_s=SQRT_S, mass=1.5, coupling=0.1, decay=decay)
    assert np.allclose(ev.p4.sum(axis=1) + ev.invisible, [SQRT_S, 0, 0, 0], atol=1e-9)
    zp = ev.p4[:, 2:].sum(axis=1) + ev.invisible
    assert np.allclose(zp[:, 0] ** 2 - (zp[:, 1:] ** 2).sum(1), 1.5**2)
    if decay == "invisible":
        assert np.all(ev.pdg == [13, -13])
    else:
        assert np.all(ev.pdg == [13, -13, 13, -13]) and np.all(ev.invisible == 0)
    full = zprime.generate(20_000, np.random.default_rng(2), sqrt_s=SQRT_S, mass=1.5, coupling=1.0, decay=decay)
    assert np.allclose(full.weight, 100 * ev.weight)
    assert np.all(ev.weight > 0) and ev.weight.max() / ev.weight.mean() < 20


def test_zprime_scenario_and_errors():
    ev = zprime.generate(1000, np.random.default_rng(3), sqrt_s=SQRT_S, mass=1.0)
    inv = zprime.generate(1000, np.random.default_rng(3), sqrt_s=SQRT_S, mass=1.0, scenario="lmu_ltau")
    assert inv.weight.sum() == pytest.approx(ev.weight.sum() / (1 + 0.99924081319), rel=1e-6)
    with pytest.raises(ValueError, match=r"mass 11.0 GeV is outside the allowed range \(0, 10.3687\)"):
        zprime.generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, mass=11.0)
    with pytest.raises(ValueError, match="mass None"):
        zprime.generate(10, np.random.default_rng(1), sqrt_s=SQRT_S)
    with pytest.raises(ValueError, match="decay"):
        zprime.generate(10, np.random.default_rng(1), sqrt_s=SQRT_S, mass=1.0, decay="ee")


def test_photon_energy_band_and_its_complement_add_up():
    """A sample with photon_energy_max covers [min, max), the dimuon masses above
    sqrt(s - 2 sqrt(s) E_max): with a sample from E_max it gives the cross section from min."""
    cuts = dict(sqrt_s=SQRT_S, photon_theta_min=36.0, photon_theta_max=142.0)
    band = qed_mumu.generate(200_000, np.random.default_rng(1), photon_energy_min=0.45, photon_energy_max=0.9, **cuts)
    above = qed_mumu.generate(200_000, np.random.default_rng(2), photon_energy_min=0.9, **cuts)
    total = qed_mumu.generate(400_000, np.random.default_rng(3), photon_energy_min=0.45, **cuts)
    photon = band.p4[:, 2, 0]
    assert photon.min() >= 0.45 and photon.max() <= 0.9
    mumu = band.p4[:, 0] + band.p4[:, 1]
    mass = np.sqrt(mumu[:, 0] ** 2 - (mumu[:, 1:] ** 2).sum(axis=1))
    assert mass.min() >= np.sqrt(SQRT_S**2 - 2 * SQRT_S * 0.9) - 1e-9

    def err(w):
        return np.sqrt((w**2).sum())

    diff = band.weight.sum() + above.weight.sum() - total.weight.sum()
    assert abs(diff) < 3 * np.sqrt(err(band.weight) ** 2 + err(above.weight) ** 2 + err(total.weight) ** 2)
    # the soft band is a sizeable fraction (18.9 of 73.2 pb): the photon spectrum goes as dE / E
    assert 0.22 < band.weight.sum() / total.weight.sum() < 0.30
    with pytest.raises(ValueError, match="photon_energy_max"):
        qed_mumu.generate(10, np.random.default_rng(1), photon_energy_min=0.9, photon_energy_max=0.5, **cuts)

"""Tests of the two-photon e+e- -> e+e- mu+mu- generator."""

import numpy as np
import pytest
from scipy.integrate import quad

from darkscan.generate.processes import twophoton

SQRT_S = 10.58
NO_CUTS = dict(muon_theta_min=0.0, muon_theta_max=180.0, muon_pt_min=0.0)


@pytest.mark.parametrize("w", [0.25, 0.5, 2.0, 10.0])
def test_breit_wheeler_angular_integrates_to_total(w):
    total = quad(lambda c: twophoton.dsigma_gg_mumu_dcos(np.array(w), np.array(c)), -1, 1, limit=200)[0]
    assert total == pytest.approx(float(twophoton.sigma_gg_mumu(w)), rel=1e-6)


def test_breit_wheeler_high_energy_limit():
    w = 1000.0
    m = twophoton.MUON_MASS
    expected = 4 * np.pi * twophoton.ALPHA_EM**2 / w**2 * (np.log(w**2 / m**2) - 1)
    assert float(twophoton.sigma_gg_mumu(w)) == pytest.approx(expected, rel=1e-4)


def test_total_cross_section_matches_physics_book():
    ev = twophoton.generate(100_000, np.random.default_rng(11), sqrt_s=SQRT_S, **NO_CUTS)
    sigma_nb = ev.weight.sum() / 1e6
    assert sigma_nb == pytest.approx(18.9, rel=0.10)


def test_cut_phase_space_and_cross_section():
    rng = np.random.default_rng(12)
    ev = twophoton.generate(50_000, rng, sqrt_s=SQRT_S)
    mus = ev.p4[:, 2:]
    pt = np.hypot(mus[..., 1], mus[..., 2])
    theta = np.degrees(np.arctan2(pt, mus[..., 3]))
    assert pt.min() >= 0.3 and theta.min() >= 15 and theta.max() <= 165
    mass2 = mus.sum(1)[:, 0] ** 2 - (mus.sum(1)[:, 1:] ** 2).sum(1)
    assert np.sqrt(mass2).min() > 0.5
    sigma_cut = ev.weight.sum()
    # Cross-check the pre-cut importance sampling: the cut cross section from uncut generation.
    full = twophoton.generate(200_000, np.random.default_rng(13), sqrt_s=SQRT_S, **NO_CUTS)
    fm = full.p4[:, 2:]
    fpt = np.hypot(fm[..., 1], fm[..., 2])
    fth = np.degrees(np.arctan2(fpt, fm[..., 3]))
    sel = np.all((fpt >= 0.3) & (fth >= 15) & (fth <= 165), axis=1)
    ref = full.weight[sel].sum()
    err = np.sqrt((full.weight[sel] ** 2).sum())
    assert sigma_cut == pytest.approx(ref, abs=4 * err + 0.01 * ref)
    assert sigma_cut < full.weight.sum()


def test_pair_pt_cut():
    ev = twophoton.generate(5_000, np.random.default_rng(3), sqrt_s=SQRT_S, mumu_pt_min=0.2)
    pair = ev.p4[:, 2:].sum(1)
    assert np.hypot(pair[:, 1], pair[:, 2]).min() >= 0.2


def test_four_momentum_conservation_and_record():
    ev = twophoton.generate(10_000, np.random.default_rng(4), sqrt_s=SQRT_S)
    total = ev.p4.sum(axis=1) + ev.invisible
    np.testing.assert_allclose(total, np.tile([SQRT_S, 0, 0, 0], (len(ev), 1)), atol=1e-9)
    assert (ev.pdg == [11, -11, 13, -13]).all()
    masses2 = ev.p4[..., 0] ** 2 - (ev.p4[..., 1:] ** 2).sum(-1)
    np.testing.assert_allclose(np.sqrt(np.abs(masses2[:, 2:])), twophoton.MUON_MASS, rtol=1e-5)
    assert np.all(np.isfinite(ev.weight)) and np.all(ev.weight > 0)
    # Scattered e- keeps going along +z (the e- beam) mostly.
    assert np.median(ev.p4[:, 0, 3]) > 0 > np.median(ev.p4[:, 1, 3])


def test_determinism():
    a = twophoton.generate(1000, np.random.default_rng(5), sqrt_s=SQRT_S)
    b = twophoton.generate(1000, np.random.default_rng(5), sqrt_s=SQRT_S)
    c = twophoton.generate(1000, np.random.default_rng(6), sqrt_s=SQRT_S)
    np.testing.assert_array_equal(a.p4, b.p4)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.p4, c.p4)


def test_bad_options():
    with pytest.raises(ValueError, match="muon_theta"):
        twophoton.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, muon_theta_min=170, muon_theta_max=10)
    with pytest.raises(TypeError):
        twophoton.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, unknown_option=1)


def test_pair_pt_importance_sampling_is_unbiased():
    cut = 0.4
    fast = twophoton.generate(20_000, np.random.default_rng(21), sqrt_s=SQRT_S, mumu_pt_min=cut)
    ref = twophoton.generate(200_000, np.random.default_rng(22), sqrt_s=SQRT_S)
    pair = ref.p4[:, 2:].sum(1)
    w = ref.weight[np.hypot(pair[:, 1], pair[:, 2]) >= cut]
    err = np.sqrt((w**2).sum())
    err_fast = np.sqrt((fast.weight**2).sum())  # per-event weights already carry 1/N_trials
    assert fast.weight.sum() == pytest.approx(w.sum(), abs=4 * np.hypot(err, err_fast))


def test_recoil_cut_importance_sampling_is_unbiased():
    cuts = dict(mumu_pt_min=0.3)
    recoil = dict(recoil_cos_max=0.85, recoil_p_min=0.4)
    fast = twophoton.generate(20_000, np.random.default_rng(31), sqrt_s=SQRT_S, **cuts, **recoil)
    pair = fast.p4[:, 2:].sum(1)
    p = np.linalg.norm(pair[:, 1:], axis=1)
    assert p.min() >= 0.4 and np.abs(pair[:, 3] / p).max() <= 0.85
    ref = twophoton.generate(100_000, np.random.default_rng(32), sqrt_s=SQRT_S, **cuts)
    pair = ref.p4[:, 2:].sum(1)
    p = np.linalg.norm(pair[:, 1:], axis=1)
    w = ref.weight[(p >= 0.4) & (np.abs(pair[:, 3]) <= 0.85 * p)]
    err = np.hypot(np.sqrt((w**2).sum()), np.sqrt((fast.weight**2).sum()))
    assert fast.weight.sum() == pytest.approx(w.sum(), abs=4 * err)
    with pytest.raises(ValueError, match="recoil_cos_max"):
        twophoton.generate(10, np.random.default_rng(0), sqrt_s=SQRT_S, recoil_cos_max=1.5)


def test_total_cross_section_within_ten_percent_of_physics_book():
    # Belle II Physics Book (PTEP 2019 123C01): 18.9 nb for W(mu mu) > 0.5 GeV at 10.58 GeV.
    sigma = twophoton.xsec(sqrt_s=SQRT_S)
    assert sigma.value_fb / 1e6 == pytest.approx(18.9, rel=0.10)
    assert sigma.error_fb < 0.01 * sigma.value_fb


def test_samples_split_in_the_pair_mass_add_up():
    """eemumu up to w_max and from it (w_min) cover disjoint phase space whose sum is the whole."""
    cuts = dict(sqrt_s=SQRT_S, muon_theta_min=15.0, muon_theta_max=165.0, muon_pt_min=0.35, mumu_pt_min=0.9)
    low = twophoton.generate(20_000, np.random.default_rng(1), w_min=0.5, w_max=3.0, **cuts)
    high = twophoton.generate(20_000, np.random.default_rng(2), w_min=3.0, **cuts)
    total = twophoton.generate(40_000, np.random.default_rng(3), w_min=0.5, **cuts)

    def mass(ev):
        pair = ev.p4[:, 2:].sum(1)
        return np.sqrt(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1))

    assert mass(low).max() <= 3.0 and mass(high).min() > 3.0

    def err(w):
        return np.sqrt((w**2).sum())

    diff = low.weight.sum() + high.weight.sum() - total.weight.sum()
    assert abs(diff) < 3 * np.sqrt(err(low.weight) ** 2 + err(high.weight) ** 2 + err(total.weight) ** 2)
    assert 0.01 < high.weight.sum() / total.weight.sum() < 0.5
    with pytest.raises(ValueError, match="w_max"):
        twophoton.generate(10, np.random.default_rng(1), w_min=3.0, w_max=2.0, **cuts)


def test_one_muon_and_a_tagged_electron_match_cuts_applied_afterwards():
    """muons_required=1 with an electron tag equals the cut-free sample with those cuts applied to
    its events; a tagged and a vetoed sample add up to the sample without tag."""
    base = dict(sqrt_s=SQRT_S, w_min=0.5, muon_theta_min=15.0, muon_theta_max=165.0, muon_pt_min=0.35)
    tag = dict(electron_tag_theta_min=15.0, electron_tag_theta_max=165.0, electron_tag_pt_min=0.3)
    tagged = twophoton.generate(50_000, np.random.default_rng(1), muons_required=1, **base, **tag)
    free = twophoton.generate(400_000, np.random.default_rng(2), sqrt_s=SQRT_S, w_min=0.5, **NO_CUTS)
    p = free.p4
    pt = np.hypot(p[..., 1], p[..., 2])
    theta = np.degrees(np.arctan2(pt, p[..., 3]))
    e_in = np.any((theta[:, :2] >= 15) & (theta[:, :2] <= 165) & (pt[:, :2] >= 0.3), axis=1)
    mu_in = (theta[:, 2:] >= 15) & (theta[:, 2:] <= 165) & (pt[:, 2:] >= 0.35)
    after = free.weight[e_in & mu_in.any(axis=1)]

    def err(w):
        return np.sqrt((w**2).sum())

    assert abs(tagged.weight.sum() - after.sum()) < 3 * np.hypot(err(tagged.weight), err(after))
    # the events: a tagged electron, at least one muon inside, the other may be anywhere
    pt_t = np.hypot(tagged.p4[..., 1], tagged.p4[..., 2])
    th_t = np.degrees(np.arctan2(pt_t, tagged.p4[..., 3]))
    assert np.all(np.any((th_t[:, :2] >= 15) & (th_t[:, :2] <= 165) & (pt_t[:, :2] >= 0.3), axis=1))
    inside = (th_t[:, 2:] >= 15) & (th_t[:, 2:] <= 165) & (pt_t[:, 2:] >= 0.35)
    assert inside.any(axis=1).all() and (~inside.all(axis=1)).mean() > 0.2
    vetoed = twophoton.generate(50_000, np.random.default_rng(3), electron_tag_veto=True, **base, **tag)
    both = twophoton.generate(50_000, np.random.default_rng(4), **base)
    with_tag = twophoton.generate(50_000, np.random.default_rng(5), **base, **tag)
    diff = vetoed.weight.sum() + with_tag.weight.sum() - both.weight.sum()
    assert abs(diff) < 3 * np.sqrt(err(vetoed.weight) ** 2 + err(with_tag.weight) ** 2 + err(both.weight) ** 2)
    with pytest.raises(ValueError, match="electron_tag"):
        twophoton.generate(10, np.random.default_rng(1), electron_tag_veto=True, **base)

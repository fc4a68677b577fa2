"""The LFV Z' search lfv_zprime (Belle II): config, the plugin's variables and model, the plot of
efficiency x cross section."""

import awkward as ak
import numpy as np
import pandas as pd
import pytest

from darkscan import config as cfg
from darkscan import preflight
from darkscan.channels.lfv_zprime import emu_recoil
from darkscan.experiments import hermeticity
from darkscan.experiments.detector import simulate
from darkscan.expressions import evaluate_cut
from darkscan.generate.registry import get_process
from darkscan.physics.models import get_model
from darkscan.plots.limits import XSEC_COLUMNS, visible_xsec
from darkscan.select.variables import get_variables


@pytest.fixture(scope="module")
def channel():
    return cfg.channel_config(cfg.load_global(), "lfv_zprime")


@pytest.fixture(scope="module")
def belle2():
    return cfg.experiment_config(cfg.load_global(), "belle2")


def test_config_resolves_and_passes_the_preflight_checks(channel, belle2):
    sqrt_s = cfg.Beams(**belle2["beams"]).sqrt_s
    preflight.check_channel(channel, where="config/channels/lfv_zprime.yaml", sqrt_s=sqrt_s)
    assert channel["luminosity_fb"] == 0.276 and channel["cl"] == 0.90
    assert get_variables("emu_recoil")[0] is emu_recoil


def _columns(process, n, experiment, seed=1, **options):
    sqrt_s = cfg.Beams(**experiment["beams"]).sqrt_s
    truth = get_process(process).generate(n, np.random.default_rng(seed), sqrt_s=sqrt_s, **options)
    reco = simulate(truth, experiment, np.random.default_rng(seed + 100))
    func, branches = get_variables("emu_recoil")
    return func(ak.Array({b: reco[b] for b in branches}), experiment), truth


def _passed(cols, cuts):
    mask = np.ones(len(next(iter(cols.values()))), dtype=bool)
    for cut in cuts:
        mask &= evaluate_cut(cut["expr"], cols)
    return mask


def _ideal(experiment):
    """No smearing, no beam spread, perfect lepton identification."""
    return cfg.deep_merge(
        experiment,
        {
            "tracking": {"pt_resolution_a": 0.0, "pt_resolution_b": 0.0, "theta_resolution": 0.0, "efficiency": 1.0},
            "beams": {"sqrt_s_spread": 0.0},
            "particle_id": {
                "muon_efficiency": 1.0,
                "electron_efficiency": 1.0,
                "electron_as_muon": 0.0,
                "muon_as_electron": 0.0,
                "pion_as_muon": 0.0,
                "pion_as_electron": 0.0,
            },
        },
    )


@pytest.mark.parametrize("mass", [1.0, 5.0])
def test_ideal_signal_gives_the_exact_recoil_mass_and_an_e_mu_pair(belle2, mass):
    """With ideal tracks the mass recoiling against the e mu pair is the Z' mass, for both charge combinations."""
    options = {"mass": mass, "lepton_theta_min": 30.0, "lepton_theta_max": 140.0}  # in the tracker (17-150 lab)
    cols, truth = _columns("emu_zprime", 600, _ideal(belle2), **options)
    two = cols["n_tracks"] == 2
    assert two.mean() > 0.85
    assert (cols["emu_pair"][two] == 1).all() and (cols["charge_sum"][two] == 0).all()
    # exact only with the right mass given to each track (swapping m_e and m_mu moves M^2 by ~0.05 GeV^2)
    np.testing.assert_allclose(cols["recoil_mass"][two], mass, rtol=2e-6)
    assert {tuple(row) for row in truth.pdg.tolist()} == {(11, -13), (13, -11)}


def test_tau_pairs_to_e_mu_pass_and_mumu_needs_a_misidentified_muon(channel, belle2):
    """tau tau -> e mu are e mu pairs; mu mu gamma are one only where a muon is taken for an electron."""
    cols, _ = _columns("tautau_qed_emu", 20_000, belle2)
    pair = cols["emu_pair"] == 1
    assert 0.4 < pair.mean() < 0.9  # the tracking acceptance and the lepton IDs (92.4% e, 90% mu)
    options = channel["backgrounds"]["mumu_gamma"]["options"]
    mumu, _ = _columns("mumu_gamma", 20_000, belle2, **options)
    assert (mumu["emu_pair"] == 1).mean() < 1e-3
    perfect, _ = _columns("mumu_gamma", 20_000, _ideal(belle2), **options)
    assert (perfect["emu_pair"] == 1).sum() == 0


def test_selection_keeps_barrel_signal_and_the_recoil_cuts_tau_pairs(channel, belle2):
    """The cuts keep most signal with both leptons in the barrel; tau pairs pass less (the MVA does the rest)."""
    cuts = channel["selection"]["cuts"]
    barrel, _ = _columns("emu_zprime", 4000, belle2, mass=3.0, lepton_theta_min=40.0, lepton_theta_max=125.0)
    taus, _ = _columns("tautau_qed_emu", 40_000, belle2)
    eff_signal = np.average(_passed(barrel, cuts))
    assert 0.3 < eff_signal < 0.9
    assert np.average(_passed(taus, cuts)) < 0.5 * eff_signal


def test_model_is_g_prime_squared_with_an_invisible_z_prime():
    model = get_model("lfv_zprime")
    assert model.power == 2 and model.branching("invisible", np.array([0.5, 7.0])).tolist() == [1.0, 1.0]
    # a limit of 4x the g' = 1 cross section is g' = 2
    assert model.coupling_limit(np.array([40.0]), np.array([10.0]), np.array([1.0])) == pytest.approx([2.0])


def test_visible_cross_section_is_the_limit_times_the_efficiency():
    frame = pd.DataFrame({"mass": [1.0, 2.0], "efficiency": [0.2, 0.5], **{c: [10.0, 4.0] for c in XSEC_COLUMNS}})
    visible = visible_xsec(frame)
    for column in XSEC_COLUMNS:
        assert visible[column].tolist() == pytest.approx([2.0, 2.0])
    assert frame["xsec_obs"].tolist() == [10.0, 4.0]  # the input is left alone


def test_signal_generator_cut_sits_outside_the_selection(channel, belle2):
    """Both leptons in 10-170 deg CM (the config) or in 5-175 deg: the same selected cross section
    (efficiency x sigma), within the statistical error, though sigma itself grows (the t-channel pole)."""
    cuts = channel["selection"]["cuts"]
    yields = {}
    for lo, hi in ((10.0, 170.0), (5.0, 175.0)):
        cols, truth = _columns("emu_zprime", 20_000, belle2, seed=3, mass=3.0, lepton_theta_min=lo, lepton_theta_max=hi)
        w = truth.weight * _passed(cols, cuts)
        yields[lo] = (w.sum(), np.sqrt((w**2).sum()), truth.weight.sum())
    (nominal, e_nominal, sigma_nominal), (wide, e_wide, sigma_wide) = yields[10.0], yields[5.0]
    assert e_nominal < 0.05 * nominal
    assert abs(wide - nominal) < 2.5 * np.hypot(e_nominal, e_wide)
    assert sigma_wide > 1.2 * sigma_nominal


def _radiative_bhabha_seen_fb(n: int, rng: np.random.Generator, sqrt_s: float) -> float:
    """sigma(e+e- -> e+e- gamma) with both leptons at 15-165 deg (CM) and pT > 0.4 GeV, the photon
    at 36-142 deg with E* > 1 GeV, > 15 deg from each lepton, and p*_T(ee) > 1 GeV (eegamma_seen)."""
    events = get_process("eegamma_seen").generate(
        n,
        rng,
        sqrt_s=sqrt_s,
        photon_energy_min=1.0,
        photon_theta_min=36.0,
        photon_theta_max=142.0,
        lepton_theta_min=15.0,
        lepton_theta_max=165.0,
        photon_lepton_angle_min=15.0,
    )
    p = events.p4
    pair_pt = np.hypot(*(p[:, 0, 1:3] + p[:, 1, 1:3]).T)
    lepton_pt = np.minimum(np.hypot(*p[:, 0, 1:3].T), np.hypot(*p[:, 1, 1:3].T))
    return float(events.weight[(pair_pt > 1.0) & (lepton_pt > 0.4)].sum())


def test_radiative_bhabha_with_a_misidentified_electron_is_negligible(channel, belle2):
    """e+e- -> e+e- gamma passes the e mu selection only with one electron taken for a muon alone
    (muon ID and no electron ID) and the hard barrel photon (the recoil) missed by the ECL and the
    KLM: 0.46 nb x 2.8e-4 x 2.5e-4 x 0.85 at 0.276 fb^-1 is < 0.01 events, so the channel
    generates no such sample (config/channels/lfv_zprime.yaml)."""
    sqrt_s = cfg.Beams(**belle2["beams"]).sqrt_s
    sigma = _radiative_bhabha_seen_fb(200_000, np.random.default_rng(5), sqrt_s)
    assert sigma == pytest.approx(4.6e5, rel=0.05)  # fb
    pid, cal = belle2["particle_id"], belle2["calorimeter"]
    only_muon = pid["electron_as_muon"] * (1.0 - pid["electron_efficiency"])
    only_electron = pid["electron_efficiency"] * (1.0 - pid["electron_as_muon"])
    # above 1 GeV the ECL misses 5e-4 of barrel photons and the KLM sees >= 50% of those (belle2.yaml)
    ecl_miss = 1.0 - hermeticity.evaluate_curve(cal["photon_efficiency"], np.array([1.0]))[0]
    klm_miss = 1.0 - hermeticity.evaluate_curve(cal["klm"]["photon_efficiency"], np.array([1.0]))[0]
    events = sigma * 2 * only_muon * only_electron * ecl_miss * klm_miss * 0.85 * channel["luminosity_fb"]
    assert events < 0.01

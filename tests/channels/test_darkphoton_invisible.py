"""The single-photon search darkphoton_invisible (Belle II) and its BaBar configuration
darkphoton_invisible_babar: configs, the plugin's variables, the backgrounds' generator cuts."""

import importlib

import awkward as ak
import numpy as np
import pytest

from darkscan import config as cfg
from darkscan import preflight
from darkscan.experiments.detector import simulate
from darkscan.expressions import evaluate_cut
from darkscan.generate.registry import get_process
from darkscan.select.variables import get_variables

CHANNELS = {"darkphoton_invisible": 20.0, "darkphoton_invisible_babar": 53.0}


@pytest.fixture(scope="module", params=sorted(CHANNELS))
def configured(request):
    """(channel config, its experiment config) of each configuration."""
    global_config = cfg.load_global()
    channel = cfg.channel_config(global_config, request.param)
    return channel, cfg.experiment_config(global_config, channel["experiment"])


@pytest.fixture(scope="module")
def channel():
    return cfg.channel_config(cfg.load_global(), "darkphoton_invisible")


@pytest.fixture(scope="module")
def belle2():
    return cfg.experiment_config(cfg.load_global(), "belle2")


def test_configs_resolve_and_pass_the_preflight_checks(configured):
    channel, experiment = configured
    sqrt_s = cfg.Beams(**experiment["beams"]).sqrt_s
    preflight.check_channel(channel, where=f"config/channels/{channel['name']}.yaml", sqrt_s=sqrt_s)
    assert channel["luminosity_fb"] == CHANNELS[channel["name"]]


def test_darkphoton_invisible_plugin_imports():
    importlib.import_module("darkscan.channels.darkphoton_invisible")


def _passed(cols, cuts):
    mask = np.ones(len(next(iter(cols.values()))), dtype=bool)
    for cut in cuts:
        mask &= evaluate_cut(cut["expr"], cols)
    return mask


def _columns(process, n, experiment, seed=1, **options):
    sqrt_s = cfg.Beams(**experiment["beams"]).sqrt_s
    truth = get_process(process).generate(n, np.random.default_rng(seed), sqrt_s=sqrt_s, **options)
    reco = simulate(truth, experiment, np.random.default_rng(seed + 100))
    func, branches = get_variables("single_photon")
    return func(ak.Array({b: reco[b] for b in branches}), experiment), truth, sqrt_s


@pytest.mark.parametrize("mass", [1.0, 4.0, 7.0])
def test_signal_recoil_mass_peaks_at_the_dark_photon_mass(belle2, mass):
    cols, _, sqrt_s = _columns(
        "gamma_darkphoton", 4000, belle2, mass=mass, decay="invisible", photon_theta_min=55.0, photon_theta_max=110.0
    )
    one = (cols["n_photons"] >= 1) & (cols["n_extra_photons"] == 0)
    assert one.mean() > 0.95 and (cols["n_tracks"] == 0).all()
    e_star = (sqrt_s**2 - mass**2) / (2 * sqrt_s)
    assert np.median(cols["photon_e_cm"][one]) == pytest.approx(e_star, rel=3e-3)
    assert np.median(cols["recoil_mass_squared"][one]) == pytest.approx(mass**2, abs=0.15)
    m2 = cols["recoil_mass_squared"][one]
    np.testing.assert_allclose(cols["recoil_mass"][one], np.sign(m2) * np.sqrt(np.abs(m2)))
    assert np.all(np.abs(cols["photon_cos_cm"][one]) <= np.cos(np.radians(55.0)) + 0.02)


def test_ideal_photon_gives_the_exact_cm_energy(belle2):
    """Without smearing and beam spread, E* and M_X^2 of the signal are exact."""
    ideal = cfg.deep_merge(
        belle2,
        {
            "calorimeter": {
                "energy_resolution_a": 0.0,
                "energy_resolution_b": 0.0,
                "energy_resolution_c": 0.0,
                "angular_resolution": 0.0,
                "photon_efficiency": 1.0,
                "beam_background": {"clusters_mean": 0.0, "energy_scale": 0.03},
            },
            "beams": {"sqrt_s_spread": 0.0},
        },
    )
    cols, _, sqrt_s = _columns("gamma_darkphoton", 500, ideal, mass=3.0, decay="invisible")
    seen = cols["n_photons"] == 1
    np.testing.assert_allclose(cols["photon_e_cm"][seen], (sqrt_s**2 - 9.0) / (2 * sqrt_s), rtol=1e-9)
    np.testing.assert_allclose(cols["recoil_mass"][seen], 3.0, rtol=1e-7)
    assert (cols["extra_energy"][seen] == 0).all() and (cols["n_klm"][seen] == 0).all()


def test_backgrounds_are_single_photons_where_they_escape(configured):
    """Both backgrounds pass the selection only through what the detector misses: the leptons of
    eegamma beyond the ECL, the second photon of gammagamma_isr in a gap or beyond the ECL; with a
    hermetic ECL and tracker none survives."""
    channel, experiment = configured
    hermetic = cfg.deep_merge(
        experiment,
        {
            "calorimeter": {
                "regions": [{"name": "all", "theta_min_deg": 0.0, "theta_max_deg": 180.0}],
                "photon_efficiency": 1.0,
            },
            "tracking": {"theta_min_deg": 0.0, "theta_max_deg": 180.0},
        },
    )
    for name in ("eegamma", "gammagamma_isr"):
        options = channel["backgrounds"][name].get("options", {})
        cols, truth, _ = _columns(name, 10_000, experiment, **options)
        passed = _passed(cols, channel["selection"]["cuts"])
        assert 0.02 < passed.mean() < 0.9, name
        tight, _, _ = _columns(name, 10_000, hermetic, **options)
        assert _passed(tight, channel["selection"]["cuts"]).sum() == 0, name


def test_soft_isr_cannot_make_a_single_photon(configured):
    """The gammagamma_isr generator cut x_min = 0.05 is outside the selection: the cut phase space
    has the same cross section without it (within the Monte Carlo error)."""
    channel, _ = configured
    options = dict(channel["backgrounds"]["gammagamma_isr"]["options"])
    process = get_process("gammagamma_isr")
    with_cut = process.generate(10_000, np.random.default_rng(4), sqrt_s=10.58, **options).weight.sum()
    options["x_min"] = 0.0
    without = process.generate(10_000, np.random.default_rng(5), sqrt_s=10.58, **options).weight.sum()
    assert with_cut == pytest.approx(without, rel=3 * np.sqrt(2.0 / 10_000))

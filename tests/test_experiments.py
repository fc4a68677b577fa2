"""The experiment configs (config/experiments/*.yaml): validation, beams, the sqrt_s option."""

import math

import numpy as np
import pytest

from darkscan import config as cfg
from darkscan.beams import Beams
from darkscan.experiments.beams import boost_beta_gamma, cm_to_lab_matrix
from darkscan.experiments.detector import beams_of, smear_photons

EXPERIMENTS = ["belle2", "babar", "belle", "kloe", "bes3"]

# name: (sqrt_s, beta*gamma, tolerance on beta*gamma)
EXPECTED = {
    "belle2": (10.58, 0.287, 0.002),
    "babar": (2 * math.sqrt(9.0 * 3.1), 0.56, 0.003),
    "belle": (10.58, 0.425, 0.002),
    "kloe": (1.0195, 0.0125, 0.0005),  # small x boost from the 25 mrad crossing angle
    "bes3": (3.773, 0.011, 0.0005),  # 22 mrad crossing angle
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_validates_and_is_complete(global_config, name):
    exp = cfg.experiment_config(global_config, name)
    assert exp["name"] == name
    for block in ("beams", "tracking", "calorimeter", "particle_id", "trigger", "systematics"):
        assert exp[block], f"{name}: {block} missing"
    assert "sqrt_s" not in exp["beams"]
    assert exp["beams"]["sqrt_s_spread"] > 0
    assert {"luminosity_rel", "tracking_rel_per_track", "muon_id_rel", "trigger_rel"} <= set(exp["systematics"])
    for region in exp["calorimeter"]["regions"]:
        assert region["theta_min_deg"] < region["theta_max_deg"]
    assert exp["tracking"]["theta_min_deg"] < exp["tracking"]["theta_max_deg"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_sqrt_s_and_boost(global_config, name):
    beams = beams_of(cfg.experiment_config(global_config, name))
    sqrt_s, beta_gamma, tol = EXPECTED[name]
    assert beams.sqrt_s == pytest.approx(sqrt_s, abs=0.005)
    assert boost_beta_gamma(beams) == pytest.approx(beta_gamma, abs=tol)
    # The CM -> lab transformation maps the CM beams onto the lab beams.
    to_lab = cm_to_lab_matrix(beams)
    e = beams.sqrt_s / 2
    lab_electron = to_lab @ np.array([e, 0, 0, e])
    assert lab_electron[0] == pytest.approx(beams.electron_energy, rel=1e-9)


def test_babar_and_belle_beams():
    assert Beams(9.0, 3.1).sqrt_s == pytest.approx(10.564, abs=5e-4)  # 2 sqrt(9.0 * 3.1) = 10.5641
    assert boost_beta_gamma(Beams(9.0, 3.1)) == pytest.approx(0.56, abs=0.003)
    assert boost_beta_gamma(Beams(8.0, 3.5, 0.022)) == pytest.approx(0.425, abs=0.001)


def test_symmetric_machines_have_equal_beams_and_x_boost(global_config):
    for name in ("kloe", "bes3"):
        beams = beams_of(cfg.experiment_config(global_config, name))
        assert beams.electron_energy == beams.positron_energy
        electron_lab = cm_to_lab_matrix(beams) @ np.array([1.0, 0, 0, 1.0])
        assert abs(electron_lab[1] / electron_lab[0] - math.sin(beams.crossing_angle / 2)) < 1e-9


def test_sqrt_s_override_sets_both_energies(global_config):
    config = cfg.deep_merge(global_config, {"experiments": {"bes3": {"beams": {"sqrt_s": 4.18}}}})
    exp = cfg.experiment_config(config, "bes3")
    beams = beams_of(exp)
    assert beams.sqrt_s == pytest.approx(4.18, rel=1e-12)
    assert beams.electron_energy == beams.positron_energy == pytest.approx(4.18 / 2 / math.cos(0.011))
    # Beam energies given with sqrt_s must be symmetric.
    bad = cfg.deep_merge(global_config, {"experiments": {"belle": {"beams": {"sqrt_s": 10.0}}}})
    with pytest.raises(cfg.ConfigError, match="symmetric"):
        cfg.experiment_config(bad, "belle")


def test_beams_need_energies_or_sqrt_s(tmp_path, global_config):
    path = tmp_path / "x.yaml"
    path.write_text(
        "name: x\nbeams: {crossing_angle: 0.0}\ntracking: {theta_min_deg: 10, theta_max_deg: 170, "
        "pt_resolution_a: 0.001, pt_resolution_b: 0.003}\ncalorimeter: {regions: [{name: b, theta_min_deg: 30, "
        "theta_max_deg: 150}], energy_resolution_a: 0, energy_resolution_b: 0, energy_resolution_c: 0.01}\n"
    )
    config = cfg.deep_merge(global_config, {"experiments": {"x": {"config": str(path)}}})
    with pytest.raises(cfg.ConfigError, match="beams"):
        cfg.experiment_config(config, "x")


def test_stochastic_calorimeter_term(global_config):
    calo = cfg.experiment_config(global_config, "kloe")["calorimeter"]
    p4 = np.tile([0.25, 0.0, 0.0, 0.25], (200_000, 1))
    energy, _ = smear_photons(p4, calo, np.random.default_rng(1))
    assert energy.std() / 0.25 == pytest.approx(0.057 / math.sqrt(0.25), rel=0.02)

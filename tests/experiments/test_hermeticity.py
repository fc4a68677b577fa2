"""Hermeticity model: photon detection by the ECL and the KLM, beam background, momentum-dependent ID."""

import numpy as np
import pytest

from darkscan.events import TruthEvents
from darkscan.experiments import hermeticity
from darkscan.experiments.detector import simulate

# basf2 ecl/utility/include/utilityFunctions.h, getDetectorRegion (radians): 0.2164208, 0.5480334,
# 0.561996, 2.2462387, 2.2811453, 2.7070057 -- the ECL regions and the gaps between them.
BASF2_ECL_EDGES_RAD = [0.2164208, 0.5480334, 0.561996, 2.2462387, 2.2811453, 2.7070057]


def test_curve_is_piecewise_linear_and_constant_beyond_its_ends():
    curve = {"x": [1.0, 2.0, 4.0], "y": [0.2, 0.6, 0.7]}
    values = hermeticity.evaluate_curve(curve, np.array([0.0, 1.0, 1.5, 3.0, 4.0, 9.0]))
    assert values == pytest.approx([0.2, 0.2, 0.4, 0.65, 0.7, 0.7])
    assert hermeticity.evaluate_curve(0.3, np.array([1.0, 5.0])) == pytest.approx([0.3, 0.3])


def test_belle2_ecl_regions_are_basf2_detector_regions(experiment):
    edges = []
    for region in experiment["calorimeter"]["regions"]:
        edges += [region["theta_min_deg"], region["theta_max_deg"]]
    assert edges == pytest.approx(np.degrees(BASF2_ECL_EDGES_RAD), abs=0.05)


def test_photon_in_a_gap_or_beyond_the_ecl_leaves_no_cluster(experiment):
    cal = experiment["calorimeter"]
    theta = np.array([10.0, 20.0, 31.8, 90.0, 129.5, 140.0, 160.0])
    prob = hermeticity.ecl_photon_probability(np.full(7, 2.0), np.cos(np.radians(theta)), cal)
    assert prob[[0, 2, 4, 6]] == pytest.approx(0.0)
    # above 1 GeV a photon hitting the crystals is missed with probability 5e-4 (belle2.yaml)
    assert prob[[1, 3, 5]] == pytest.approx(1.0 - 5e-4)


def test_region_efficiency_overrides_the_calorimeter_curve():
    cal = {
        "photon_efficiency": 0.9,
        "regions": [
            {
                "name": "a",
                "theta_min_deg": 10.0,
                "theta_max_deg": 50.0,
                "photon_efficiency": {"x": [0, 1], "y": [0, 1]},
            },
            {"name": "b", "theta_min_deg": 60.0, "theta_max_deg": 120.0},
        ],
    }
    prob = hermeticity.ecl_photon_probability(np.array([0.25, 0.25]), np.cos(np.radians([30.0, 90.0])), cal)
    assert prob == pytest.approx([0.25, 0.9])


def test_klm_sees_only_within_its_coverage(experiment):
    cal = experiment["calorimeter"]
    theta = np.array([20.0, 31.8, 129.5, 160.0])
    prob = hermeticity.klm_photon_probability(np.full(4, 3.0), np.cos(np.radians(theta)), cal)
    assert prob == pytest.approx([0.0, 0.7, 0.7, 0.0])
    assert hermeticity.klm_photon_probability(np.ones(2), np.zeros(2), {"regions": []}) == pytest.approx([0, 0])


def test_beam_background_clusters_poisson_above_threshold_inside_the_ecl(experiment):
    cal = {**experiment["calorimeter"], "beam_background": {"clusters_mean": 0.5, "energy_scale": 0.03}}
    counts, energy, direction = hermeticity.beam_background_clusters(200_000, cal, np.random.default_rng(3))
    assert counts.mean() == pytest.approx(0.5, rel=0.01)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.02)
    assert energy.min() >= cal["photon_energy_min"]
    assert (energy - cal["photon_energy_min"]).mean() == pytest.approx(0.03, rel=0.01)
    theta = np.degrees(np.arccos(direction[:, 2]))
    from darkscan.experiments.detector import in_calorimeter

    assert in_calorimeter(theta, cal).all()
    assert np.linalg.norm(direction, axis=1) == pytest.approx(1.0)


def test_muon_id_follows_its_momentum_curve(experiment):
    pid = experiment["particle_id"]
    pdg = np.array([13, -13, 211, 11, 22])
    p = np.array([0.5, 2.0, 2.0, 2.0, 2.0])
    assert hermeticity.id_probability("muon", pdg, p, pid) == pytest.approx([0.6, 0.9, 0.041, 0.002, 0.0])
    assert hermeticity.id_probability("electron", pdg, p, pid) == pytest.approx([0.001, 0.001, 0.0025, 0.924, 0.0])


def _single_photon_events(n, energy, theta_lab_deg, experiment):
    """n events with one photon whose lab direction is at theta (deg), built in the CM frame."""
    from darkscan.experiments.beams import lab_to_cm_matrix, transform
    from darkscan.experiments.detector import beams_of

    lab = np.zeros((n, 4))
    lab[:, 0] = energy
    lab[:, 1] = energy * np.sin(np.radians(theta_lab_deg))
    lab[:, 3] = energy * np.cos(np.radians(theta_lab_deg))
    cm = transform(lab, lab_to_cm_matrix(beams_of(experiment)))
    return TruthEvents(np.full((n, 1), 22, dtype=np.int32), cm[:, None, :], np.zeros((n, 4)), np.ones(n))


def test_simulated_photons_in_the_barrel_are_missed_at_the_configured_rate(experiment):
    quiet = {**experiment, "beams": {**experiment["beams"], "sqrt_s_spread": 0.0}}
    quiet["calorimeter"] = {k: v for k, v in experiment["calorimeter"].items() if k != "beam_background"}
    # Belle II's 5e-4 above 1 GeV needs 1e6 photons for a 5% test; the curve is raised to a 1%
    # miss probability at 2 GeV (the simulation reads the same curve): 20k photons, 200 missed
    curve = quiet["calorimeter"]["photon_efficiency"]
    quiet["calorimeter"]["photon_efficiency"] = {"x": curve["x"], "y": [*curve["y"][:-2], 0.99, 0.99]}
    out = simulate(_single_photon_events(20_000, 2.0, 90.0, quiet), quiet, np.random.default_rng(5))
    missed = np.asarray([len(x) for x in out["photon"]]) == 0
    assert missed.mean() == pytest.approx(0.01, abs=3 * np.sqrt(0.01 * 0.99 / 20_000))
    # the KLM sees 70% of those (binomial error 3% on 200)
    klm = np.asarray([len(x) for x in out["klm"]])
    assert (klm[~missed] == 0).all()
    assert klm[missed].mean() == pytest.approx(0.7, abs=0.1)


def test_photons_in_the_forward_gap_reach_only_the_klm(experiment):
    quiet = {**experiment, "beams": {**experiment["beams"], "sqrt_s_spread": 0.0}}
    quiet["calorimeter"] = {k: v for k, v in experiment["calorimeter"].items() if k != "beam_background"}
    out = simulate(_single_photon_events(20_000, 3.0, 31.8, quiet), quiet, np.random.default_rng(6))
    assert sum(len(x) for x in out["photon"]) == 0
    assert np.mean([len(x) for x in out["klm"]]) == pytest.approx(0.7, abs=0.02)

"""Detector response: acceptance, smearing and efficiencies from the experiment config."""

import awkward as ak
import numpy as np
import pytest

from darkscan.events import TruthEvents
from darkscan.experiments.detector import in_calorimeter, simulate, smear_tracks


def _events(p4_list, pdg_list, n=1):
    p4 = np.tile(np.array(p4_list, dtype=float)[None], (n, 1, 1))
    pdg = np.tile(np.array(pdg_list, dtype=np.int32)[None], (n, 1))
    return TruthEvents(pdg, p4, np.zeros((n, 4)), np.ones(n))


def _ideal(experiment):
    ideal = {**experiment, "beams": {**experiment["beams"], "sqrt_s_spread": 0.0}}
    ideal["tracking"] = {
        **experiment["tracking"],
        "efficiency": 1.0,
        "pt_resolution_a": 0.0,
        "pt_resolution_b": 0.0,
        "theta_resolution": 0.0,
    }
    ideal["particle_id"] = {"muon_efficiency": 1.0, "pion_as_muon": 0.0, "electron_as_muon": 0.0}
    ideal["trigger"] = {"two_track_efficiency": 1.0}
    ideal["calorimeter"] = {**experiment["calorimeter"], "photon_efficiency": 1.0}
    ideal["calorimeter"].pop("beam_background", None)
    return ideal


def test_back_to_back_muons_at_90_degrees_cm_are_reconstructed(experiment):
    e = 5.0
    p = np.sqrt(e**2 - 0.1056583755**2)
    events = _events([[e, p, 0, 0], [e, -p, 0, 0]], [13, -13])
    out = simulate(events, _ideal(experiment), np.random.default_rng(1))
    track = out["track"]
    assert len(track[0]) == 2
    assert sorted(np.asarray(track.charge[0]).tolist()) == [-1, 1]
    assert bool(np.all(np.asarray(track.muon_id[0])))
    # total lab momentum of the pair equals the boost of a 10 GeV system at rest: 10 * beta*gamma
    px = float(np.sum(track.px[0]))
    pz = float(np.sum(track.pz[0]))
    assert np.hypot(px, pz) == pytest.approx(10.0 * 0.28678, rel=2e-3)


def test_particles_along_the_beam_are_lost(experiment):
    events = _events([[5.0, 0, 0, 5.0], [5.0, 0, 0, -5.0]], [11, -11])
    out = simulate(events, _ideal(experiment), np.random.default_rng(1))
    assert len(out["track"][0]) == 0 and len(out["photon"][0]) == 0
    assert not bool(out["trigger"][0])


def test_track_resolution_matches_config(experiment):
    """sigma_pT/pT = a pT (+) b/beta for a 3 GeV muon at 90 degrees."""
    n = 20000
    p4 = np.tile([[np.hypot(3.0, 0.1057), 3.0, 0.0, 0.0]], (n, 1))
    smeared = smear_tracks(p4, np.full(n, 0.1057), experiment["tracking"], np.random.default_rng(2))
    rel = np.std(np.hypot(smeared[:, 0], smeared[:, 1]) / 3.0 - 1)
    beta = 3.0 / np.hypot(3.0, 0.1057)
    expected = np.hypot(
        experiment["tracking"]["pt_resolution_a"] * 3.0, experiment["tracking"]["pt_resolution_b"] / beta
    )
    assert rel == pytest.approx(expected, rel=0.03)


def test_muon_id_and_trigger_efficiencies(experiment):
    n = 40000
    e = 5.0
    p = np.sqrt(e**2 - 0.1056583755**2)
    events = _events([[e, p, 0, 0], [e, -p, 0, 0]], [13, -13], n=n)
    out = simulate(events, experiment, np.random.default_rng(3))
    muon_id = np.asarray(ak.flatten(out["track"].muon_id))
    # 5 GeV muons: on the plateau of the muon-ID curve (0.90 above 1 GeV, belle2.yaml)
    assert muon_id.mean() == pytest.approx(0.90, abs=0.015)
    two_tracks = np.array([len(t) for t in out["track"]]) == 2
    trigger_rate = np.asarray(out["trigger"])[two_tracks].mean()
    assert trigger_rate == pytest.approx(experiment["trigger"]["two_track_efficiency"], abs=0.01)


def test_calorimeter_gaps(experiment):
    theta = np.array([10.0, 20.0, 31.8, 90.0, 129.5, 150.0, 160.0])
    np.testing.assert_array_equal(
        in_calorimeter(theta, experiment["calorimeter"]), [False, True, False, True, False, True, False]
    )

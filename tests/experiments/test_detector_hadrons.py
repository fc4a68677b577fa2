"""Detector response to hadrons: charges from the PDG id, neutral hadrons ignored."""

import numpy as np
import pytest

from darkscan.events import TruthEvents
from darkscan.experiments import detector


@pytest.mark.parametrize(
    ("code", "charge"),
    [
        (11, -1),
        (-11, 1),
        (13, -1),
        (211, 1),
        (-211, -1),
        (321, 1),
        (-321, -1),
        (2212, 1),
        (-2212, -1),
        (3222, 1),
        (3112, -1),
        (3312, -1),
        (3334, -1),
        (22, 0),
        (130, 0),
        (2112, 0),
        (0, 0),
        (99999999, 0),
    ],
)
def test_charge_of(code, charge):
    assert detector.charge_of(code) == charge


def test_charge_array_is_vectorised_lookup():
    pdg = np.array([[211, -321, 2212, 22, 0], [130, 2112, -2212, 11, 3222]], dtype=np.int32)
    np.testing.assert_array_equal(detector._charge(pdg), [[1, -1, 1, 0, 0], [0, 0, -1, -1, 1]])


def test_kaons_protons_tracked_neutral_hadrons_ignored(experiment):
    # One event: K+ and anti-proton at 90 deg (CM), K_L and neutron also at 90 deg, 1 GeV each.
    pdg = np.array([[321, -2212, 130, 2112]], dtype=np.int32)
    p4 = np.zeros((1, 4, 4))
    for i, (m, phi) in enumerate([(0.4937, 0.0), (0.9383, np.pi), (0.4976, 0.5 * np.pi), (0.9396, 1.5 * np.pi)]):
        p4[0, i] = [np.hypot(1.0, m), np.cos(phi), np.sin(phi), 0.0]
    events = TruthEvents(pdg, p4, np.zeros((1, 4)), np.ones(1))
    exp = {
        **experiment,
        "tracking": {**experiment["tracking"], "efficiency": 1.0},
        "calorimeter": {**experiment["calorimeter"], "photon_efficiency": 1.0},
    }
    out = detector.simulate(events, exp, np.random.default_rng(1))
    assert sorted(out["track"].charge[0].tolist()) == [-1, 1]
    assert len(out["photon"][0]) == 0  # K_L and n: no ECL cluster in this model

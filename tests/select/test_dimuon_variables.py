"""The Punzi-net inputs and the KLM veto column of the dimuon-recoil variables, by hand."""

import awkward as ak
import numpy as np
import pytest

from darkscan.select.variables import count_near, relative_momenta


def test_relative_momenta_of_two_muons_by_hand():
    # CM momenta: p1 = (3, 0, 0) (harder), p2 = (0, 1, 0); the axis is along p1 - p2 or p1 + p2
    mu = np.zeros((1, 2, 4))
    mu[0, 0, 1:] = [3.0, 0.0, 0.0]
    mu[0, 1, 1:] = [0.0, 1.0, 0.0]
    out = relative_momenta(mu)
    # |p1 x p2| = 3; |p1 + p2| = |p1 - p2| = sqrt(10)
    assert out["pt_thrust_max"] == pytest.approx([3.0 / np.sqrt(10.0)])
    # the harder muon is perpendicular to the softer: pT = 3, pL = 0
    assert out["pt_max_wrt_min_cm"] == pytest.approx([3.0])
    assert out["pl_max_wrt_min_cm"] == pytest.approx([0.0])


def test_relative_momenta_do_not_depend_on_the_muon_order():
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(50, 2, 4))
    swapped = mu[:, ::-1]
    a, b = relative_momenta(mu), relative_momenta(swapped)
    for key in a:
        assert a[key] == pytest.approx(b[key])
    # back-to-back muons: no momentum across the thrust axis
    back = np.zeros((1, 2, 4))
    back[0, 0, 1:], back[0, 1, 1:] = [0.0, 0.0, 2.0], [0.0, 0.0, -1.5]
    assert relative_momenta(back)["pt_thrust_max"] == pytest.approx([0.0], abs=1e-12)
    assert relative_momenta(back)["pl_max_wrt_min_cm"] == pytest.approx([-2.0])


def test_objects_are_counted_inside_the_cone_only():
    objects = ak.Array(
        [
            [{"px": 1.0, "py": 0.0, "pz": 0.0}, {"px": np.cos(0.2), "py": np.sin(0.2), "pz": 0.0}],
            [{"px": 0.0, "py": 1.0, "pz": 0.0}],
            [],
        ]
    )
    direction = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # 0.2 rad = 11.5 deg: inside a 15 deg cone, outside a 10 deg one
    assert count_near(objects, direction, 15.0).tolist() == [2, 0, 0]
    assert count_near(objects, direction, 10.0).tolist() == [1, 0, 0]

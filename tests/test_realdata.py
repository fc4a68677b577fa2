"""Real ntuples as data: mapped branches are imported and selected like any sample."""

import copy

import numpy as np
import pandas as pd
import pytest
import uproot

from darkscan import rootio
from darkscan.generate.realdata import import_data
from darkscan.select.selection import select_sample

MAPPING = {
    "trigger": "trg", "n_tracks": "nTracks", "n_muons": "nMuons", "charge_sum": "qSum", "mu1_pt": "pt1", "mu2_pt": "pt2",
    "recoil_theta_lab": "thetaRec", "n_photons_near_recoil": "nGammaRec", "extra_energy": "Eextra", "pt_mumu_cm": "ptMuMu",
    "recoil_mu_angle_min": "angRecMu", "recoil_mass": "Mrecoil",
}


@pytest.fixture
def ntuple(tmp_path):
    rng = np.random.default_rng(4)
    n = 1000
    branches = {
        "trg": np.ones(n, dtype=np.int64), "nTracks": np.full(n, 2), "nMuons": np.full(n, 2), "qSum": np.zeros(n, dtype=np.int64),
        "pt1": rng.uniform(0.2, 4.0, n), "pt2": rng.uniform(0.2, 4.0, n), "thetaRec": rng.uniform(20, 140, n),
        "nGammaRec": np.zeros(n, dtype=np.int64), "Eextra": rng.uniform(0, 0.6, n), "ptMuMu": rng.uniform(0.5, 3.0, n),
        "angRecMu": rng.uniform(0, 90, n), "Mrecoil": rng.uniform(0, 8, n), "other": np.zeros(n),
    }
    path = tmp_path / "ntuple.root"
    with uproot.recreate(path) as f:
        f["tree"] = branches
    return path, branches


def _channel(channel, mapping):
    real = copy.deepcopy(channel)
    real["data"] = {"source": "files", "files": [], "tree": "tree", "branches": mapping}
    return real


def test_import_and_select_real_ntuple(ntuple, tmp_path, channel, experiment):
    path, branches = ntuple
    real = _channel(channel, MAPPING)
    meta = import_data([path], tmp_path / "data.root", channel=real)
    assert meta["events"] == 1000 and meta["files"][0]["sha256"]
    select_sample(tmp_path / "data.root", tmp_path / "sel.root", tmp_path / "flow.csv", channel=real, experiment=experiment, sample="data")
    flow = pd.read_csv(tmp_path / "flow.csv").set_index("cut")["events"]
    # independent count of the same cuts on the raw branches
    expected = np.count_nonzero(
        (branches["pt1"] > 0.4) & (branches["pt2"] > 0.4) & (branches["thetaRec"] > 33) & (branches["thetaRec"] < 125)
        & (branches["Eextra"] < 0.4) & (branches["ptMuMu"] > 1.0) & (branches["angRecMu"] > 25.0)
    )
    assert flow.iloc[-1] == expected
    with uproot.open(tmp_path / "sel.root") as f:
        assert f["events"]["weight"].array(library="np").sum() == pytest.approx(flow["two_muons"])
    assert rootio.read_metadata(tmp_path / "sel.root")["source"] == "files"


def test_missing_mapping_names_the_variable(ntuple, tmp_path, channel):
    path, _ = ntuple
    mapping = {k: v for k, v in MAPPING.items() if k != "pt_mumu_cm"}
    with pytest.raises(ValueError, match="unknown variable 'pt_mumu_cm'"):
        import_data([path], tmp_path / "data.root", channel=_channel(channel, mapping))


def test_missing_branch_names_file_and_branch(ntuple, tmp_path, channel):
    path, _ = ntuple
    mapping = {**MAPPING, "recoil_mass": "NoSuchBranch"}
    with pytest.raises(rootio.InputFileError, match=r"lacks branch\(es\) \['NoSuchBranch'\]"):
        import_data([path], tmp_path / "data.root", channel=_channel(channel, mapping))
    assert not (tmp_path / "data.root").exists()

"""Real ntuples as data: mapped branches are imported and selected like any sample."""

import copy

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from darkscan import rootio
from darkscan.generate.realdata import import_data
from darkscan.select.selection import select_sample
from realdata_helpers import REAL_DATA_MAPPING, passes_zprime_cuts, write_real_ntuple

MAPPING = REAL_DATA_MAPPING


@pytest.fixture
def ntuple(tmp_path):
    path = tmp_path / "ntuple.root"
    return path, write_real_ntuple(path, n=1000, seed=4)


def _channel(channel, mapping):
    real = copy.deepcopy(channel)
    real["data"] = {"source": "files", "files": [], "tree": "tree", "branches": mapping}
    return real


def test_import_and_select_real_ntuple(ntuple, tmp_path, channel, experiment):
    path, branches = ntuple
    real = _channel(channel, MAPPING)
    meta = import_data([path], tmp_path / "data.root", channel=real)
    assert meta["events"] == 1000 and meta["files"][0]["sha256"]
    select_sample(
        tmp_path / "data.root",
        tmp_path / "sel.root",
        tmp_path / "flow.csv",
        channel=real,
        experiment=experiment,
        sample="data",
    )
    flow = pd.read_csv(tmp_path / "flow.csv").set_index("cut")["events"]
    # independent count of the same cuts on the raw branches
    expected = np.count_nonzero(passes_zprime_cuts(branches))
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


def test_a_jagged_branch_mapped_to_a_variable_names_file_branch_and_type(tmp_path, channel):
    path = tmp_path / "jagged.root"
    write_real_ntuple(path, n=3, seed=1)
    scalars = uproot.open(path)["tree"].arrays(library="np")
    with uproot.recreate(path) as f:
        f.mktree("tree", {**{k: v.dtype for k, v in scalars.items()}, "MrecoilAll": "var * float64"})
        f["tree"].extend({**scalars, "MrecoilAll": ak.Array([[1.0, 2.0], [], [3.0]])})
    mapping = {**MAPPING, "recoil_mass": "MrecoilAll"}
    with pytest.raises(
        rootio.InputFileError,
        match=r"jagged.root: branch 'MrecoilAll' \(variable 'recoil_mass'\) has type .*not a jagged",
    ):
        import_data([path], tmp_path / "out.root", channel=_channel(channel, mapping), allow_empty=True)


def test_a_corrupted_intermediate_names_the_command_that_regenerates_it(tmp_path):
    path = tmp_path / "results" / "zp" / "samples" / "tautau.root"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a ROOT file" * 100)
    with pytest.raises(
        rootio.InputFileError, match=r"(?s)cannot be read.*snakemake --cores all --force results/zp/samples/tautau.root"
    ):
        rootio.open_checked(path)

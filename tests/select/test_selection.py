"""Selection on real (small) ROOT files: cut flow numbers, outputs, and clear input errors."""

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from darkscan import rootio
from darkscan.generate.sample import produce_sample
from darkscan.select.selection import select_sample


@pytest.fixture
def small_channel(channel):
    small = {
        **channel,
        "backgrounds": {**channel["backgrounds"], "tautau": {**channel["backgrounds"]["tautau"], "events": 3000}},
    }
    small["signal"] = {**channel["signal"], "events": 3000}
    return small


@pytest.fixture
def signal_file(tmp_path, small_channel, experiment):
    path = tmp_path / "signal_m2p000.root"
    small_channel = {**small_channel, "signal": {**small_channel["signal"], "masses": [2.0, 3.0]}}
    produce_sample(
        path,
        channel=small_channel,
        experiment=experiment,
        sample="signal_m2p000",
        seed=1,
        chunk_events=1000,
        progress=False,
    )
    return path


def test_sample_file_metadata_and_chunk_independence(signal_file, tmp_path, small_channel, experiment):
    meta = rootio.read_metadata(signal_file)
    assert meta["generated_events"] == 3000 and len(meta["chunk_seeds"]) == 3
    with uproot.open(signal_file) as f:
        weight = f["events"]["weight"].array(library="np")
    assert weight.sum() == pytest.approx(meta["xsec_fb"], rel=1e-12)
    # sigma(ee -> mu mu Z') / g'^2 at 2 GeV: 34.67 nb... fb value from the 1M-event integration
    assert meta["xsec_fb"] == pytest.approx(34670, rel=0.05)
    again = tmp_path / "again.root"
    channel = {**small_channel, "signal": {**small_channel["signal"], "masses": [2.0, 3.0]}}
    produce_sample(
        again, channel=channel, experiment=experiment, sample="signal_m2p000", seed=1, chunk_events=1000, progress=False
    )
    with uproot.open(again) as f:
        np.testing.assert_array_equal(f["events"]["weight"].array(library="np"), weight)


def test_cutflow_is_monotonic_and_matches_output(signal_file, tmp_path, channel, experiment):
    out, flow_csv = tmp_path / "selected.root", tmp_path / "flow.csv"
    flow = select_sample(signal_file, out, flow_csv, channel=channel, experiment=experiment, sample="signal_m2p000")
    frame = pd.read_csv(flow_csv)
    assert list(frame["cut"]) == ["all"] + [c["name"] for c in channel["selection"]["cuts"]]
    assert np.all(np.diff(frame["events"]) <= 0)
    assert frame["yield"].iloc[0] == pytest.approx(
        rootio.read_metadata(signal_file)["xsec_fb"] * channel["luminosity_fb"], rel=1e-5
    )  # CSV keeps 6 digits
    with uproot.open(out) as f:
        passed = f["events"]["passed"].array(library="np")
        weight = f["events"]["weight"].array(library="np")
    assert passed.sum() == flow.counts[-1]
    assert (weight[passed] * channel["luminosity_fb"]).sum() == pytest.approx(flow.yields[-1], rel=1e-9)
    # the signal efficiency is sizeable but below the trigger x muon-ID^2 ceiling
    efficiency = frame["efficiency"].iloc[-1]
    assert (
        0.1
        < efficiency
        < experiment["trigger"]["two_track_efficiency"]
        * max(np.atleast_1d(experiment["particle_id"]["muon_efficiency"]["y"])) ** 2
    )


def test_missing_input_file_is_named(tmp_path, channel, experiment):
    with pytest.raises(rootio.InputFileError, match="nope.root does not exist"):
        select_sample(
            tmp_path / "nope.root",
            tmp_path / "o.root",
            tmp_path / "f.csv",
            channel=channel,
            experiment=experiment,
            sample="x",
        )
    assert not (tmp_path / "o.root").exists()


def test_missing_branch_is_named_and_no_partial_output(tmp_path, channel, experiment):
    bad = tmp_path / "bad.root"
    with uproot.recreate(bad) as f:
        rootio.write_events(f, {"weight": np.ones(3)}, first=True)
    with pytest.raises(rootio.InputFileError, match=r"lacks branch\(es\) \['klm', 'photon', 'track', 'trigger'\]"):
        select_sample(bad, tmp_path / "o.root", tmp_path / "f.csv", channel=channel, experiment=experiment, sample="x")
    assert not (tmp_path / "o.root").exists()
    assert not list(tmp_path.glob(".o.root*"))


def test_nan_weights_are_rejected(signal_file, tmp_path, channel, experiment):
    with uproot.open(signal_file) as f:
        arrays = rootio.read_events(f["events"])
    bad = tmp_path / "nan.root"
    with uproot.recreate(bad) as f:
        payload = {name: arrays[name] for name in arrays.fields}
        payload["weight"] = np.where(np.arange(len(arrays)) == 5, np.nan, ak.to_numpy(arrays.weight))
        rootio.write_events(f, payload, first=True)
    with pytest.raises(ValueError, match="'weight' has non-finite values"):
        select_sample(bad, tmp_path / "o.root", tmp_path / "f.csv", channel=channel, experiment=experiment, sample="x")


def test_files_hold_ttrees_and_split_records_read_back(signal_file, tmp_path, channel, experiment):
    """The file contract is a TTree (readable by every ROOT 6, unlike uproot's default RNTuple);
    tracks and photons are split into branches and zipped back into records when read."""
    out = tmp_path / "selected.root"
    select_sample(
        signal_file, out, tmp_path / "flow.csv", channel=channel, experiment=experiment, sample="signal_m2p000"
    )
    with uproot.open(signal_file) as f, uproot.open(out) as g:
        assert f["events"].classname == "TTree" and g["events"].classname == "TTree"
        tree = f["events"]
        assert {"ntrack", "track_px", "track_charge", "nphoton", "photon_e"} <= set(tree.keys())
        assert rootio.record_branches(tree, "track")[0] == "ntrack" and rootio.record_branches(tree, "weight") == [
            "weight"
        ]
        (chunk,) = rootio.iterate_events(tree, ["track", "weight"], step_size=tree.num_entries)
        assert chunk.fields == ["track", "weight"]
        np.testing.assert_array_equal(ak.num(chunk.track), tree["ntrack"].array(library="np"))
        np.testing.assert_array_equal(ak.flatten(chunk.track.px), ak.flatten(tree["track_px"].array()))
        everything = rootio.read_events(tree)
        assert {"track", "photon", "weight", "trigger"} <= set(everything.fields) and "ntrack" not in everything.fields


def test_records_without_any_object_read_back_as_their_own_records(tmp_path):
    """Events with no track and no KLM hit at all (single-photon signal): each record keeps its
    own fields (uproot's how="zip" had merged the equal-count track_* and klm_* branches)."""
    empty = ak.Array([[] for _ in range(4)])
    payload = {
        "track": ak.zip({"px": ak.values_astype(empty, np.float64), "charge": ak.values_astype(empty, np.int8)}),
        "klm": ak.zip({"px": ak.values_astype(empty, np.float64), "pz": ak.values_astype(empty, np.float64)}),
        "photon": ak.zip({"e": ak.Array([[1.0], [2.0], [3.0, 0.5], [4.0]])}),
        "weight": np.ones(4),
    }
    with rootio.recreate(tmp_path / "f.root") as f:
        rootio.write_events(f, payload, first=True)
    with uproot.open(tmp_path / "f.root") as f:
        (chunk,) = rootio.iterate_events(f["events"], ["photon", "track", "klm", "weight"], step_size=10)
    assert chunk.fields == ["photon", "track", "klm", "weight"]
    assert chunk.track.fields == ["px", "charge"] and chunk.klm.fields == ["px", "pz"]
    assert ak.num(chunk.track).tolist() == [0, 0, 0, 0] and ak.num(chunk.photon).tolist() == [1, 1, 2, 1]

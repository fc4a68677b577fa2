"""Data selected in parts (one job per pseudo-data chunk or real-data file), then concatenated."""

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from darkscan import rootio
from darkscan.generate.sample import Unweighting, produce_data_chunk
from darkscan.select.selection import merge_data_parts, select_sample


@pytest.fixture
def data_chunks(channel, experiment, tmp_path):
    """Two pseudo-data chunks of mumu_gamma at 0.3 fb^-1 and one empty chunk (no tree)."""
    small = {**channel, "luminosity_fb": 0.3, "backgrounds": {"mumu_gamma": channel["backgrounds"]["mumu_gamma"]}}
    kwargs = dict(
        channel=small,
        experiment=experiment,
        components=["mumu_gamma"],
        n_chunks=2,
        seed=11,
        unweighting=Unweighting(pilot_events=20_000),
        chunk_events=50_000,
    )
    paths = [tmp_path / f"chunk{i}.root" for i in range(2)]
    for i, path in enumerate(paths):
        produce_data_chunk(path, chunk=i, **kwargs)
    empty = tmp_path / "empty.root"
    meta = produce_data_chunk(empty, chunk=0, **{**kwargs, "channel": {**small, "luminosity_fb": 1e-9}})
    assert meta["events"] == 0
    return small, paths, empty


def _concatenated(paths, out):
    """The whole dataset in one file (what the workflow no longer writes), as the reference."""
    arrays = ak.concatenate([rootio.read_events(uproot.open(p)["events"]) for p in paths])
    with rootio.recreate(out) as f:
        rootio.write_events(f, {field: arrays[field] for field in arrays.fields}, first=True)
        rootio.write_metadata(f, {"is_data": True})
    return len(arrays)


def _select_parts(paths, tmp_path, channel, experiment):
    selected, flows = [], []
    for path in paths:
        selected.append(tmp_path / f"sel_{path.name}")
        flows.append(tmp_path / f"flow_{path.stem}.csv")
        select_sample(
            path, selected[-1], flows[-1], channel=channel, experiment=experiment, sample="data", allow_empty=True
        )
    return selected, flows


def test_parts_merge_to_the_selection_of_the_whole_dataset(data_chunks, tmp_path, experiment):
    channel, paths, empty = data_chunks
    whole = tmp_path / "whole.root"
    n_events = _concatenated(paths, whole)
    reference = select_sample(
        whole, tmp_path / "ref.root", tmp_path / "ref.csv", channel=channel, experiment=experiment, sample="data"
    )
    parts = [paths[0], empty, paths[1]]
    selected, flows = _select_parts(parts, tmp_path, channel, experiment)
    assert "events" not in uproot.open(selected[1])  # the empty chunk gives an empty part
    assert pd.read_csv(flows[1])["events"].sum() == 0
    frame = merge_data_parts(selected, flows, tmp_path / "data.root", tmp_path / "data.csv", channel=channel)
    merged = uproot.open(tmp_path / "data.root")["events"].arrays()
    expected = uproot.open(tmp_path / "ref.root")["events"].arrays()
    assert merged.fields == expected.fields and ak.array_equal(merged, expected)
    np.testing.assert_array_equal(frame["events"], reference.counts)
    np.testing.assert_array_equal(frame["yield"], reference.yields)  # data: one event, weight one
    np.testing.assert_allclose(frame["yield_err"], np.sqrt(reference.counts))
    assert frame["events"].iloc[0] == n_events > 100
    written = pd.read_csv(tmp_path / "data.csv")
    assert list(written["sample"].unique()) == ["data"] and list(written["events"]) == list(reference.counts)
    meta = rootio.read_metadata(tmp_path / "data.root")
    assert meta["events"] == n_events and [p.get("chunk") for p in meta["parts"]] == [0, 0, 1]
    assert meta["selection"] == channel["selection"]["cuts"] and meta["is_data"]


def test_empty_part_is_an_error_outside_the_data(data_chunks, tmp_path, experiment):
    channel, _, empty = data_chunks
    with pytest.raises(rootio.InputFileError, match="no tree 'events'"):
        select_sample(
            empty, tmp_path / "sel.root", tmp_path / "flow.csv", channel=channel, experiment=experiment, sample="data"
        )
    assert not (tmp_path / "sel.root").exists()


def test_data_without_any_event_names_the_channel(data_chunks, tmp_path, experiment):
    channel, _, empty = data_chunks
    selected, flows = _select_parts([empty], tmp_path, channel, experiment)
    with pytest.raises(
        ValueError, match=r"channel zprime_invisible: the data is empty: none of its 1 part\(s\) holds an event"
    ):
        merge_data_parts(selected, flows, tmp_path / "data.root", tmp_path / "data.csv", channel=channel)
    assert not (tmp_path / "data.root").exists() and not (tmp_path / "data.csv").exists()


def test_parts_selected_with_other_cuts_are_refused(data_chunks, tmp_path, experiment):
    channel, paths, _ = data_chunks
    looser = {**channel, "selection": {**channel["selection"], "cuts": channel["selection"]["cuts"][:-1]}}
    selected, flows = _select_parts(paths[:1], tmp_path, channel, experiment)
    (tmp_path / "other").mkdir()
    other, other_flows = _select_parts(paths[1:], tmp_path / "other", looser, experiment)
    with pytest.raises(ValueError, match="selected with different cuts"):
        merge_data_parts(
            selected + other, flows + other_flows, tmp_path / "data.root", tmp_path / "data.csv", channel=channel
        )

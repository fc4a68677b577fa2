"""Apply a channel's selection to one sample file, chunk by chunk, with a cut flow.

Output ``selected/{sample}.root`` keeps the events that pass the preselection, with every
variable, a boolean ``cut_<name>`` per cut, ``passed`` (all cuts) and ``weight`` (fb per event for
MC, 1 for data). The cut flow counts raw events and expected yields (MC weights times the
channel luminosity) after each successive cut.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os

import awkward as ak
import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.expressions import check_expression, evaluate_cut
from darkscan.select.variables import get_variables, variable_columns

log = logging.getLogger(__name__)


@dataclasses.dataclass
class CutFlow:
    """Running cut flow: raw counts, yields and sum of squared weights after each cut."""

    names: list[str]
    counts: np.ndarray
    yields: np.ndarray
    sumw2: np.ndarray

    @classmethod
    def empty(cls, names: list[str]) -> CutFlow:
        k = len(names) + 1
        return cls(["all", *names], np.zeros(k, dtype=np.int64), np.zeros(k), np.zeros(k))

    def add(self, masks: list[np.ndarray], yields_per_event: np.ndarray) -> None:
        running = np.ones(len(yields_per_event), dtype=bool)
        for i, mask in enumerate([running, *masks]):
            running = running & mask
            self.counts[i] += int(running.sum())
            self.yields[i] += float(yields_per_event[running].sum())
            self.sumw2[i] += float((yields_per_event[running] ** 2).sum())

    def to_frame(self, sample: str, labels: dict[str, str]) -> pd.DataFrame:
        first = self.yields[0] if self.yields[0] > 0 else np.nan
        return pd.DataFrame(
            {
                "sample": sample,
                "cut": self.names,
                "label": [labels.get(n, n) for n in self.names],
                "events": self.counts,
                "yield": self.yields,
                "yield_err": np.sqrt(self.sumw2),
                "efficiency": self.yields / first,
            }
        )


def check_cuts(channel: dict, variable_names: set[str]) -> None:
    """Check every cut expression of the channel before touching data (errors name the cut)."""
    for cut in channel["selection"]["cuts"]:
        try:
            check_expression(cut["expr"], frozenset(variable_names))
        except ValueError as err:
            raise ValueError(f"channel {channel['name']}: selection cut {cut['name']!r}: {err}") from None


def _preselection_index(channel: dict) -> int:
    names = [c["name"] for c in channel["selection"]["cuts"]]
    pre = channel["selection"].get("preselection")
    return names.index(pre) + 1 if pre else 0


def _columns_of_chunk(chunk: ak.Array, channel: dict, experiment: dict) -> dict[str, np.ndarray]:
    name = channel["selection"]["variables"]
    function, _ = get_variables(name)
    columns = function(chunk, experiment)
    declared = variable_columns(name)
    if set(columns) != set(declared):
        raise ValueError(
            f"variable function {name!r} returned columns {sorted(set(columns) ^ set(declared))} "
            "that differ from its declared columns (register_variables(columns=...))"
        )
    for name, values in columns.items():
        if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
            raise ValueError(f"variable {name!r} has {np.count_nonzero(~np.isfinite(values))} non-finite values")
    return columns


def select_sample(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    cutflow_path: str | os.PathLike,
    *,
    channel: dict,
    experiment: dict,
    sample: str,
    step_size: int = 500_000,
    compression: str = "lz4",
    allow_empty: bool = False,
) -> CutFlow:
    """Select one sample file; write the selected events and the sample's cut flow CSV.

    Args:
        in_path: sample file (``results/{channel}/samples/{sample}.root``).
        out_path: selected events file.
        cutflow_path: CSV with this sample's cut flow.
        channel: validated channel config.
        experiment: validated experiment config.
        sample: sample name (``data`` for the (pseudo-)data).
        step_size: events per chunk read.
        compression: ROOT compression of the output.
        allow_empty: a file without events (a part of the data, see :func:`merge_data_parts`)
            gives an output without a tree and an all-zero cut flow instead of an error.

    Returns:
        The sample's :class:`CutFlow`.
    """
    cuts = channel["selection"]["cuts"]
    _, branches = get_variables(channel["selection"]["variables"])
    metadata = rootio.read_metadata(in_path)
    is_data = metadata.get("is_data", sample == "data")
    lumi = channel["luminosity_fb"]
    keep_after = _preselection_index(channel)
    flow = CutFlow.empty([c["name"] for c in cuts])
    # real data imported with precomputed variables (darkscan.generate.realdata) skip the
    # variable function; simulated samples hold reconstructed objects
    precomputed = metadata.get("precomputed_variables")
    read = [*precomputed, "weight"] if precomputed else [*branches, "weight"]
    with rootio.open_checked(in_path) as file, rootio.recreate(out_path, compression=compression) as out:
        empty_part = allow_empty and (rootio.TREE not in file or file[rootio.TREE].num_entries == 0)
        chunks = (
            []
            if empty_part
            else rootio.iterate_events(rootio.tree_of(file, in_path, branches=read), read, step_size=step_size)
        )
        written = False
        for chunk in chunks:
            try:
                columns = (
                    {name: ak.to_numpy(chunk[name]) for name in precomputed}
                    if precomputed
                    else _columns_of_chunk(chunk, channel, experiment)
                )
            except ValueError as err:
                raise ValueError(f"{in_path}: {err}") from None
            if not written:
                check_cuts(channel, set(columns))
            weight = ak.to_numpy(chunk.weight).astype(np.float64)
            if not np.all(np.isfinite(weight)):
                raise ValueError(f"{in_path}: branch 'weight' has non-finite values")
            masks = [evaluate_cut(c["expr"], columns) for c in cuts]
            flow.add(masks, weight if is_data else weight * lumi)
            keep = np.logical_and.reduce(masks[:keep_after]) if keep_after else np.ones(len(weight), dtype=bool)
            passed = np.logical_and.reduce(masks)
            payload = {name: values[keep] for name, values in columns.items()}
            payload.update({f"cut_{c['name']}": m[keep] for c, m in zip(cuts, masks, strict=False)})
            payload["passed"] = passed[keep]
            payload["weight"] = weight[keep]
            rootio.write_events(out, payload, first=not written)
            written = True
        if not written and not empty_part:
            raise ValueError(f"{in_path}: tree 'events' is empty (sample {sample!r} has no events)")
        rootio.write_metadata(out, {**metadata, "selection": cuts, "sample": sample})
    frame = flow.to_frame(sample, {c["name"]: c.get("label", c["name"]) for c in cuts})
    with rootio.atomic_path(cutflow_path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    log.info("%s: %d of %d events pass all cuts (yield %.3g)", sample, flow.counts[-1], flow.counts[0], flow.yields[-1])
    return flow


def sum_data_cutflows(paths: list[str | os.PathLike]) -> pd.DataFrame:
    """The cut flow of data selected in parts (with the same cuts): event counts add up, yield = events."""
    frames = [pd.read_csv(p) for p in paths]
    counts = sum(frame["events"].to_numpy(np.int64) for frame in frames)
    total = CutFlow(list(frames[0]["cut"]), counts, counts.astype(np.float64), counts.astype(np.float64))
    return total.to_frame("data", dict(zip(frames[0]["cut"], frames[0]["label"], strict=False)))


def merge_data_parts(
    selected_paths: list[str | os.PathLike],
    cutflow_paths: list[str | os.PathLike],
    out_path: str | os.PathLike,
    cutflow_path: str | os.PathLike,
    *,
    channel: dict,
    step_size: int = 1_000_000,
    compression: str = "lz4",
) -> pd.DataFrame:
    """Concatenate the selected parts of the data (pseudo-data chunks or real-data files).

    Each part is selected in its own job, next to the job that made it (on a cluster: one job
    per chunk, no job that reads the whole dataset); this streams the selected events into
    ``selected/data.root`` in the order of ``selected_paths`` and sums the parts' cut flows.

    Args:
        selected_paths: selected parts (``selected/data/{part}.root``), in dataset order.
        cutflow_paths: their cut flows, same order.
        out_path: ``selected/data.root``.
        cutflow_path: the data's cut flow CSV.
        channel: validated channel config.
        step_size: events per read.
        compression: ROOT compression of the output.

    Returns:
        The data's cut flow.

    Raises:
        ValueError: no part holds any event, or the parts were selected with different cuts.
    """
    parts = [rootio.read_metadata(path) for path in selected_paths]
    if len({json.dumps(p.get("selection"), sort_keys=True) for p in parts}) > 1:
        raise ValueError(
            f"channel {channel['name']}: the data parts were selected with different cuts; rerun the selection"
        )
    cutflow = sum_data_cutflows(cutflow_paths)
    written = False
    with rootio.recreate(out_path, compression=compression) as out:
        for path in selected_paths:
            with rootio.open_checked(path) as file:
                if rootio.TREE not in file:
                    continue
                for payload in file[rootio.TREE].iterate(step_size=step_size, library="np"):
                    rootio.write_events(out, payload, first=not written)
                    written = True
        if not written:
            raise ValueError(
                f"channel {channel['name']}: the data is empty: none of its {len(selected_paths)} part(s) "
                f"holds an event (luminosity {channel['luminosity_fb']} fb^-1 too small, or empty files?)"
            )
        sources = [{k: v for k, v in p.items() if k != "selection"} for p in parts]
        rootio.write_metadata(
            out,
            {
                "channel": channel["name"],
                "sample": "data",
                "is_data": True,
                "luminosity_fb": channel["luminosity_fb"],
                "events": int(cutflow["events"].iloc[0]),
                "parts": sources,
                "selection": parts[0].get("selection"),
                "versions": rootio.package_versions(),
            },
        )
    with rootio.atomic_path(cutflow_path) as tmp:
        cutflow.to_csv(tmp, index=False, float_format="%.6g")
    log.info(
        "data: %d parts, %d events, %d pass all cuts",
        len(selected_paths),
        cutflow["events"].iloc[0],
        cutflow["events"].iloc[-1],
    )
    return cutflow


def merge_cutflows(paths: list[str | os.PathLike], out_path: str | os.PathLike) -> pd.DataFrame:
    """Concatenate per-sample cut flows into ``cutflow.csv``."""
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    with rootio.atomic_path(out_path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    return frame

"""Histograms of the fit variable, one ``hist.Hist`` per (region, sample), written with uproot.

Keys follow ``{region}_{sample}[_{variation}]``. MC histograms are expected events at the
channel luminosity (weight storage keeps sum w^2 for the MC-statistics uncertainty); data
histograms count events.
"""

from __future__ import annotations

import os

import hist
import numpy as np

from darkscan import rootio

SIGNAL_REGION = "signal_region"
PRESELECTION = "preselection"


def histogram_key(region: str, sample: str, variation: str | None = None) -> str:
    """``{region}_{sample}[_{variation}]``."""
    return f"{region}_{sample}" + (f"_{variation}" if variation else "")


def fit_columns(channel: dict) -> list[str]:
    """Columns filled into the fit-variable histogram: ``fit.columns`` (several values per event,
    each with the event's weight, e.g. all diphoton pairings), default ``[fit.variable]``."""
    fit = channel["fit"]
    return list(fit.get("columns") or [fit["variable"]])


def empty_histogram(channel: dict) -> hist.Hist:
    """An empty histogram of the channel's fit variable."""
    fit = channel["fit"]
    binning = fit["histogram"]
    label = f"{fit.get('label', fit['variable'])} [{fit.get('unit', 'GeV')}]"
    return hist.Hist(
        hist.axis.Regular(binning["bins"], binning["low"], binning["high"], name=fit["variable"], label=label),
        storage=hist.storage.Weight(),
    )


def fill_histograms(
    selected: dict[str, str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    channel: dict,
    compression: str = "lz4",
    step_size: int = 1_000_000,
) -> dict[str, hist.Hist]:
    """Fill the signal-region and preselection histograms of every sample and write them.

    Args:
        selected: sample name -> selected-events file.
        out_path: ``histograms.root``.
        channel: validated channel config.
        compression: ROOT compression.
        step_size: events read at once.
    """
    variable = channel["fit"]["variable"]
    columns = fit_columns(channel)
    lumi = channel["luminosity_fb"]
    result = {}
    for sample, path in selected.items():
        scale = 1.0 if sample == "data" else lumi
        histograms = {region: empty_histogram(channel) for region in (SIGNAL_REGION, PRESELECTION)}
        with rootio.open_checked(path) as file:
            tree = rootio.tree_of(file, path, branches=[*columns, "weight", "passed"])
            # read in steps: memory stays flat whatever the luminosity
            for arrays in tree.iterate([*columns, "weight", "passed"], step_size=step_size, library="np"):
                for region, mask in (
                    (SIGNAL_REGION, arrays["passed"]),
                    (PRESELECTION, np.ones(len(arrays["passed"]), dtype=bool)),
                ):
                    for column in columns:
                        histograms[region].fill(arrays[column][mask], weight=arrays["weight"][mask] * scale)
        for region, h in histograms.items():
            result[histogram_key(region, sample)] = h
    with rootio.recreate(out_path, compression=compression) as out:
        for key, h in result.items():
            out[key] = h
        rootio.write_metadata(
            out,
            {
                "channel": channel["name"],
                "luminosity_fb": lumi,
                "variable": variable,
                "regions": [SIGNAL_REGION, PRESELECTION],
            },
        )
    return result


def read_histogram(path: str | os.PathLike, key: str) -> hist.Hist:
    """Read one histogram back as ``hist.Hist``; the error names the file and key."""
    with rootio.open_checked(path) as file:
        if key not in file:
            raise rootio.InputFileError(f"{path}: no histogram {key!r}")
        return file[key].to_hist()

"""Apply the trained MVA selection to a selected file: the last cut of an MVA channel.

Every event gets the score of the classifier of its fit-variable range (``mva_score``; -1
outside the ranges) and ``cut_mva`` (score above the range's working point); ``passed``
becomes ``passed & cut_mva``. In simulated samples the training rows
(:func:`darkscan.mva.training.training_rows`) are dropped and the other events' weights scaled
by ``every / (every - 1)``, so that no event that trained a classifier enters a yield; data
keep every event. The sample's cut flow gains the row ``mva``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.mva.classifiers import classifier, model_path
from darkscan.mva.training import STEP_SIZE, training_rows

log = logging.getLogger(__name__)

MVA_CUT = "mva"


def load_models(model_dir: str | os.PathLike, summary_path: str | os.PathLike) -> tuple[list, dict]:
    """The classifiers of the ranges (``range{i}.txt`` or ``.json`` by the summary's ``method``,
    in order) and the working-point summary."""
    with open(summary_path) as f:
        summary = json.load(f)
    method = classifier(summary["method"])
    paths = [model_path(model_dir, i, method.name) for i in range(len(summary["ranges"]))]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise rootio.InputFileError(f"{summary_path} has {len(paths)} ranges, but {missing} do not exist")
    return [method.load(p) for p in paths], summary


def mva_scores(
    features: np.ndarray, fit_value: np.ndarray, boosters: list, summary: Mapping
) -> tuple[np.ndarray, np.ndarray]:
    """Score of the range classifier of each event (-1 outside every range) and the MVA cut."""
    score = np.full(len(fit_value), -1.0)
    passed = np.zeros(len(fit_value), dtype=bool)
    for booster, entry in zip(boosters, summary["ranges"], strict=True):
        in_range = (fit_value >= entry["lo"]) & (fit_value < entry["hi"])
        if np.any(in_range):
            score[in_range] = booster.predict(features[in_range], num_threads=1)
            passed[in_range] = score[in_range] > entry["threshold"]
    return score, passed


def apply_mva(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    cutflow_in: str | os.PathLike,
    cutflow_out: str | os.PathLike,
    boosters: list,
    summary: Mapping,
    channel: Mapping,
    sample: str,
    compression: str = "lz4",
) -> dict:
    """Score one selected file, write the MVA-selected file and the cut flow with the ``mva`` row.

    Returns:
        ``{"events": ..., "yield": ..., "yield_err": ...}`` of the events passing the MVA cut.
    """
    features = list(summary["features"])
    variable = summary["fit_variable"]
    every = int(summary["training_every"])
    metadata = rootio.read_metadata(in_path)
    is_data = metadata.get("is_data", sample == "data")
    scale = 1.0 if is_data else every / (every - 1)
    lumi = 1.0 if is_data else channel["luminosity_fb"]
    counts, yields, sumw2, offset, written = 0, 0.0, 0.0, 0, False
    with rootio.open_checked(in_path) as file, rootio.recreate(out_path, compression=compression) as out:
        if rootio.TREE in file:
            tree = file[rootio.TREE]
            for arrays in tree.iterate(tree.keys(), step_size=STEP_SIZE, library="np"):
                n = len(arrays["weight"])
                keep = np.ones(n, dtype=bool) if is_data else ~training_rows(offset + np.arange(n), every)
                offset += n
                arrays = {key: values[keep] for key, values in arrays.items()}
                matrix = np.stack([arrays[f].astype(np.float64) for f in features], axis=1)
                score, cut = mva_scores(matrix, arrays[variable].astype(np.float64), boosters, summary)
                arrays["weight"] = arrays["weight"] * scale
                arrays["mva_score"] = score
                arrays["cut_mva"] = cut
                arrays["passed"] = arrays["passed"].astype(bool) & cut
                w = arrays["weight"][arrays["passed"]] * lumi
                counts, yields, sumw2 = counts + int(arrays["passed"].sum()), yields + w.sum(), sumw2 + (w**2).sum()
                rootio.write_events(out, arrays, first=not written)
                written = True
        rootio.write_metadata(out, {**metadata, "mva": {"training_every": every, "weight_scale": scale}})
    frame = pd.read_csv(cutflow_in)
    first = frame["yield"].iloc[0]
    row = {
        "sample": sample,
        "cut": MVA_CUT,
        "label": f"MVA (Punzi-optimised, {len(summary['ranges'])} ranges)",
        "events": counts,
        "yield": yields,
        "yield_err": float(np.sqrt(sumw2)),
        "efficiency": yields / first if first > 0 else np.nan,
    }
    frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    with rootio.atomic_path(cutflow_out) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    log.info("%s: %d events pass the MVA (yield %.4g)", sample, counts, yields)
    return {"events": counts, "yield": yields, "yield_err": float(np.sqrt(sumw2))}

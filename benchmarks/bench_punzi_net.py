"""The MVA's two ways to optimise Punzi's FOM, compared on a finished build's Z' samples.

Per range of the recoil mass (the channel's ``mva.range_edges``), on the same training split
(:mod:`darkscan.mva.training`: one selected MC event in ``training_every`` trains; of those,
alternate rows fit and choose the working point):

* ``lightgbm``: the workflow's boosted trees (:func:`darkscan.mva.training.train_range`),
  working point by the mean Punzi FOM over the range's signal masses;
* ``punzi_net``: Belle II's Punzi-loss network (:mod:`darkscan.mva.punzi_net`), trained on the
  fit rows (cross entropy, then the differentiable Punzi loss), its working point chosen by the
  same function as the trees' (``mva.method: punzi_net``, the channel's ``mva.punzi_net``).

Both are evaluated on the rows that never train (the rows that give the yields): the mean over
the range's signal masses of Punzi's FOM, each mass's signal efficiency (relative to the cut-based
selection) over Punzi's bracket of the background in its signal window; with the cut-based
selection alone (no MVA) as the reference, and the training time of each in this process::

    python benchmarks/bench_punzi_net.py --repo /tmp/full/repo --output results.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import time

import numpy as np

from darkscan import config as cfg
from darkscan.mva import training
from darkscan.mva.punzi import punzi_fom
from darkscan.seeds import seed_for

log = logging.getLogger("bench_punzi_net")
CHANNEL = "zprime_invisible"
METHODS = ("lightgbm", "punzi_net")


def _samples(channel: dict, results: pathlib.Path):
    settings, lumi = channel["mva"], channel["luminosity_fb"]
    read = lambda name, scale: training.read_sample(  # noqa: E731
        results / "selected" / f"{name}.root",
        name=name,
        features=list(settings["features"]),
        fit_variable=channel["fit"]["variable"],
        scale=scale,
    )
    signals = [read(cfg.signal_sample_name(m), 1.0) for m in channel["signal"]["masses"]]
    backgrounds = [read(name, lumi) for name in channel["backgrounds"]]
    return signals, backgrounds


def _held_out_fom(lo, hi, booster, threshold, signals, backgrounds, settings) -> float:
    """Mean Punzi FOM over the masses on the rows that never train (threshold None: no MVA)."""
    every = int(settings["training_every"])
    held = lambda row: ~training.training_rows(row, every)  # noqa: E731
    x_b, fit_b, w_b = training._subset(backgrounds, lo, hi, held)
    keep_b = np.ones(len(x_b), bool) if threshold is None else booster.predict(x_b, num_threads=1) > threshold
    foms = []
    for s in signals:
        x_s, _, w_s = training._subset([s], lo, hi, held)
        keep_s = np.ones(len(x_s), bool) if threshold is None else booster.predict(x_s, num_threads=1) > threshold
        w_lo, w_hi = training._window(s, float(settings["window_sigmas"]))
        in_window = (fit_b >= w_lo) & (fit_b < w_hi) & keep_b
        background = w_b[in_window].sum() * every / (every - 1)
        efficiency = w_s[keep_s].sum() / max(w_s.sum(), 1e-300)
        foms.append(
            float(punzi_fom(efficiency, background, a=float(settings["punzi_a"]), b=float(settings["punzi_b"])))
        )
    return float(np.mean(foms))


def compare(channel: dict, results: pathlib.Path, *, global_seed: int) -> dict:
    settings = channel["mva"]
    features = list(settings["features"])
    signals, backgrounds = _samples(channel, results)
    edges = list(settings["range_edges"])
    ranges = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        seed = seed_for(global_seed, channel["name"], "mva", i) % 2**31
        in_range = training.signals_of_range(signals, lo, hi)
        row = {"range": [lo, hi], "masses": [s.mass for s in in_range]}
        row["fom_cuts_only"] = _held_out_fom(lo, hi, None, None, in_range, backgrounds, settings)
        for method in METHODS:
            start = time.process_time()
            result = training.train_range(
                lo,
                hi,
                signals=signals,
                backgrounds=backgrounds,
                features=features,
                settings={**settings, "method": method},
                seed=seed,
            )
            row[f"train_cpu_s_{method}"] = time.process_time() - start
            row[f"fom_{method}"] = _held_out_fom(
                lo, hi, result.model, result.threshold, in_range, backgrounds, settings
            )
            row[f"signal_efficiency_{method}"] = result.signal_efficiency
            row[f"background_efficiency_{method}"] = result.background_efficiency
        row["punzi_net_over_lightgbm"] = row["fom_punzi_net"] / row["fom_lightgbm"]
        log.info(json.dumps(row))
        ranges.append(row)
    ratios = [r["punzi_net_over_lightgbm"] for r in ranges]
    return {
        "channel": channel["name"],
        "ranges": ranges,
        "median_fom_punzi_net_over_lightgbm": float(np.median(ratios)),
        "train_cpu_punzi_net_over_lightgbm": sum(r["train_cpu_s_punzi_net"] for r in ranges)
        / sum(r["train_cpu_s_lightgbm"] for r in ranges),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=pathlib.Path, required=True, help="repository with a finished default build")
    parser.add_argument("--output", type=pathlib.Path, help="JSON file for the figures")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    output = args.output.resolve() if args.output else None
    os.chdir(args.repo.resolve())
    config = cfg.load_global()
    channel = cfg.channel_config(config, CHANNEL)
    figures = compare(channel, pathlib.Path("results") / CHANNEL, global_seed=int(config["seed"]))
    log.info(json.dumps({k: v for k, v in figures.items() if k != "ranges"}, indent=1))
    if output:
        output.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Cost of the small-statistics limits (``fit.limit``) against the asymptotic ones, in one process.

* 1D windows: toy CLs through the engine (:mod:`darkscan.stats.methods.window_sidebands.toy_limits`,
  the schema defaults: 1000 toys per tested cross section, 16 tested values) against the
  engine's asymptotic limits, on the low-background windows of the engine tests' scan models;
* 2D ellipses: Bayesian credible limits (:func:`darkscan.stats.bayesian.counting_upper_limits`)
  against the closed-form asymptotic CLs on 17,000 one-bin counting experiments shaped like the
  dark-Higgsstrahlung scan (backgrounds ~0.001-10 events)::

    python benchmarks/bench_small_counts.py --output benchmarks/results-small-counts.json
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "stats" / "engine"))

from conftest import scan_specs  # noqa: E402  (the engine tests' realistic window models)

from darkscan.stats import bayesian, engine, toy_cls  # noqa: E402
from darkscan.stats.methods.ellipse_counting.counting import counting_cls_limits  # noqa: E402
from darkscan.stats.methods.window_sidebands.toy_limits import EngineToys  # noqa: E402

log = logging.getLogger("bench_small_counts")


def timed(func):
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def windows(level: float) -> dict:
    specs = [s for s in scan_specs() if sum(s["channels"][0]["samples"][1]["data"]) < 100.0]
    batch = engine.batch_from_specs(specs)
    t_asym, asym = timed(lambda: engine.upper_limits(batch, level=level))
    values = np.vstack([asym.observed, asym.expected])
    grid = toy_cls.mu_grid(0.25 * values.min(axis=0), 3.0 * values.max(axis=0), points=16)
    t_toys, toys = timed(
        lambda: toy_cls.toy_cls_limits(EngineToys(batch), grid, level=level, n_toys=1000, rng=np.random.default_rng(1))
    )
    return {
        "hypotheses": len(specs),
        "asymptotic_s_per_hypothesis": t_asym / len(specs),
        "toys_s_per_hypothesis": t_toys / len(specs),
        "toys_over_asymptotic": t_toys / t_asym,
        "toys_over_asymptotic_limit_obs": (toys.observed / asym.observed).round(3).tolist(),
        "toys_over_asymptotic_limit_exp": (toys.expected[2] / asym.expected[2]).round(3).tolist(),
    }


def ellipses(level: float, n: int = 17_000) -> dict:
    rng = np.random.default_rng(2)
    b0 = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), n))
    sigma = 0.3 * b0 + 1e-3
    counts = rng.poisson(b0).astype(float)
    s = rng.uniform(0.5, 3.0, n)
    t_asym, asym = timed(lambda: counting_cls_limits(counts, s, b0, sigma, level=level, signal_norm=0.05))
    t_bayes, bayes = timed(
        lambda: bayesian.counting_upper_limits(counts, s, b0, sigma, cl=1.0 - level, signal_norm=0.05)
    )
    return {
        "ellipses": n,
        "asymptotic_s": t_asym,
        "bayesian_s": t_bayes,
        "bayesian_over_asymptotic": t_bayes / t_asym,
        "bayesian_converged": float(bayes.converged.mean()),
        "median_limit_ratio_b_below_0p1": float(np.median((bayes.observed / asym.observed)[b0 < 0.1])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    figures = {"windows": windows(0.1), "ellipses": ellipses(0.1)}
    log.info(json.dumps(figures, indent=2))
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

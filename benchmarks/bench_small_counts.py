"""Cost of the small-statistics limits (``fit.limit``) against the asymptotic ones, in one process.

* 1D windows: toy CLs through the engine (:mod:`darkscan.stats.methods.window_sidebands.toy_limits`,
  1000 toys per tested cross section) against the engine's asymptotic limits, on the
  low-background windows of the engine tests' scan models or on saved workspaces
  (``--workspaces 'results/zprime_invisible/workspaces/part*/mass_*.json'``), three ways: the
  baseline (a free fit of every toy, 16 tested values from 0.25x to 3x the asymptotic limits,
  the ninth session's starting point), the same grid with the free fits skipped where the
  profile falls (limits identical), and the default grid (``limit_grid_points`` 10 over
  ``GRID_SPAN``, wide-grid retries);
* 2D ellipses: Bayesian credible limits (:func:`darkscan.stats.bayesian.counting_upper_limits`)
  against the closed-form asymptotic CLs on 17,000 one-bin counting experiments shaped like the
  dark-Higgsstrahlung scan (backgrounds ~0.001-10 events)::

    python benchmarks/bench_small_counts.py --output benchmarks/results-small-counts.json
"""

from __future__ import annotations

import argparse
import glob
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
from darkscan.stats.methods.window_sidebands import toy_limits  # noqa: E402
from darkscan.stats.methods.window_sidebands.toy_limits import EngineToys  # noqa: E402

log = logging.getLogger("bench_small_counts")


def timed(func):
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


class PlainToys(EngineToys):
    """The baseline: a free fit of every signal-plus-background toy."""

    def qtilde(self, mu, toys):
        fixed = engine.fit_fixed_poi(toys, mu)
        kept = [fit for datasets, fit in self._free if datasets is toys]
        free = kept[0] if kept else engine.fit_free(toys)
        return np.where(free.poi > mu, 0.0, np.maximum(fixed.twice_nll - free.twice_nll, 0.0))


def windows(level: float, specs: list[dict]) -> dict:
    batch = engine.batch_from_specs(specs)
    t_asym, asym = timed(lambda: engine.upper_limits(batch, level=level))
    values = np.vstack([asym.observed, asym.expected])
    grid = toy_cls.mu_grid(0.25 * values.min(axis=0), 3.0 * values.max(axis=0), points=16)

    def on_old_grid(model, seed=1):
        return toy_cls.toy_cls_limits(model, grid, level=level, n_toys=1000, rng=np.random.default_rng(seed))

    t_base, base = timed(lambda: on_old_grid(PlainToys(batch)))
    t_skip, skip = timed(lambda: on_old_grid(EngineToys(batch)))
    fit = {"limit_toys": 1000, "limit_grid_points": 10}
    t_new, new = timed(
        lambda: toy_limits._limits_on_grid(
            specs, values.T, toy_limits.GRID_SPAN, fit=fit, level=level, rng=np.random.default_rng(1)
        )
    )
    reference = np.vstack([base.observed, base.expected])
    same = np.vstack([skip.observed, skip.expected]) == reference
    change = np.vstack([new.observed, new.expected]) / reference - 1
    other = on_old_grid(PlainToys(batch), seed=2)
    noise = np.vstack([other.observed, other.expected]) / reference - 1
    return {
        "hypotheses": len(specs),
        "asymptotic_s_per_hypothesis": t_asym / len(specs),
        "baseline_s_per_hypothesis": t_base / len(specs),
        "baseline_over_asymptotic": t_base / t_asym,
        "baseline_over_skipped_free_fits": t_base / t_skip,
        "skipped_free_fits_identical_limits": bool(same.all()),
        "baseline_over_default": t_base / t_new,
        "default_converged_fraction": float(new.converged.mean()),
        # obs, -2 .. +2 sigma: the grid's change against the toys' own noise (another seed)
        "default_vs_baseline_rms_relative_change": [float(v) for v in np.sqrt((change**2).mean(axis=1))],
        "baseline_seed_to_seed_rms_relative_change": [float(v) for v in np.sqrt((noise**2).mean(axis=1))],
        "toys_over_asymptotic_limit_obs": (base.observed / asym.observed).round(3).tolist(),
        "toys_over_asymptotic_limit_exp": (base.expected[2] / asym.expected[2]).round(3).tolist(),
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
    parser.add_argument("--workspaces", help="glob of saved window workspaces (default: the test models)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.workspaces:
        specs = [json.loads(pathlib.Path(f).read_text()) for f in sorted(glob.glob(args.workspaces))]
    else:
        specs = [s for s in scan_specs() if sum(s["channels"][0]["samples"][1]["data"]) < 100.0]
    figures = {"windows": windows(0.1, specs), "ellipses": ellipses(0.1)}
    log.info(json.dumps(figures, indent=2))
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

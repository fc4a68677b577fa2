"""Cost of the small-statistics limits (``fit.limit``) against the asymptotic ones, in one process.

* 1D windows: toy CLs through the engine (:mod:`darkscan.stats.methods.window_sidebands.toy_limits`)
  against the engine's asymptotic limits, on the low-background windows of the engine tests'
  scan models or on saved workspaces
  (``--workspaces 'results/zprime_invisible/workspaces/part*/mass_*.json'``), two ways on the
  default grid (``limit_grid_points`` 10 over ``GRID_SPAN``): the direct estimate of the tenth
  session (1000 background-only toys, 1000 signal-plus-background toys per tested value, each
  tail from its own toys) and the default mixture importance sampling (1000 background-only
  toys, ``limit_signal_toys_fraction`` 0.25: 250 signal toys per tested value, pooled), each
  with two seeds for the toys' own noise;
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
from unittest import mock

import numpy as np
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "stats" / "engine"))

from conftest import scan_specs  # noqa: E402  (the engine tests' realistic window models)

from darkscan.stats import bayesian, engine, toy_cls  # noqa: E402
from darkscan.stats.cls import BAND_SIGMAS  # noqa: E402
from darkscan.stats.methods.ellipse_counting.counting import counting_cls_limits  # noqa: E402
from darkscan.stats.methods.window_sidebands import toy_limits  # noqa: E402

log = logging.getLogger("bench_small_counts")


def timed(func):
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def direct_cls_on_grid(model, grid, *, n_toys, signal_toys, rng):
    """The tenth session's estimate: each tail from its own toys, n_toys of each per tested mu."""
    n_hyp, n_points = grid.shape
    b_toys = model.sample(np.zeros(n_hyp), n_toys, rng)
    observed, expected = np.empty((n_hyp, n_points)), np.empty((5, n_hyp, n_points))
    b_tail = np.empty((n_hyp, n_points), dtype=int)
    probabilities = stats.norm.cdf(-BAND_SIGMAS)
    for k in range(n_points):
        mu = grid[:, k]
        q_sb, q_b = model.qtilde(mu, model.sample(mu, n_toys, rng)), model.qtilde(mu, b_toys)
        q_obs = model.qtilde_observed(mu)
        cl_b = toy_cls._tail(q_b, q_obs)
        b_tail[:, k] = np.rint(cl_b * n_toys).astype(int)
        observed[:, k] = toy_cls._tail(q_sb, q_obs) / np.maximum(cl_b, 1.0 / n_toys)
        q_bands = np.quantile(q_b, probabilities, axis=0)
        expected[:, :, k] = toy_cls._tail(q_sb, q_bands) / np.maximum(toy_cls._tail(q_b, q_bands), 1.0 / n_toys)
    return observed, expected, b_tail


def _stack(limits: toy_cls.ToyLimits) -> np.ndarray:
    return np.vstack([limits.observed, limits.expected])


def _rms(relative: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in np.sqrt((relative**2).mean(axis=1))]


def windows(level: float, specs: list[dict]) -> dict:
    batch = engine.batch_from_specs(specs)
    t_asym, asym = timed(lambda: engine.upper_limits(batch, level=level))
    values = np.vstack([asym.observed, asym.expected])
    fit = {"limit_toys": 1000, "limit_signal_toys_fraction": 0.25, "limit_grid_points": 10}

    def default(seed):
        return toy_limits._limits_on_grid(
            specs,
            values.T,
            toy_limits.GRID_SPAN,
            fit=fit,
            level=level,
            rng=np.random.default_rng(seed),
            data=None,
            n_toys=1000,
            signal_toys=250,
        )

    def direct(seed):
        with mock.patch.object(toy_cls, "cls_on_grid", direct_cls_on_grid):
            return default(seed)

    t_direct, first_direct = timed(lambda: direct(1))
    t_default, first_default = timed(lambda: default(1))
    second_direct, second_default = _stack(direct(2)), _stack(default(2))
    reference = 0.5 * (_stack(first_direct) + second_direct)
    return {
        "hypotheses": len(specs),
        "asymptotic_s_per_hypothesis": t_asym / len(specs),
        "direct_s_per_hypothesis": t_direct / len(specs),
        "default_s_per_hypothesis": t_default / len(specs),
        "direct_over_default": t_direct / t_default,
        "default_converged_fraction": float(first_default.converged.mean()),
        # obs, -2 .. +2 sigma: seed-to-seed rms of each method; the default's change against the direct
        "direct_seed_to_seed_rms_relative_change": _rms(second_direct / _stack(first_direct) - 1),
        "default_seed_to_seed_rms_relative_change": _rms(second_default / _stack(first_default) - 1),
        "default_vs_direct_rms_relative_change": _rms(_stack(first_default) / reference - 1),
        "toys_over_asymptotic_limit_obs": (first_default.observed / asym.observed).round(3).tolist(),
        "toys_over_asymptotic_limit_exp": (first_default.expected[2] / asym.expected[2]).round(3).tolist(),
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

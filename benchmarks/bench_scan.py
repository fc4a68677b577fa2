"""The vectorised likelihood engine (darkscan.stats.engine) against per-hypothesis pyhf, in one process.

Builds ~200 realistic window models of a mass scan (the workflow's ``window_inputs`` +
``build_spec`` on a falling background spectrum, windows from ~1e4 to ~0.5 background events,
every systematics combination) or reads saved workspaces, then times

* the engine: parsing, observed + expected limits and p0 of all hypotheses at once;
* pyhf per hypothesis on a subset: ``engine.pyhf_reference`` (TOMS 748 root finding, as attempt
  1 of ``darkscan.stats.methods.window_sidebands.pyhf_fit._upper_limit``, plus
  ``hypotest(0, "q0")``), and the workflow's default path ``FastAsymptoticCLs`` +
  ``pyhf_fit.discovery_p0`` (attempt 0);
* optionally background-only toys through all hypotheses (the look-elsewhere use case).

and reports CPU time per hypothesis, the speed-up and the largest differences of the limits and
Z between the engine and ``pyhf_reference``. CPU times are process times (robust to other jobs
on shared cores); BLAS is single-threaded.

Examples:
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_scan.py --output benchmarks/results-scan.json
    python benchmarks/bench_scan.py 'results/zprime_invisible/workspaces/part*/mass_*.json' --subset 20
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import logging
import os
import pathlib
import platform
import sys
import time
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

import hist  # noqa: E402
import pyhf  # noqa: E402

from darkscan.stats import engine  # noqa: E402
from darkscan.stats.cls import FastAsymptoticCLs  # noqa: E402
from darkscan.stats.methods.window_sidebands.model import build_spec, signal_scale, window_inputs  # noqa: E402
from darkscan.stats.signal_model import Interpolated  # noqa: E402
from darkscan.systematics.table import Systematic  # noqa: E402

log = logging.getLogger("bench_scan")
FINE = np.linspace(0.0, 10.0, 2001)  # 5 MeV bins
SIGNAL = [Systematic("luminosity", "signal", "normsys", 0.02, ""), Systematic("muon_id", "signal", "normsys", 0.04, "")]
RESOLUTION = [Systematic("mass_resolution", "signal", "histosys", 0.10, "")]
MC_STAT = [Systematic("background_mc_statistics", "background", "staterror", float("nan"), "")]
BKG_NORM = [Systematic("background_xsec", "background", "normsys", 0.05, "")]
SYSTEMATICS = [SIGNAL + RESOLUTION + MC_STAT + BKG_NORM, SIGNAL + RESOLUTION + MC_STAT, [], MC_STAT, SIGNAL + BKG_NORM]


def _hist(values: np.ndarray, variances: np.ndarray) -> hist.Hist:
    h = hist.Hist(hist.axis.Variable(FINE), storage=hist.storage.Weight())
    h.view().value = values
    h.view().variance = variances
    return h


def synthetic_specs(n: int, *, seed: int, luminosity_fb: float = 50.0) -> list[dict]:
    """``n`` hypotheses from 0.03 to 9.95 GeV on exp(-1.25 m) background with three injected signals.

    Args:
        n: number of mass hypotheses.
        seed: random seed of the data, the MC and the signal samples.
        luminosity_fb: integrated luminosity.
    """
    rng = np.random.default_rng(seed)
    centres = 0.5 * (FINE[1:] + FINE[:-1])
    resolution = lambda m: 0.02 + 0.008 * m  # noqa: E731
    background = 1250.0 * np.exp(-1.25 * centres)
    truth = background.copy()
    for mass, events in ((1.3, 250.0), (4.1, 40.0), (7.9, 8.0)):
        window = np.abs(centres - mass) < 2 * resolution(mass)
        truth[window] += events / window.sum()
    data = _hist(rng.poisson(truth).astype(float), np.zeros_like(truth))
    mc = _hist(background, 0.3 * background)
    specs = []
    for i, mass in enumerate(np.linspace(0.03, 9.95, n)):
        values = mass + resolution(mass) * rng.standard_normal(4000)
        signal = Interpolated(mass, 0.3, resolution(mass), 1.0, values, np.full(values.size, 0.3 / values.size))
        inputs = window_inputs(
            mass,
            signal,
            data=data,
            background=mc,
            luminosity_fb=luminosity_fb,
            window_sigmas=6.0,
            signal_sigmas=2.0,
            resolution_scale=0.10,
        )
        specs.append(
            build_spec(inputs, SYSTEMATICS[i % len(SYSTEMATICS)], scale_fb=signal_scale(inputs), background_floor=1e-3)
        )
    return specs


def read_specs(patterns: list[str]) -> list[dict]:
    """Saved workspaces (JSON) matching the glob ``patterns``, in sorted order."""
    paths = sorted({p for pattern in patterns for p in glob.glob(pattern)})
    if not paths:
        raise SystemExit(f"no workspace matches {patterns}")
    return [json.loads(pathlib.Path(p).read_text()) for p in paths]


def timed(func):
    """(result, wall s, CPU s) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run_engine(specs: list[dict], level: float) -> dict:
    """Limits and p0 of every spec at once."""

    def work():
        batch = engine.batch_from_specs(specs)
        return batch, engine.upper_limits(batch, level=level), engine.discovery_p0(batch)

    (batch, limits, (p0, z)), wall, cpu = timed(work)
    log.info("engine: %d hypotheses in %.3f s CPU (%.2f ms each)", len(specs), cpu, 1e3 * cpu / len(specs))
    return {"batch": batch, "limits": limits, "z": z, "wall_s": wall, "cpu_s": cpu}


def run_pyhf(specs: list[dict], subset: list[int], level: float) -> dict:
    """pyhf_reference and the workflow's FastAsymptoticCLs path, one hypothesis at a time."""
    reference, fast_cpu = [], 0.0
    start = time.process_time()
    for i in subset:
        reference.append(engine.pyhf_reference(specs[i], level))
        log.info("pyhf_reference %d/%d done", len(reference), len(subset))
    ref_cpu = time.process_time() - start
    for i in subset:

        def fast(spec=specs[i]):
            workspace = pyhf.Workspace(spec)
            model = workspace.model()
            scale = model.config.suggested_init()[model.config.poi_index]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                FastAsymptoticCLs(model, workspace.data(model)).upper_limits(level, scale=scale)
                pyhf.infer.hypotest(0.0, workspace.data(model), model, test_stat="q0")

        try:
            fast_cpu += timed(fast)[2]
        except Exception as err:  # noqa: BLE001  (a failed attempt 0 is retried by the workflow)
            log.warning("FastAsymptoticCLs failed on hypothesis %d: %s", i, err)
    return {"reference": reference, "reference_cpu_s": ref_cpu, "fast_cpu_s": fast_cpu}


def run_toys(batch: engine.WindowBatch, n_toys: int, level: float, seed: int) -> dict:
    """Background-only pseudo-datasets through every hypothesis: q0 and limits."""
    toys = engine.sample_toys(batch, n_toys, rng=np.random.default_rng(seed))
    (p0_z), _, cpu_p0 = timed(lambda: engine.discovery_p0(toys))
    limits, _, cpu_lim = timed(lambda: engine.upper_limits(toys, level=level))
    n_fits = n_toys * batch.n_hypotheses
    log.info("toys: %d x %d: p0 %.2f s, limits %.2f s CPU", n_toys, batch.n_hypotheses, cpu_p0, cpu_lim)
    return {
        "n_toys": n_toys,
        "p0_cpu_s": cpu_p0,
        "limits_cpu_s": cpu_lim,
        "p0_ms_per_dataset_hypothesis": 1e3 * cpu_p0 / n_fits,
        "limits_ms_per_dataset_hypothesis": 1e3 * cpu_lim / n_fits,
        "limits_converged_fraction": float(limits.converged.mean()),
        "max_local_z": float(np.max(p0_z[1])),
    }


def compare(eng: dict, ref: dict, subset: list[int]) -> dict:
    """Largest relative differences of the limits and |dZ| (engine - pyhf_reference)."""
    obs = np.array([r.observed for r in ref["reference"]])
    exp = np.array([r.expected for r in ref["reference"]]).T
    z = np.array([r.z for r in ref["reference"]])
    lim = eng["limits"]
    d_obs = lim.observed[subset] / obs - 1
    d_exp = lim.expected[:, subset] / exp - 1
    return {
        "max_rel_diff_observed": float(np.max(np.abs(d_obs))),
        "max_rel_diff_expected": [float(v) for v in np.max(np.abs(d_exp), axis=1)],
        "max_abs_diff_z": float(np.max(np.abs(eng["z"][subset] - z))),
        "engine_converged_fraction": float(lim.converged.mean()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspaces", nargs="*", help="glob patterns of saved workspaces (default: synthetic)")
    parser.add_argument("--n", type=int, default=200, help="synthetic hypotheses")
    parser.add_argument("--subset", type=int, default=20, help="hypotheses fitted with pyhf (evenly spaced)")
    parser.add_argument("--level", type=float, default=0.10, help="CLs level (0.10 = 90%% CL)")
    parser.add_argument("--toys", type=int, default=0, help="background-only toys through all hypotheses")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--output", type=pathlib.Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pyhf").setLevel(logging.WARNING)
    specs = read_specs(args.workspaces) if args.workspaces else synthetic_specs(args.n, seed=args.seed)
    subset = sorted({int(i) for i in np.linspace(0, len(specs) - 1, min(args.subset, len(specs)))})
    eng = run_engine(specs, args.level)
    ref = run_pyhf(specs, subset, args.level)
    per_engine = eng["cpu_s"] / len(specs)
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "numpy": np.__version__,
            "pyhf": pyhf.__version__,
        },
        "source": args.workspaces or f"synthetic, seed {args.seed}",
        "n_hypotheses": len(specs),
        "n_pyhf": len(subset),
        "level": args.level,
        "engine_cpu_s": eng["cpu_s"],
        "engine_wall_s": eng["wall_s"],
        "engine_ms_per_hypothesis": 1e3 * per_engine,
        "pyhf_reference_ms_per_hypothesis": 1e3 * ref["reference_cpu_s"] / len(subset),
        "fast_asymptotic_cls_ms_per_hypothesis": 1e3 * ref["fast_cpu_s"] / len(subset),
        "speedup_vs_pyhf_reference": ref["reference_cpu_s"] / len(subset) / per_engine,
        "speedup_vs_fast_asymptotic_cls": ref["fast_cpu_s"] / len(subset) / per_engine,
        **compare(eng, ref, subset),
    }
    if args.toys:
        result["toys"] = run_toys(eng["batch"], args.toys, args.level, args.seed + 1)
    print(json.dumps(result, indent=1))
    if args.output:
        args.output.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()

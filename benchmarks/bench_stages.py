"""Throughput of each darkscan stage, in one process, relative to a trivial baseline generator.

The baseline is the simplest possible event generator: plain vectorised numpy e+e- -> mu+ mu-
(flat in cos(theta) and phi, back-to-back muons) plus a boost along z to the lab frame, for the
same number of events, measured in the same run: ``rate / baseline`` cancels most of the machine
speed. Ratios use wall and process CPU time (CPU is robust to other jobs on shared cores);
``slowdown`` = baseline CPU rate / stage CPU rate, the cost of an event in "trivial events".

Stages: generation of each background/signal process, the detector simulation, the selection of
a written sample file, and fits (limit + p0) of one mass hypothesis on a synthetic window.

Example: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_stages.py --output benchmarks/results.json``
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import pathlib
import platform
import sys
import tempfile
import time
from collections.abc import Callable

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # single-threaded, so CPU time ~ wall time on an idle core
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

log = logging.getLogger("bench_stages")
SQRT_S = 10.58
MUON_MASS = 0.1056583755


def best_time(func: Callable[[], object], repeats: int = 1) -> tuple[float, float]:
    """(wall s, process CPU s) of the fastest of ``repeats`` calls of ``func``."""
    times = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        func()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(times)


def baseline_events(n: int, rng: np.random.Generator, *, sqrt_s: float = SQRT_S, beta_z: float = 0.27) -> np.ndarray:
    """The reference generator: 2-body e+e- -> mu+mu- with flat angles, boosted along z.

    Args:
        n: number of events.
        rng: random generator.
        sqrt_s: CM energy (GeV).
        beta_z: boost velocity of the CM frame along z.

    Returns:
        (n, 2, 4) lab-frame four-momenta (E, px, py, pz).
    """
    cos = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    energy = sqrt_s / 2.0
    p = np.sqrt(energy**2 - MUON_MASS**2)
    sin = np.sqrt(1.0 - cos**2)
    p4 = np.empty((n, 2, 4))
    p4[:, 0] = np.stack([np.full(n, energy), p * sin * np.cos(phi), p * sin * np.sin(phi), p * cos], axis=1)
    p4[:, 1, 0], p4[:, 1, 1:] = energy, -p4[:, 0, 1:]
    gamma = 1.0 / np.sqrt(1.0 - beta_z**2)
    e, pz = p4[..., 0].copy(), p4[..., 3].copy()
    p4[..., 0], p4[..., 3] = gamma * (e + beta_z * pz), gamma * (pz + beta_z * e)
    return p4


class Bench:
    """Collects stage rates and their ratios to the baseline measured for the same size."""

    def __init__(self, repeats: int, seed: int):
        self.repeats = repeats
        self.seed = seed
        self.rows: list[dict] = []
        self._baseline: dict[int, float] = {}
        self._baseline_cpu: dict[int, float] = {}

    def baseline_rate(self, n: int) -> float:
        """Events/s of :func:`baseline_events` for ``n`` events (cached per size)."""
        if n not in self._baseline:
            rng = np.random.default_rng(self.seed)
            seconds, cpu = best_time(lambda: baseline_events(n, rng), max(self.repeats, 3))
            self._baseline[n] = n / seconds
            self._baseline_cpu[n] = n / cpu
            self.rows.append(
                {
                    "stage": "baseline (numpy 2-body + boost)",
                    "unit": "events/s",
                    "n": n,
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "rate": n / seconds,
                    "ratio": 1.0,
                    "ratio_cpu": 1.0,
                }
            )
            log.info("baseline n=%d: %.3g events/s", n, n / seconds)
        return self._baseline[n]

    def add(
        self, stage: str, n: int, timing: tuple[float, float], *, unit: str = "events/s", compare: bool = True
    ) -> None:
        """Record one stage: ``n`` items in ``timing`` (wall, CPU s); ratio to the same-size baseline."""
        seconds, cpu = timing
        rate = n / seconds
        ratio = rate / self.baseline_rate(n) if compare else None
        ratio_cpu = (n / cpu) / self._baseline_cpu[n] if compare else None
        self.rows.append(
            {
                "stage": stage,
                "unit": unit,
                "n": n,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rate": rate,
                "ratio": ratio,
                "ratio_cpu": ratio_cpu,
            }
        )
        log.info("%s n=%d: %.3g s, %.3g %s%s", stage, n, seconds, rate, unit, f", ratio {ratio:.3g}" if ratio else "")


def bench_generation(bench: Bench, channel: dict, n_events: int, n_tau: int) -> dict:
    """Time ``process.generate`` for each process; returns the generated events by process."""
    from darkscan.generate.registry import get_process

    cases = {
        "mumu_zprime": ({**channel["signal"].get("options", {}), "mass": 2.0}, n_events),
        "mumu_gamma": (channel["backgrounds"]["mumu_gamma"].get("options", {}), n_events),
        "eemumu": (channel["backgrounds"]["eemumu"].get("options", {}), n_events),
        "tautau": (channel["backgrounds"]["tautau"].get("options", {}), n_tau),
    }
    events = {}
    for name, (options, n) in cases.items():
        process = get_process(name)
        process.generate(min(n, 500), np.random.default_rng(0), sqrt_s=SQRT_S, **options)  # warm-up
        rng = np.random.default_rng(bench.seed)

        def run(name=name, process=process, n=n, rng=rng, options=options):
            events[name] = process.generate(n, rng, sqrt_s=SQRT_S, **options)

        bench.add(f"generate {name}", n, best_time(run, 1 if name == "tautau" else bench.repeats))
    return events


def bench_detector(bench: Bench, events, experiment: dict, label: str) -> None:
    """Time :func:`darkscan.experiments.detector.simulate` on already generated events."""
    from darkscan.experiments.detector import simulate

    rng = np.random.default_rng(bench.seed)
    simulate(events.take(np.arange(min(len(events), 500))), experiment, rng)  # warm-up
    bench.add(
        f"detector simulate ({label})", len(events), best_time(lambda: simulate(events, experiment, rng), bench.repeats)
    )


def bench_two_body(bench: Bench, experiment: dict, n_events: int) -> None:
    """Time a complete 2-body sample: ``mumu`` generation plus the full detector simulation.

    Both muons are tracked in most events, so every step of :func:`simulate` (boost with beam
    spread, acceptance, efficiencies, pT and angle smearing, muon ID, jagged output) runs on two
    particles per event; the figure is events per second per core for a 2-body process with smearing.
    """
    from darkscan.experiments.detector import simulate
    from darkscan.generate.registry import get_process

    process = get_process("mumu")
    warm = np.random.default_rng(0)
    simulate(process.generate(1000, warm, sqrt_s=SQRT_S), experiment, warm)
    rng = np.random.default_rng(bench.seed)
    bench.add(
        "generate + detector mumu (2-body with smearing)",
        n_events,
        best_time(lambda: simulate(process.generate(n_events, rng, sqrt_s=SQRT_S), experiment, rng), bench.repeats),
    )


def bench_selection(bench: Bench, channel: dict, experiment: dict, n_events: int) -> None:
    """Write an eemumu sample with ``produce_sample`` (timed too) and time ``select_sample`` on it."""
    from darkscan.generate.sample import produce_sample
    from darkscan.select.selection import select_sample

    channel = {
        **channel,
        "backgrounds": {**channel["backgrounds"], "eemumu": {**channel["backgrounds"]["eemumu"], "events": n_events}},
    }
    with tempfile.TemporaryDirectory(prefix="bench_stages_") as tmp:
        sample = pathlib.Path(tmp, "eemumu.root")

        def produce():
            return produce_sample(
                sample,
                channel=channel,
                experiment=experiment,
                sample="eemumu",
                seed=bench.seed,
                chunk_events=n_events,
                progress=False,
            )

        bench.add("produce_sample eemumu (gen + sim + write)", n_events, best_time(produce))
        out, flow = pathlib.Path(tmp, "selected.root"), pathlib.Path(tmp, "cutflow.csv")
        select_sample(sample, out, flow, channel=channel, experiment=experiment, sample="eemumu")  # warm-up
        timing = best_time(
            lambda: select_sample(sample, out, flow, channel=channel, experiment=experiment, sample="eemumu"),
            bench.repeats,
        )
        bench.add("select_sample eemumu (read + select + write)", n_events, timing)


def synthetic_inputs(rng: np.random.Generator):
    """A three-bin window (sideband | signal | sideband) like one hypothesis of the Z' scan."""
    from darkscan.stats.methods.window_sidebands.model import WindowInputs

    background = np.array([420.0, 95.0, 380.0])
    signal = np.array([0.02, 0.55, 0.03]) * 79.7 * 0.05
    return WindowInputs(
        edges=np.array([1.70, 1.90, 2.10, 2.30]),
        data=rng.poisson(background).astype(float),
        background=background,
        background_sumw2=background * 0.04,
        signal=signal,
        signal_up=signal * np.array([1.3, 0.93, 1.3]),
        signal_down=signal * np.array([0.7, 1.05, 0.7]),
    )


def bench_fits(bench: Bench, n_fits: int) -> None:
    """Time ``build_spec`` + CLs upper limit + discovery p0 (what ``fit_mass`` does per mass)."""
    import pyhf

    from darkscan.stats.methods.window_sidebands.model import build_spec, signal_scale
    from darkscan.stats.methods.window_sidebands.pyhf_fit import _upper_limit, discovery_p0
    from darkscan.systematics.table import Systematic

    systematics = [
        Systematic("luminosity", "signal", "normsys", 0.01, "experiment"),
        Systematic("tracking", "signal", "normsys", 0.02, "experiment"),
        Systematic("mass_resolution", "signal", "histosys", 0.10, "derived"),
        Systematic("background_mc_statistics", "background", "staterror", 0.0, "derived"),
    ]
    inputs = synthetic_inputs(np.random.default_rng(bench.seed))

    def one_fit() -> None:
        spec = build_spec(inputs, systematics, scale_fb=signal_scale(inputs), background_floor=1e-3)
        workspace = pyhf.Workspace(spec)
        _upper_limit(workspace, 0.10, 0)
        discovery_p0(workspace)

    one_fit()  # warm-up (pyhf/scipy first-call costs)
    timing = best_time(lambda: [one_fit() for _ in range(n_fits)])
    bench.add("fit one mass (spec + CLs limit + p0)", n_fits, timing, unit="fits/s", compare=False)


def markdown(rows: list[dict]) -> str:
    """The result rows as a Markdown table."""
    lines = [
        "| stage | n | wall (s) | CPU (s) | rate (wall) | ratio (wall) | ratio (CPU) | slowdown (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio, ratio_cpu = (f"{r[k]:.3g}" if r[k] is not None else "n/a" for k in ("ratio", "ratio_cpu"))
        slow = f"{1 / r['ratio_cpu']:,.0f}x" if r["ratio_cpu"] else "n/a"
        lines.append(
            f"| {r['stage']} | {r['n']:,} | {r['seconds']:.3g} | {r['cpu_seconds']:.3g} | "
            f"{r['rate']:,.4g} {r['unit']} | {ratio} | {ratio_cpu} | {slow} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every stage, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events for generation/detector stages")
    parser.add_argument("--tau-events", type=int, default=5_000, help="events for tautau (Pythia) generation")
    parser.add_argument("--select-events", type=int, default=100_000, help="eemumu events written and selected")
    parser.add_argument("--fits", type=int, default=10, help="number of fits to time")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per stage; the fastest counts")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument(
        "--two-body-events", type=int, default=1_000_000, help="events for the 2-body generation + detector stage"
    )
    parser.add_argument("--stages", default="generate,detector,twobody,select,fit", help="comma-separated subset")
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    os.chdir(ROOT)  # the configs use paths relative to the repository root

    from darkscan import config as cfg

    config = cfg.load_global()
    channel = cfg.channel_config(config, "zprime_invisible")
    experiment = cfg.experiment_config(config, "belle2")
    stages = set(args.stages.split(","))
    bench = Bench(args.repeats, args.seed)
    if stages & {"generate", "detector"}:
        events = bench_generation(bench, channel, args.events, args.tau_events)
        if "detector" in stages:
            bench_detector(bench, events["eemumu"], experiment, "eemumu")
            bench_detector(bench, events["mumu_gamma"], experiment, "mumu_gamma")
    if "twobody" in stages:
        bench_two_body(bench, experiment, args.two_body_events)
    if "select" in stages:
        bench_selection(bench, channel, experiment, args.select_events)
    if "fit" in stages:
        bench_fits(bench, args.fits)

    table = markdown(bench.rows)
    print(table)
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        },
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "baseline": "numpy 2-body e+e- -> mu+mu- (flat angles) + z boost, same number of events",
        "results": bench.rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1))
    log.warning("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed and weight quality of the weighted QED background generators (a script, not a test).

For each generator (``mumu_gamma``, ``eemumu``; options of config/channels/zprime_invisible.yaml
at sqrt(s) = 10.58 GeV) it prints the generation rate (events/s), the cross section with its MC
error, the weight spread max/mean, the effective-event fraction (sum w)^2 / (n sum w^2) and the
accept-reject oversampling that unweighting needs (:func:`darkscan.generate.sample.unweighting_oversample`,
tolerance 1e-3).

With ``--old DIR`` it also times an older copy of the generator modules in the same process,
interleaving old and new runs (the machine is noisy: compare the ratio, not seconds), e.g.::

    mkdir -p /tmp/old && for f in twophoton.py _twophoton_phasespace.py qed_mumu.py; do
        git show HEAD:workflow/darkscan/generate/processes/$f > /tmp/old/$f; done
    for f in matrix_elements.py xsec.py; do git show HEAD:workflow/darkscan/physics/$f > /tmp/old/$f; done
    .venv/bin/python benchmarks/bench_generators.py --old /tmp/old --events 200000 --repeat 3

Files missing from DIR are skipped (only the new code is timed for that generator); for
``mumu_gamma`` the old ``physics/matrix_elements.py`` and ``physics/xsec.py`` are used when present.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import ModuleType
from unittest import mock

import numpy as np

from darkscan.generate import registry
from darkscan.generate.registry import get_process
from darkscan.generate.sample import unweighting_oversample

SQRT_S = 10.58
#: zprime_invisible.yaml background options.
OPTIONS = {
    "mumu_gamma": dict(photon_energy_min=0.9, photon_theta_min=36.0, photon_theta_max=142.0),
    "eemumu": dict(
        muon_theta_min=15.0,
        muon_theta_max=165.0,
        muon_pt_min=0.35,
        mumu_pt_min=0.9,
        recoil_cos_max=0.85,
        recoil_p_min=0.9,
    ),
}
#: Module file(s) of each generator in an --old directory: (helper modules..., module with ``generate``).
OLD_FILES = {"mumu_gamma": ("qed_mumu.py",), "eemumu": ("_twophoton_phasespace.py", "twophoton.py")}
#: Optional old helper modules outside the processes package (package of each file), loaded first if present.
OLD_OPTIONAL = {"mumu_gamma": (("darkscan.physics", "matrix_elements.py"), ("darkscan.physics", "xsec.py"))}
_PACKAGE = "darkscan.generate.processes"


def _load(path: Path, name: str, renames: dict[str, str]) -> ModuleType:
    """Import ``path`` as module ``name``, imports of ``renames`` keys redirected to the values."""
    source = path.read_text()
    for old, new in renames.items():
        source = source.replace(old, new)
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    with mock.patch.object(registry, "register_process", lambda *a, **k: lambda f: f):
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - trusted local copy
    return module


def load_old(directory: Path, process: str):
    """The ``generate`` function of the old copy of ``process`` in ``directory``, or None."""
    files = OLD_FILES[process]
    if not all((directory / f).is_file() for f in files):
        return None
    renames, module = {}, None
    for package, f in OLD_OPTIONAL.get(process, ()):
        if (directory / f).is_file():
            stem = f.removesuffix(".py")
            name = f"bench_old_{process}.{stem}"
            _load(directory / f, name, renames)
            renames[f"{package}.{stem}"] = name
    for f in files:
        stem = f.removesuffix(".py")
        name = f"bench_old_{process}.{stem}"
        module = _load(directory / f, name, renames)
        renames[f"{_PACKAGE}.{stem}"] = name
    return module.generate


def weight_stats(weight: np.ndarray) -> dict:
    """Cross section, its MC error, max/mean, effective fraction and unweighting oversample."""
    w = np.asarray(weight, float)
    oversample, above = unweighting_oversample(w, tolerance=1e-3)
    return dict(
        sigma=w.sum(),
        error=np.sqrt((w**2).sum()),
        max_over_mean=w.max() / w.mean(),
        effective=w.sum() ** 2 / (len(w) * (w**2).sum()),
        oversample=oversample,
    )


def _run(generate, n: int, seed: int, options: dict) -> tuple[float, float, np.ndarray]:
    """(wall seconds, CPU seconds of this process, weights) of one run."""
    t0, c0 = time.perf_counter(), time.process_time()
    events = generate(n, np.random.default_rng(seed), sqrt_s=SQRT_S, **options)
    return time.perf_counter() - t0, time.process_time() - c0, events.weight


def _describe(label: str, times: list[float], cpu: list[float], n: int, stats: dict) -> None:
    best = min(times)
    print(
        f"  {label:4s} {n / best:10.0f} ev/s (best of {len(times)}: {1e6 * best / n:6.2f} s/1M wall, "
        f"{1e6 * min(cpu) / n:6.2f} s/1M CPU)  "
        f"sigma = {stats['sigma']:.6g} +- {stats['error']:.3g} fb  max/mean {stats['max_over_mean']:6.2f}  "
        f"effective {stats['effective']:.3f}  oversample(1e-3) {stats['oversample']:.2f}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per run (default 200000)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per version (default 2)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--old", type=Path, default=None, help="directory with old copies of the generator modules")
    parser.add_argument("--only", default=",".join(OPTIONS), help="comma-separated generators (default: all)")
    args = parser.parse_args(argv)
    for process in args.only.split(","):
        new = get_process(process).generate
        old = load_old(args.old, process) if args.old else None
        versions = {"new": new} if old is None else {"old": old, "new": new}
        times = {k: [] for k in versions}
        cpu = {k: [] for k in versions}
        weights = {}
        for r in range(args.repeat):  # interleave the versions against drifting machine load
            for label, generate in versions.items():
                dt, dc, w = _run(generate, args.events, args.seed + r, OPTIONS[process])
                times[label].append(dt)
                cpu[label].append(dc)
                weights.setdefault(label, []).append(w)
        print(f"{process} ({args.events} events x {args.repeat}, options {OPTIONS[process]})")
        stats = {}
        for label in versions:
            stats[label] = weight_stats(np.concatenate(weights[label]) / args.repeat)
            _describe(label, times[label], cpu[label], args.events, stats[label])
        if old is not None:
            ratio = min(times["old"]) / min(times["new"])
            ratio_cpu = min(cpu["old"]) / min(cpu["new"])
            diff = stats["new"]["sigma"] - stats["old"]["sigma"]
            pull = diff / np.hypot(stats["new"]["error"], stats["old"]["error"])
            print(
                f"  speed-up old/new {ratio:.2f}x wall, {ratio_cpu:.2f}x CPU per event; "
                f"sigma new - old = {diff:.4g} fb ({pull:+.2f} sigma)"
            )


if __name__ == "__main__":
    main()

"""Time Snakemake dry runs of the default DAG and of a 100x-luminosity overlay in a built repository.

A dry run is what every cluster job and every `snakemake -n` pays: Python start, Snakemake import,
the Snakefile parse (config validation, the preflight checks, darkscan.stage_inputs) and the DAG.
Reported with a baseline measured in the same command: `snakemake -n` of a one-rule Snakefile
(Snakemake's own start with the installed executor plugins, which no workflow can avoid), so the
difference and the ratio are meaningful on a shared, noisy machine::

    python benchmarks/bench_dryrun.py --repo /tmp/full/bench_rebuild_xxx/repo --output results.json

``--repo`` is a repository copy with a finished default build (for the no-op run).
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import subprocess
import sys
import tempfile
import time

import yaml

log = logging.getLogger("bench_dryrun")
#: 100x the default luminosities (config/channels/*.yaml)
LUMINOSITY_100X = {"zprime_invisible": 7970.0, "dark_higgsstrahlung": 834.0, "alp_gammagamma": 44.5}


def best_of(command: list[str], *, cwd: pathlib.Path, repeats: int) -> tuple[float, str]:
    """Smallest wall time (s) of ``repeats`` runs of ``command`` and the output of the last."""
    best, output = float("inf"), ""
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return best, output


def jobs_planned(output: str) -> int:
    """The total of the job-stats table (0 when there is nothing to do)."""
    for line in output.splitlines():
        if line.startswith("total"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=pathlib.Path, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=pathlib.Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    snakemake = [sys.executable, "-m", "snakemake", "-n", "--nolock"]
    with tempfile.TemporaryDirectory() as tmp:
        empty = pathlib.Path(tmp) / "Snakefile"
        empty.write_text('rule all:\n    output: "x"\n    shell: "touch {output}"\n')
        (pathlib.Path(tmp) / "x").touch()
        baseline, _ = best_of([*snakemake, "-s", str(empty), "-d", tmp], cwd=pathlib.Path(tmp), repeats=args.repeats)
    noop, output = best_of(snakemake, cwd=args.repo, repeats=args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        overlay = pathlib.Path(tmp) / "lumi100.yaml"
        channels = {name: {"luminosity_fb": lumi} for name, lumi in LUMINOSITY_100X.items()}
        overlay.write_text(yaml.safe_dump({"channels": channels}))
        scaled, scaled_output = best_of([*snakemake, "--configfile", str(overlay)], cwd=args.repo, repeats=args.repeats)
    figures = {
        "baseline_one_rule_dry_run_s": baseline,
        "noop_dry_run_s": noop,
        "noop_nothing_to_do": "Nothing to be done" in output,
        "lumi100_dry_run_s": scaled,
        "lumi100_jobs": jobs_planned(scaled_output),
        "noop_minus_baseline_s": noop - baseline,
        "noop_over_baseline": noop / baseline,
        "lumi100_over_baseline": scaled / baseline,
    }
    for key, value in figures.items():
        log.info("%s: %s", key, f"{value:.3f}" if isinstance(value, float) else value)
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Time a from-scratch rebuild of the whole workflow in a temporary copy of the repository.

The repository is copied without ``results/``, ``.snakemake/``, ``.venv/``, ``logs/``, ``.git/``
and old ``benchmarks/rules/``, so nothing is reused. In the copy the script runs
``snakemake --cores N [--configfile ...] --benchmark-extended`` and then ``snakemake -n`` (which
must find nothing to do), and reports:

* total wall time of the rebuild and of the no-op dry run;
* per-rule wall times from the Snakemake ``benchmark:`` TSV files under ``benchmarks/rules/``
  (rules with a ``benchmark:`` directive), and for every rule the start/end times that Snakemake
  records in ``.snakemake/metadata``;
* peak RSS of the jobs: the largest ``max_rss`` (MB) over the TSV files.

Example (the tiny overlay of the workflow tests)::

    python benchmarks/bench_rebuild.py --configfile tests/configs/tiny.yaml \\
        --output benchmarks/rebuild_tiny.json
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOP_LEVEL_SKIP = {"results", ".snakemake", ".venv", "logs", ".git", ".pytest_cache", "build", ".ci"}
log = logging.getLogger("bench_rebuild")


def copy_repository(destination: pathlib.Path) -> pathlib.Path:
    """Copy the repository to ``destination`` without outputs, caches and the virtualenv.

    Args:
        destination: directory to create.

    Returns:
        ``destination``.
    """

    def ignore(directory: str, names: list[str]) -> set[str]:
        relative = pathlib.Path(directory).resolve().relative_to(ROOT)
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        if relative == pathlib.Path("."):
            skip |= TOP_LEVEL_SKIP & set(names)
        if relative == pathlib.Path("benchmarks"):
            skip |= {"rules"} & set(names)
        return skip

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    return destination


def run_snakemake(workdir: pathlib.Path, args: list[str], log_path: pathlib.Path) -> tuple[float, int, str]:
    """Run ``python -m snakemake ARGS`` in ``workdir``; returns (wall s, exit code, output)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    command = [sys.executable, "-m", "snakemake", *args]
    log.info("running in %s: %s", workdir, " ".join(command))
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    log_path.write_text(proc.stdout)
    return seconds, proc.returncode, proc.stdout


def _float(value: str | None) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # Snakemake writes "NA"/"-" for jobs too short to sample


def read_benchmarks(bench_dir: pathlib.Path) -> list[dict]:
    """One row per benchmark TSV: rule, file, wall s, max_rss MB, cpu_time s."""
    rows = []
    for path in sorted(bench_dir.rglob("*.tsv")):
        with path.open() as handle:
            for record in csv.DictReader(handle, delimiter="\t"):
                relative = path.relative_to(bench_dir)
                rule = record.get("rule_name") or "/".join(relative.parts[1:-1]) or relative.stem
                rows.append(
                    {
                        "rule": rule,
                        "file": str(relative),
                        "s": _float(record.get("s")),
                        "max_rss": _float(record.get("max_rss")),
                        "cpu_time": _float(record.get("cpu_time")),
                    }
                )
    return rows


def read_metadata(workdir: pathlib.Path) -> dict[str, dict]:
    """Per rule: jobs and wall time (s) from the start/end times in ``.snakemake/metadata``."""
    jobs: dict[tuple, list[float]] = {}  # (rule, job hash) -> [start, end] over the job's outputs
    for path in (workdir / ".snakemake" / "metadata").glob("*"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("starttime") and record.get("endtime"):
            span = jobs.setdefault((record["rule"], record.get("job_hash")), [record["starttime"], record["endtime"]])
            span[0], span[1] = min(span[0], record["starttime"]), max(span[1], record["endtime"])
    per_rule: dict[str, dict] = collections.defaultdict(lambda: {"jobs": 0, "total_s": 0.0, "max_s": 0.0})
    for (rule, _), (start, end) in jobs.items():
        entry = per_rule[rule]
        entry["jobs"] += 1
        entry["total_s"] += end - start
        entry["max_s"] = max(entry["max_s"], end - start)
    return dict(per_rule)


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Aggregate benchmark rows by rule: jobs, total and max wall time, max RSS."""
    out: dict[str, dict] = {}
    for row in rows:
        entry = out.setdefault(row["rule"], {"jobs": 0, "total_s": 0.0, "max_s": 0.0, "max_rss_mb": None})
        entry["jobs"] += 1
        entry["total_s"] += row["s"] or 0.0
        entry["max_s"] = max(entry["max_s"], row["s"] or 0.0)
        if row["max_rss"] is not None:
            entry["max_rss_mb"] = max(entry["max_rss_mb"] or 0.0, row["max_rss"])
    return out


def markdown(result: dict) -> str:
    """Markdown summary of a rebuild."""
    lines = [
        f"- configfiles: {', '.join(result['configfiles']) or '(default)'}; cores: {result['cores']}",
        f"- total wall time: {result['total_wall_s']:.1f} s (exit code {result['exit_code']})",
        f"- no-op `snakemake -n`: {result['noop_wall_s']:.1f} s (nothing to do: {result['noop_nothing_to_do']})",
        f"- peak job RSS (max of max_rss in benchmark TSVs): {result['peak_rss_mb']} MB",
        "",
        "| rule | jobs | total job wall (s) | slowest job (s) | max RSS (MB) | source |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for rule, e in sorted(result["rules_benchmark"].items(), key=lambda kv: -kv[1]["total_s"]):
        rss = f"{e['max_rss_mb']:.0f}" if e["max_rss_mb"] is not None else "n/a"
        lines.append(f"| {rule} | {e['jobs']} | {e['total_s']:.1f} | {e['max_s']:.1f} | {rss} | benchmark TSV |")
    for rule, e in sorted(result["rules_metadata"].items(), key=lambda kv: -kv[1]["total_s"]):
        lines.append(f"| {rule} | {e['jobs']} | {e['total_s']:.1f} | {e['max_s']:.1f} | n/a | .snakemake/metadata |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Copy the repository, rebuild, dry-run again, collect timings, print and write them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", action="append", default=[], help="overlay config (repeatable)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--snakemake-args", default="", help="extra arguments, e.g. a target")
    parser.add_argument("--workdir", type=pathlib.Path, help="where to copy the repository (default: a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the copy (with its results and logs)")
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "benchmarks" / "rebuild.json")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )

    configfiles = [str(pathlib.Path(c).resolve()) for c in args.configfile]
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    parent = pathlib.Path(tempfile.mkdtemp(prefix="bench_rebuild_", dir=args.workdir))
    try:
        workdir = copy_repository(parent / "repo")
        common = [f"--cores={args.cores}", *[f"--configfile={c}" for c in configfiles], *args.snakemake_args.split()]
        total, code, _ = run_snakemake(workdir, [*common, "--benchmark-extended"], parent / "rebuild.log")
        if code != 0:
            log.error("snakemake failed (exit %d); see %s", code, parent / "rebuild.log")
            args.keep = True
        noop, _, output = run_snakemake(workdir, [*common, "-n"], parent / "noop.log")
        rows = read_benchmarks(workdir / "benchmarks" / "rules")
        rules_benchmark = summarise(rows)
        rss = [r["max_rss"] for r in rows if r["max_rss"] is not None]
        result = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "configfiles": [os.path.relpath(c, ROOT) for c in configfiles],
            "cores": args.cores,
            "exit_code": code,
            "total_wall_s": total,
            "noop_wall_s": noop,
            "noop_nothing_to_do": "Nothing to be done" in output,
            "peak_rss_mb": max(rss) if rss else None,
            "rules_benchmark": rules_benchmark,
            "rules_metadata": {k: v for k, v in read_metadata(workdir).items() if k not in rules_benchmark},
            "jobs_benchmark": rows,
            "workdir": str(workdir) if args.keep else None,
        }
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)
    print(markdown(result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1))
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""The `snakemake --report` of the run, produced from inside a job of the same workflow.

A zip (``report/report.html`` and the files it shows beside it): a self-contained HTML inlines
every file base64-encoded (9.3 MB for the default build of 2026-12-03, 3.3 MB of it the page
itself), the zip holds the same in 3.3 MB.

``snakemake --report`` only reads the DAG and Snakemake's metadata: it takes no lock (unlike a run),
so it is safe to call from a job while the outer Snakemake holds its lock. The nested call gets
the outer run's merged config (config.yaml + overlays + --config) as its --configfile, so it sees
the same DAG. Its targets are the default target (every channel's results): the report describes
the run whose results are archived.
"""

from __future__ import annotations

import logging
import os
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Mapping

import yaml

from darkscan import config as cfg

log = logging.getLogger(__name__)


def snakemake_report(
    output: str | os.PathLike,
    *,
    snakefile: str | os.PathLike,
    config: Mapping,
    log_file: str | os.PathLike | None = None,
    timeout: float = 1800,
) -> pathlib.Path:
    """Run ``snakemake --report output`` for ``snakefile`` with ``config``; raise with its output on failure."""
    output = pathlib.Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", suffix=".yaml", prefix=".report-config-", dir=output.parent, delete=False
    ) as stream:
        yaml.safe_dump(cfg.as_plain(config), stream, sort_keys=True)
        config_file = stream.name
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "--configfile",
        config_file,
        "--report",
        str(output),
        "--nolock",
        "--quiet",
        "all",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    finally:
        pathlib.Path(config_file).unlink(missing_ok=True)
    if log_file:
        with open(log_file, "a") as stream:
            stream.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}")
    if result.returncode != 0 or not output.is_file():
        raise RuntimeError(f"snakemake --report failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return output

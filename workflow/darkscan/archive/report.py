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
import zipfile
from collections.abc import Mapping

import yaml

from darkscan import config as cfg
from darkscan import rootio

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
    if output.suffix == ".zip":
        normalise_zip(output)
    return output


#: time stamp of every member of the normalised zip (the earliest a zip can hold)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def normalise_zip(path: str | os.PathLike) -> None:
    """Rewrite the zip at ``path`` with sorted members, fixed time stamps and permissions, so the
    same report gives the same bytes (Snakemake stamps each member with the time of writing)."""
    path = pathlib.Path(path)
    with zipfile.ZipFile(path) as source:
        members = sorted((info.filename, source.read(info)) for info in source.infolist() if not info.is_dir())
    with rootio.atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as target:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data, compresslevel=6)

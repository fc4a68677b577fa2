"""Rebuild from an archive alone: unpack its source tree and resolved config, rerun Snakemake."""

from __future__ import annotations

import io
import logging
import os
import pathlib
import subprocess
import sys
import tarfile
from collections.abc import Sequence

from darkscan.archive.verify import verify_archive

log = logging.getLogger(__name__)

#: where the archived resolved config lands in the rebuild directory (passed as --configfile)
ARCHIVED_CONFIG = "archived-config.yaml"


def _extract(tar: tarfile.TarFile, directory: pathlib.Path) -> None:
    if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse absolute paths, '..', devices
        tar.extractall(directory, filter="data")
    else:  # pragma: no cover
        for member in tar.getmembers():
            if member.name.startswith("/") or ".." in pathlib.PurePosixPath(member.name).parts:
                raise ValueError(f"unsafe path {member.name!r} in source.tar")
        tar.extractall(directory)


def unpack_archive(archive: str | os.PathLike, directory: str | os.PathLike) -> pathlib.Path:
    """Check ``archive`` and unpack its ``source.tar`` and resolved config into ``directory`` (new or empty).

    Returns the path of the archived config file inside ``directory``.
    """
    archive, directory = pathlib.Path(archive), pathlib.Path(directory)
    problems = verify_archive(archive)
    if problems:
        raise ValueError(f"archive {archive} failed verification, not rebuilding:\n  " + "\n  ".join(problems))
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f"rebuild directory {directory} is not empty")
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        top = tar.getmembers()[0].name.split("/", 1)[0]
        source = tar.extractfile(f"{top}/source.tar").read()
        config = tar.extractfile(f"{top}/config/resolved.yaml").read()
    with tarfile.open(fileobj=io.BytesIO(source), mode="r:") as tar:
        _extract(tar, directory)
    config_path = directory / ARCHIVED_CONFIG
    config_path.write_bytes(config)
    return config_path


def rebuild_archive(
    archive: str | os.PathLike,
    directory: str | os.PathLike,
    *,
    cores: int | str = "all",
    targets: Sequence[str] = (),
    snakemake_args: Sequence[str] = (),
) -> int:
    """Unpack ``archive`` into ``directory`` and rerun the workflow there with the archived config.

    The archived package (``directory/workflow``) comes first on PYTHONPATH, so the jobs import
    the archived darkscan, not whichever copy is installed. Returns Snakemake's exit status;
    compare ``directory/results/<channel>/limits.csv`` with the archive's afterwards.
    """
    directory = pathlib.Path(directory).resolve()
    config_path = unpack_archive(archive, directory)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(directory / "workflow"), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    # targets first: options such as --configfile and --quiet take several values
    command = [
        sys.executable,
        "-m",
        "snakemake",
        *targets,
        "--cores",
        str(cores),
        *snakemake_args,
        "--configfile",
        config_path.name,
    ]
    log.info("rebuilding in %s: %s", directory, " ".join(command))
    return subprocess.run(command, cwd=directory, env=env, check=False).returncode

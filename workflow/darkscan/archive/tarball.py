"""The checksummed results archive ``results/archive/darkscan-<channels>-<commit>.tar.gz``.

Layout (every path under one top directory named like the archive without ``.tar.gz``)::

    MANIFEST                       sha256 and relative path of every other member (sha256sum format)
    PROVENANCE.yaml                commit, dirty flag, channels, archive name, how to rebuild
    versions.txt                   installed packages, pip-freeze style
    seeds.yaml                     global seed and every derived generation seed
    config/resolved.yaml           config.yaml with every overlay merged: the rebuild's --configfile
    config/channels/<ch>.yaml      each channel config fully resolved (file + overrides + defaults)
    config/experiments/<exp>.yaml  each experiment config fully resolved
    source.tar                     the source tree that ran (git-tracked + untracked-not-ignored files)
    source.diff                    ``git diff HEAD`` when the tree was dirty
    hepdata/submission.tar.gz      the validated HEPData submission
    report.zip                     ``snakemake --report`` of the run (zipped: report/report.html + its files)
    results/<ch>/...               limits.csv, cutflow.csv, systematics.csv/.tex, validation.html,
                                   plots/*.png|pdf, workspaces/part*/mass_*.json, and for a
                                   channel with an MVA mva/models/range*.txt (LightGBM text
                                   models) or range*.json (Punzi-loss networks) and
                                   mva/working_points.json

Overwrite protection: the archive is written by this function, not declared as a Snakemake
output (the rule's output is the small pointer ``results/archive/latest.json``), so Snakemake
never deletes it before a rerun. An existing archive of the same name is the registry: a
different archive of the same name is refused unless ``overwrite``; a byte-identical one is kept.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pathlib
from collections.abc import Mapping, Sequence

import yaml

from darkscan import config as cfg
from darkscan.archive import provenance
from darkscan.archive.tarfiles import TarEntry, sha256_bytes, sha256_file, write_tar

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST"
#: config keys that steer the archiving itself and are left out of the archived config
ACTION_KEYS = ("archive_overwrite",)
#: result files of a channel (relative to results/<channel>) that go into the archive
RESULT_PATTERNS = (
    "limits.csv",
    "cutflow.csv",
    "systematics.csv",
    "systematics.tex",
    "validation.html",
    "plots/*.png",
    "plots/*.pdf",
    "workspaces/part*/mass_*.json",
)
#: result files that only some channels have (an MVA stage): archived where they exist
OPTIONAL_RESULT_PATTERNS = ("mva/models/range*.txt", "mva/models/range*.json", "mva/working_points.json")


class ArchiveExistsError(FileExistsError):
    """An archive of the same name with different content exists and overwriting was not allowed."""


def _yaml(data) -> bytes:
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False, allow_unicode=True).encode()


def channel_results(results_dir: str | os.PathLike, channel: str) -> list[pathlib.Path]:
    """The result files of ``channel`` that the archive holds, sorted; an error names a missing one."""
    base = pathlib.Path(results_dir) / channel
    files: list[pathlib.Path] = []
    for pattern in RESULT_PATTERNS:
        matched = sorted(base.glob(pattern))
        if not matched:
            raise FileNotFoundError(f"channel {channel}: no result file {base / pattern} to archive")
        files.extend(matched)
    for pattern in OPTIONAL_RESULT_PATTERNS:
        files.extend(sorted(base.glob(pattern)))
    return files


def manifest_text(entries: Sequence[TarEntry], prefix: str) -> str:
    """One ``<sha256>  <relative path>`` line per regular file, sorted by path (``sha256sum -c`` reads it)."""
    lines = []
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.link is None:
            lines.append(f"{sha256_bytes(entry.data)}  {entry.name[len(prefix) :]}\n")
    return "".join(lines)


def archive_bytes(
    *,
    name: str,
    channels: Sequence[str],
    config: Mapping,
    root: str | os.PathLike,
    results_dir: str | os.PathLike = "results",
    hepdata: str | os.PathLike,
    report: str | os.PathLike | None = None,
    state: provenance.SourceState | None = None,
    resolved: Mapping | None = None,
) -> bytes:
    """Build the archive in memory and return its (deterministic) gzip-compressed bytes.

    ``resolved`` (``{"channels": {name: config}, "experiments": {name: config}}``) gives the
    resolved configs the workflow used; without it they are resolved again from ``config``.
    """
    # archive_overwrite says how to write this archive, not what is in it: leave it out (determinism)
    plain = {k: v for k, v in cfg.as_plain(config).items() if k not in ACTION_KEYS}
    state = state or provenance.source_state(root)
    prefix = name.removesuffix(".tar.gz") + "/"
    members: dict[str, TarEntry] = {}

    def add(rel: str, data: bytes | None = None, path: str | os.PathLike | None = None) -> None:
        members[rel] = TarEntry.from_path(prefix + rel, path) if path is not None else TarEntry(prefix + rel, data)

    if resolved is None:
        channel_configs = {ch: cfg.channel_config(plain, ch) for ch in channels}
        experiment_configs = {
            c["experiment"]: cfg.experiment_config(plain, c["experiment"]) for c in channel_configs.values()
        }
    else:
        channel_configs = {ch: cfg.as_plain(resolved["channels"][ch]) for ch in channels}
        experiment_configs = {
            c["experiment"]: cfg.as_plain(resolved["experiments"][c["experiment"]]) for c in channel_configs.values()
        }
    experiments = sorted(experiment_configs)
    for channel in channels:
        for path in channel_results(results_dir, channel):
            add(f"results/{channel}/{path.relative_to(pathlib.Path(results_dir) / channel).as_posix()}", path=path)
        add(f"config/channels/{channel}.yaml", _yaml(channel_configs[channel]))
    for experiment in experiments:
        add(f"config/experiments/{experiment}.yaml", _yaml(experiment_configs[experiment]))
    add("config/resolved.yaml", _yaml(plain))
    add("seeds.yaml", _yaml(provenance.seeds(plain, channel_configs)))
    add("versions.txt", provenance.package_versions().encode())
    add("source.tar", provenance.source_tar_bytes(root))
    if state.dirty:
        diff = provenance.source_diff(root)
        if diff:
            add("source.diff", diff.encode())
    add("hepdata/submission.tar.gz", path=hepdata)
    if report is not None:
        add("report.zip", path=report)
    add(
        "PROVENANCE.yaml",
        _yaml(
            {
                "archive": name,
                "channels": list(channels),
                "experiments": experiments,
                "source": state.as_dict(),
                "source_note": "source.tar holds the working tree that ran (tracked and untracked, not ignored files)"
                + ("; it differs from the commit by source.diff" if state.dirty else ""),
                "rebuild": (
                    "darkscan rebuild <archive> <DIR>  "
                    "(unpacks source.tar, runs snakemake with --configfile config/resolved.yaml)"
                ),
                "verify": "darkscan verify <archive>  (or: tar xzf <archive> && cd <dir> && sha256sum -c MANIFEST)",
            }
        ),
    )
    entries = list(members.values())
    entries.append(TarEntry(prefix + MANIFEST, manifest_text(entries, prefix).encode()))
    buffer = io.BytesIO()
    write_tar(buffer, entries, compress=True)
    return buffer.getvalue()


def overwrite_allowed(config: Mapping) -> bool:
    """The ``archive_overwrite`` config flag (``--config archive_overwrite=true`` arrives as a string)."""
    value = config.get("archive_overwrite", False)
    if isinstance(value, str):
        if value.strip().lower() not in {"true", "false", "yes", "no", "1", "0"}:
            raise ValueError(f"config key 'archive_overwrite': expected true or false, got {value!r}")
        return value.strip().lower() in {"true", "yes", "1"}
    return bool(value)


def write_archive(data: bytes, final: str | os.PathLike, *, overwrite: bool) -> bool:
    """Write ``data`` to ``final`` atomically, refusing to replace a different existing file.

    Returns True if the file was written, False if an identical archive was already there.
    Raises ArchiveExistsError (with the way out) for a different archive of the same name.
    """
    final = pathlib.Path(final)
    if final.exists():
        if sha256_file(final) == sha256_bytes(data):
            log.info("%s already exists with identical content; kept as is", final)
            return False
        if not overwrite:
            raise ArchiveExistsError(
                f"archive {final} already exists with different content: refusing to overwrite it. "
                "Commit your changes (the archive name carries the commit), move the old archive away, "
                "or rerun with --config archive_overwrite=true to replace it."
            )
        log.warning("replacing existing archive %s (archive_overwrite=true)", final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def build_archive(
    pointer: str | os.PathLike,
    *,
    archive_dir: str | os.PathLike,
    name: str,
    channels: Sequence[str],
    config: Mapping,
    root: str | os.PathLike,
    hepdata: str | os.PathLike,
    report: str | os.PathLike | None = None,
    results_dir: str | os.PathLike = "results",
    overwrite: bool = False,
    resolved: Mapping | None = None,
) -> pathlib.Path:
    """Build the archive ``archive_dir/name`` and write the pointer JSON ``pointer`` describing it.

    Args:
        pointer: the JSON file (the Snakemake output) naming the archive, its sha256 and commit.
        archive_dir: where the archive goes (results/archive).
        name: archive file name (:func:`darkscan.archive.provenance.archive_name`).
        channels: enabled channels, in config order.
        config: the merged global config (config.yaml + overlays).
        root: the workflow's source directory (Snakefile directory).
        hepdata: the validated submission.tar.gz.
        report: the ``snakemake --report`` zip (None to leave it out).
        results_dir: the results directory.
        overwrite: allow replacing a *different* archive of the same name.
        resolved: the resolved channel and experiment configs (see :func:`archive_bytes`).

    Returns:
        The archive path.
    """
    state = provenance.source_state(root)
    data = archive_bytes(
        name=name,
        channels=channels,
        config=config,
        root=root,
        results_dir=results_dir,
        hepdata=hepdata,
        report=report,
        state=state,
        resolved=resolved,
    )
    final = pathlib.Path(archive_dir) / name
    written = write_archive(data, final, overwrite=overwrite)
    info = {
        "archive": name,
        "path": final.as_posix(),
        "sha256": sha256_bytes(data),
        "bytes": len(data),
        "channels": list(channels),
        "commit": state.commit,
        "short_commit": state.short,
        "dirty": state.dirty,
    }
    pathlib.Path(pointer).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(pointer).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    log.info("%s %s (%d bytes, sha256 %s)", "wrote" if written else "kept", final, len(data), info["sha256"])
    return final

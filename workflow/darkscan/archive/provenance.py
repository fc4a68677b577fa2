"""Where a result came from: source commit, the source tree itself, package versions, seeds.

Everything here is deterministic: the same working tree and environment give the same bytes,
so that an archive built twice from the same inputs is byte-identical.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.metadata
import io
import logging
import os
import pathlib
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping

from darkscan.archive.tarfiles import TarEntry, write_tar
from darkscan.config import sample_config, sample_names
from darkscan.seeds import seed_for

log = logging.getLogger(__name__)

#: commit name used when the code does not come from a git checkout
NO_GIT = "nogit"
#: directories never part of the source (outputs, environments, caches), also without git
_ALWAYS_EXCLUDED = (
    ".git",
    ".venv",
    ".snakemake",
    "results",
    "logs",
    "__pycache__",
    ".pytest_cache",
    "*.egg-info",
    "build",
)


@dataclasses.dataclass(frozen=True)
class SourceState:
    """The source tree's commit (or ``nogit``), short name and whether it has uncommitted changes."""

    commit: str
    short: str
    dirty: bool
    git: bool

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _git(root: pathlib.Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=text, check=False)


def _is_git_root(root: pathlib.Path) -> bool:
    """True when ``root`` is the top of a git work tree (not merely inside some outer repository)."""
    try:
        result = _git(root, "rev-parse", "--show-toplevel")
    except FileNotFoundError:  # git not installed
        return False
    return result.returncode == 0 and pathlib.Path(result.stdout.strip()).resolve() == root.resolve()


def source_state(root: str | os.PathLike) -> SourceState:
    """Commit of the checkout at ``root`` (``git rev-parse HEAD``) and its dirty flag; ``nogit`` without git."""
    root = pathlib.Path(root)
    if not _is_git_root(root):
        return SourceState(NO_GIT, NO_GIT, False, False)
    head = _git(root, "rev-parse", "HEAD")
    if head.returncode != 0:  # a repository without commits
        return SourceState(NO_GIT, NO_GIT, True, True)
    short = _git(root, "rev-parse", "--short", "HEAD").stdout.strip()
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=normal").stdout.strip())
    return SourceState(head.stdout.strip(), short, dirty, True)


def archive_name(channels: Iterable[str], short_commit: str) -> str:
    """``darkscan-<channels joined by '+'>-<short commit or 'nogit'>.tar.gz``."""
    channels = list(channels)
    if not channels:
        raise ValueError("no enabled channel to archive")
    return f"darkscan-{'+'.join(channels)}-{short_commit}.tar.gz"


def _gitignore_patterns(root: pathlib.Path) -> list[str]:
    path = root / ".gitignore"
    if not path.is_file():
        return []
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("!")
    ]


def _ignored(rel: str, patterns: Iterable[str]) -> bool:
    """A simple .gitignore matcher (used only without git): name patterns, anchored and directory patterns."""
    parts = rel.split("/")
    for pattern in patterns:
        anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
        pat = pattern.strip("/")
        if anchored:
            if any(fnmatch.fnmatch("/".join(parts[: i + 1]), pat) for i in range(len(parts))):
                return True
        elif any(fnmatch.fnmatch(part, pat) for part in parts):
            return True
    return False


def source_files(root: str | os.PathLike) -> list[str]:
    """Relative paths of the source files at ``root``, sorted.

    From git: tracked plus untracked-but-not-ignored files of the *working tree* (so a dirty tree
    is archived as it was run, not as committed). Without git: every file not matched by
    ``.gitignore`` or the always-excluded output/environment directories.
    """
    root = pathlib.Path(root)
    if _is_git_root(root):
        listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").stdout
        names = {name for name in listed.split("\0") if name}
        # deleted-but-tracked files are not part of the tree that ran
        return sorted(n for n in names if (root / n).is_symlink() or (root / n).is_file())
    patterns = [*_ALWAYS_EXCLUDED, *_gitignore_patterns(root)]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = pathlib.Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        keep = []
        for d in sorted(dirnames):
            rel = rel_dir + d
            if _ignored(rel, patterns):
                continue
            if (root / rel).is_symlink():
                found.append(rel)  # a link to a directory is archived as the link
            else:
                keep.append(d)
        dirnames[:] = keep
        found.extend(rel_dir + f for f in filenames if not _ignored(rel_dir + f, patterns))
    return sorted(found)


def source_tar_bytes(root: str | os.PathLike) -> bytes:
    """An uncompressed, deterministic tar of the source tree (``source.tar``)."""
    root = pathlib.Path(root)
    entries = [TarEntry.from_path(name, root / name) for name in source_files(root)]
    buffer = io.BytesIO()
    write_tar(buffer, entries, compress=False)
    return buffer.getvalue()


def source_diff(root: str | os.PathLike) -> str:
    """``git diff HEAD`` of a dirty checkout (empty without git or when clean)."""
    root = pathlib.Path(root)
    if not _is_git_root(root):
        return ""
    return _git(root, "diff", "--binary", "HEAD").stdout


def package_versions() -> str:
    """Installed distributions as ``pip freeze`` lines (``name==version``), sorted, with the Python version."""
    seen = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        seen.setdefault(key, f"{key}=={dist.version}")
    header = (
        f"# python {platform.python_version()} ({sys.implementation.name}) "
        f"on {platform.system()} {platform.machine()}\n"
    )
    return header + "".join(f"{line}\n" for _, line in sorted(seen.items()))


def _data_chunks(config: Mapping, channel: Mapping) -> int:
    """Pseudo-data jobs per component, as the workflow splits them."""
    from darkscan import config as cfg

    if hasattr(cfg, "data_chunks"):
        return cfg.data_chunks(config, channel)
    return int(config.get("data_chunks", 1))


def seeds(config: Mapping, channels: Mapping[str, Mapping]) -> dict:
    """The global seed and every derived generation seed (darkscan.seeds.seed_for), per channel and sample."""
    from darkscan.generate.sample import chunk_sizes  # the generation stack (uproot) only when needed

    global_seed = int(config["seed"])
    out = {
        "global_seed": global_seed,
        "derivation": (
            "seed_for(global_seed, channel, sample, chunk) = SHA-256 of 'global_seed/channel/sample/chunk' "
            "(darkscan/seeds.py); pseudo-data chunks use the names (channel, 'data', component, chunk)"
        ),
        "channels": {},
    }
    for name, channel in channels.items():
        samples = {}
        for sample in sample_names(channel):
            n = len(chunk_sizes(sample_config(channel, sample)["events"], int(config.get("chunk_events", 500_000))))
            samples[sample] = [seed_for(global_seed, name, sample, i) for i in range(n)]
        components = list(channel["backgrounds"])
        inject = (channel.get("data") or {}).get("inject_signal")
        if inject:
            from darkscan.config import signal_sample_name

            components.append(signal_sample_name(inject["mass"]))
        data = {
            c: [seed_for(global_seed, name, "data", c, i) for i in range(_data_chunks(config, channel))]
            for c in components
        }
        out["channels"][name] = {"samples": samples, "data": data}
    return out

"""ROOT file I/O with uproot: atomic writes, JSON metadata, checked reads.

Every file darkscan writes carries a ``metadata`` TObjString holding JSON (cross section in fb,
generated events, equivalent luminosity, seed, generator and versions). Files are written to a
temporary name and renamed at the end, so a failed job never leaves a partial file behind.

Events are a TTree ``events`` (the file contract in README.md, readable by every ROOT 6): uproot
5.7 writes an RNTuple when a tree is assigned (``file[name] = arrays``), so trees are made with
``mktree``. TTrees cannot hold records: a collection such as the tracks is split into branches
``track_px``, ``track_py`` ... with the counter ``ntrack``, and :func:`iterate_events` zips them back.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import pathlib
from collections.abc import Iterator

import awkward as ak
import uproot

log = logging.getLogger(__name__)
TREE = "events"
METADATA_KEY = "metadata"
_COMPRESSION = {"lz4": lambda: uproot.LZ4(1), "zstd": lambda: uproot.ZSTD(1), "zlib": lambda: uproot.ZLIB(1)}
_VERSIONED = ("darkscan", "numpy", "uproot", "awkward", "hist", "pyhf", "pythia8mc", "snakemake")


class InputFileError(ValueError):
    """An input ROOT file is missing, unreadable or lacks a tree or branch."""


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape outputs (recorded in metadata)."""
    versions = {}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[pathlib.Path]:
    """Yield a temporary sibling path; rename it to ``path`` only if the block succeeds."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def recreate(path: str | os.PathLike, *, compression: str = "lz4") -> Iterator[uproot.WritableDirectory]:
    """Open a new ROOT file for writing, atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, uproot.recreate(tmp, compression=_COMPRESSION[compression]()) as file:
        yield file


def write_metadata(file: uproot.WritableDirectory, metadata: dict) -> None:
    """Store ``metadata`` (JSON-serialisable) as the TObjString ``metadata``."""
    file[METADATA_KEY] = json.dumps(metadata, sort_keys=True)


def open_checked(path: str | os.PathLike) -> uproot.ReadOnlyDirectory:
    """Open a ROOT file; a missing or unreadable file raises InputFileError naming it (and, for a
    workflow intermediate under ``results/``, the command that regenerates it)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise InputFileError(f"input ROOT file {path} does not exist")
    try:
        return uproot.open(path)
    except Exception as err:  # uproot raises several types for corrupt files
        raise InputFileError(f"input ROOT file {path} cannot be read: {err}{regenerate_hint(path)}") from err


def regenerate_hint(path: str | os.PathLike) -> str:
    """How to regenerate a corrupted workflow intermediate (``""`` for files outside ``results/``)."""
    parts = pathlib.Path(path).parts
    if "results" not in parts:
        return ""
    relative = pathlib.Path(*parts[len(parts) - 1 - parts[::-1].index("results") :])
    return (
        "; it is a workflow intermediate: regenerate it (and what depends on it) "
        f"with `snakemake --cores all --force {relative}`, then rerun"
    )


def read_metadata(path: str | os.PathLike) -> dict:
    """Return the JSON metadata of a darkscan ROOT file (empty dict for foreign files)."""
    with open_checked(path) as file:
        if METADATA_KEY not in file:
            return {}
        return json.loads(str(file[METADATA_KEY]))


def write_events(file: uproot.WritableDirectory, payload: dict, *, first: bool, tree: str = TREE) -> None:
    """Create the TTree ``tree`` with a first batch of events (``first``) or append a batch to it."""
    if first:
        file.mktree(tree, payload)
    else:
        file[tree].extend(payload)


def record_branches(ttree, name: str) -> list[str]:
    """The branches that hold ``name``: the branch itself, or a split record (``n<name>``, ``<name>_*``)."""
    keys = ttree.keys()
    if name in keys:
        return [name]
    split = [key for key in keys if key.startswith(f"{name}_")]
    return [f"n{name}", *split] if split and f"n{name}" in keys else []


def _field(chunk: ak.Array, name: str, branches: list[str]) -> ak.Array:
    """The field ``name`` of a chunk: its branch, or the records zipped from its split branches."""
    if branches == [name]:
        return chunk[name]
    return ak.zip({branch[len(name) + 1 :]: chunk[branch] for branch in branches[1:]})


def iterate_events(ttree, names: list[str], *, step_size: int) -> Iterator[ak.Array]:
    """Iterate over the fields ``names`` of an events tree; split records come back as records.

    Each record is zipped from its own branches (uproot's ``how="zip"`` groups branches by equal
    counts, and merged the tracks and KLM hits of events that had none of either)."""
    groups = {name: record_branches(ttree, name) for name in names}
    branches = [branch for group in groups.values() for branch in group]
    for chunk in ttree.iterate(branches, step_size=step_size, library="ak"):
        yield ak.zip({name: _field(chunk, name, group) for name, group in groups.items()}, depth_limit=1)


def read_events(ttree) -> ak.Array:
    """All events of an events tree at once, split records zipped back (small files: tests, notebooks)."""
    arrays = ttree.arrays(how="zip")
    return arrays[[field for field in arrays.fields if not (field.startswith("n") and field[1:] in arrays.fields)]]


def tree_of(
    file: uproot.ReadOnlyDirectory,
    path: str | os.PathLike,
    *,
    tree: str = TREE,
    branches: list[str] | tuple[str, ...] = (),
) -> uproot.TTree:
    """The tree ``tree`` of an open file, checking that ``branches`` exist (errors name them)."""
    if tree not in file:
        raise InputFileError(f"{path}: no tree {tree!r} (keys: {file.keys()})")
    ttree = file[tree]
    missing = sorted(name for name in set(branches) if not record_branches(ttree, name))
    if missing:
        raise InputFileError(f"{path}: tree {tree!r} lacks branch(es) {missing}")
    return ttree

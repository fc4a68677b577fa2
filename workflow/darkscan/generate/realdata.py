"""Real data: import a channel's own ROOT ntuples, one file at a time (``samples/data/file{i}.root``).

With ``data.source: files`` a channel names ROOT files (``data.files``), their tree
(``data.tree``) and a mapping from the variables its cuts and fit use to branches of those files
(``data.branches``, e.g. ``recoil_mass: Mrecoil``). The branches are copied under darkscan's names
with ``weight`` = 1, and the selection evaluates the cuts on them directly (the variable function
that builds these columns from simulated objects is skipped). Everything downstream is unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib

import numpy as np
import uproot

from darkscan import rootio
from darkscan.expressions import ExpressionError, check_expression

log = logging.getLogger(__name__)


def required_variables(channel: dict, mapping: dict[str, str]) -> list[str]:
    """Variables the cuts and the fit use; the error names any the mapping lacks."""
    needed = {channel["fit"]["variable"], *channel["fit"].get("columns", [])}
    for cut in channel["selection"]["cuts"]:
        try:
            needed.update(check_expression(cut["expr"], frozenset(mapping)))
        except ExpressionError as err:
            raise ValueError(
                f"channel {channel['name']}: data.branches must map every variable of cut {cut['name']!r}: {err}"
            ) from None
    missing = sorted(needed - set(mapping))
    if missing:
        raise ValueError(f"channel {channel['name']}: data.branches lacks the fit variable(s) {missing}")
    return sorted(needed)


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_scalar_branches(tree, mapping: dict[str, str], *, path: str | os.PathLike) -> None:
    """Every mapped branch holds one number per event; a jagged or object branch is an error
    naming the file, the branch and its type (before any event is read)."""
    for variable, branch in mapping.items():
        interpretation = getattr(tree[branch], "interpretation", None)
        if interpretation is None:  # an RNTuple field: checked on reading (_scalar_values)
            continue
        dtype = getattr(interpretation, "to_dtype", None)
        scalar = (
            isinstance(interpretation, uproot.interpretation.numerical.AsDtype)
            and dtype is not None
            and dtype.shape == ()
            and dtype.kind in "biuf"
        )
        if not scalar:
            raise rootio.InputFileError(
                f"{path}: branch {branch!r} (variable {variable!r}) has type {tree[branch].typename!r}; "
                "a variable needs a scalar number per event (not a jagged or object branch)"
            )


def _scalar_values(values, *, path: str | os.PathLike, branch: str, variable: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype.kind not in "biuf":
        raise rootio.InputFileError(
            f"{path}: branch {branch!r} (variable {variable!r}) holds {values.dtype} values "
            f"of shape {values.shape[1:]} per event; "
            "a variable needs a scalar number per event (not a jagged or object branch)"
        )
    return values


def import_data(
    files: list[str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    channel: dict,
    compression: str = "lz4",
    step_size: int = 1_000_000,
    allow_empty: bool = False,
) -> dict:
    """Copy the mapped branches of real ntuples into one darkscan data file; returns its metadata.

    The workflow imports one file per job (``samples/data/file{i}.root``), so that each is
    selected on its own; a file without events is then allowed (``allow_empty``), and only a
    dataset without any event is an error (:func:`darkscan.select.selection.merge_data_parts`).
    """
    data = channel["data"]
    mapping = dict(data.get("branches", {}))
    required_variables(channel, mapping)
    tree_name = data.get("tree", "events")
    written, sources, created = 0, [], False
    with rootio.recreate(out_path, compression=compression) as out:
        for path in map(pathlib.Path, files):
            with rootio.open_checked(path) as file:
                tree = rootio.tree_of(file, path, tree=tree_name, branches=list(mapping.values()))
                check_scalar_branches(tree, mapping, path=path)
                for arrays in tree.iterate(list(mapping.values()), step_size=step_size, library="np"):
                    payload = {}
                    for variable, branch in mapping.items():
                        values = _scalar_values(arrays[branch], path=path, branch=branch, variable=variable)
                        if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
                            raise ValueError(
                                f"{path}: branch {branch!r} (variable {variable!r}) "
                                f"has {np.count_nonzero(~np.isfinite(values))} non-finite values"
                            )
                        payload[variable] = values
                    payload["weight"] = np.ones(len(next(iter(payload.values()))))
                    rootio.write_events(out, payload, first=not created)
                    created = True
                    written += len(payload["weight"])
            sources.append({"file": str(path), "sha256": _sha256(path)})
        if not written and not allow_empty:
            raise ValueError(f"channel {channel['name']}: the data files {[str(f) for f in files]} hold no events")
        metadata = {
            "channel": channel["name"],
            "sample": "data",
            "is_data": True,
            "source": "files",
            "files": sources,
            "tree": tree_name,
            "precomputed_variables": sorted(mapping),
            "branches": mapping,
            "events": written,
            "luminosity_fb": channel["luminosity_fb"],
            "versions": rootio.package_versions(),
        }
        rootio.write_metadata(out, metadata)
    log.info("imported %d data events from %d file(s)", written, len(sources))
    return metadata

"""Checks of a channel config against the registries, run when the Snakefile is parsed.

The schemas (:mod:`darkscan.config`) check the shape of a config; these checks need the
registered plugins: the variable function exists and every cut expression and fit variable names
one of its columns, every process exists and accepts its options, and a real-data file exists.
Errors name the file and key and suggest the closest valid name. They run before any job, so a
typo never surfaces after the generation has run.

Importing the generators and variable functions costs about a second, so a passed check is
remembered (:func:`check_channels_cached`) under a hash of the resolved configs and of the
package sources: the no-op dry run stays fast.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import json
import logging
import os
import pathlib
from collections.abc import Iterable, Mapping

from darkscan.config import ConfigError

log = logging.getLogger(__name__)
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def suggestion(name: str, valid: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest valid name, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown(kind: str, name: str, valid: Iterable[str], *, where: str) -> ConfigError:
    valid = sorted(valid)
    return ConfigError(f"{where}: unknown {kind} {name!r}{suggestion(name, valid)} (registered: {', '.join(valid)})")


def check_selection(channel: Mapping, *, where: str) -> None:
    """The variable function is registered; cuts and fit variables use only its columns."""
    from darkscan import expressions
    from darkscan.select import variables

    name = channel["selection"]["variables"]
    if name not in variables.variable_function_names():
        raise _unknown(
            "variable function (selection.variables)", name, variables.variable_function_names(), where=where
        )
    columns = variables.variable_columns(name)
    for i, cut in enumerate(channel["selection"]["cuts"]):
        try:
            expressions.check_expression(cut["expr"], frozenset(columns))
        except expressions.ExpressionError as err:
            hint = suggestion(err.unknown, columns) if err.unknown else ""
            raise ConfigError(f"{where}: selection.cuts[{i}] ({cut['name']}): {err}{hint}") from None
    fit = channel["fit"]
    # with fit.columns (several values per event), fit.variable only names the histogram axis
    for key in ("variable2",) if fit.get("columns") else ("variable", "variable2"):
        if fit.get(key) is not None and fit[key] not in columns:
            raise _unknown(f"fit.{key} (a column of {name})", fit[key], columns, where=where)
    for column in fit.get("columns") or []:
        if column not in columns:
            raise _unknown(f"fit.columns entry (a column of {name})", column, columns, where=where)
    check_mva(channel, columns, where=where)


def check_mva(channel: Mapping, columns: Iterable[str], *, where: str) -> None:
    """MVA features are columns of the variable function; control-sample expressions use the
    columns of the MVA-selected files (variables, ``cut_*`` flags, ``mva_score``)."""
    from darkscan import expressions

    columns = frozenset(columns)
    for feature in (channel.get("mva") or {}).get("features", []):
        if feature not in columns:
            raise _unknown("mva.features entry (a column of the variable function)", feature, columns, where=where)
    flags = {f"cut_{cut['name']}" for cut in channel["selection"]["cuts"]} | {"cut_mva", "passed"}
    selected_columns = columns | flags | {"mva_score", "weight"}
    for name, spec in (channel.get("control_samples") or {}).items():
        try:
            expressions.check_expression(spec["expr"], selected_columns)
        except expressions.ExpressionError as err:
            hint = suggestion(err.unknown, selected_columns) if err.unknown else ""
            raise ConfigError(f"{where}: control_samples.{name}.expr: {err}{hint}") from None


def check_processes(channel: Mapping, *, where: str) -> None:
    """Every sample's process is registered and accepts the sample's generator options."""
    from darkscan.generate import registry

    names = registry.process_names()
    samples = {"signal": channel["signal"], **{f"backgrounds.{k}": v for k, v in channel["backgrounds"].items()}}
    for key, sample in samples.items():
        process = sample["process"]
        if process not in names:
            raise _unknown(f"process ({key}.process)", process, names, where=where)
        parameters = inspect.signature(registry.get_process(process).generate).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            continue
        allowed = {n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY and n != "sqrt_s"}
        for option in sorted(set(sample.get("options") or {}) - allowed):
            raise ConfigError(
                f"{where}: {key}.options: process {process!r} has no option "
                f"{option!r}{suggestion(option, allowed)} (options: {', '.join(sorted(allowed))})"
            )


def check_data_files(channel: Mapping, *, where: str) -> None:
    """Real data (``data.source: files``): every listed file exists."""
    data = channel["data"]
    if data.get("source") != "files":
        return
    missing = [str(f) for f in data.get("files") or [] if not os.path.exists(f)]
    if missing:
        raise ConfigError(f"{where}: data.files: {len(missing)} file(s) do not exist: {', '.join(missing)}")


def check_reference_curves(channel: Mapping, *, where: str) -> None:
    """Every ``plots.reference_curves`` file exists (the limit plots would fail last otherwise)."""
    curves = channel.get("plots", {}).get("reference_curves") or []
    missing = [curve["file"] for curve in curves if not os.path.exists(curve["file"])]
    if missing:
        raise ConfigError(f"{where}: plots.reference_curves: file(s) do not exist: {', '.join(missing)}")


def check_signal_masses(channel: Mapping, *, sqrt_s: float, where: str) -> None:
    """Every generated signal mass is below what the signal process can make at ``sqrt_s``
    (``max_mass`` of its registration; e.g. sqrt(s) - 2 m_mu for mu+ mu- Z', sqrt(s) for gamma a)."""
    from darkscan.generate import registry

    process = registry.get_process(channel["signal"]["process"])
    if process.max_mass is None:
        return
    limit = process.max_mass(sqrt_s)
    for mass in channel["signal"]["masses"]:
        if not isinstance(mass, list) and mass >= limit:
            raise ConfigError(
                f"{where}: signal.masses: {mass} GeV is above what {process.name!r} can produce at "
                f"sqrt(s) = {sqrt_s:.4f} GeV (below {limit:.4f} GeV)"
            )


def check_systematics(channel: Mapping, *, where: str) -> None:
    """Every derived systematic names a registered method."""
    from darkscan.systematics.aggregate import derived_methods

    methods = derived_methods()
    for i, source in enumerate(channel["systematics"]):
        if source["source"] == "derived" and source.get("method") not in methods:
            key = f"systematics[{i}] ({source['name']}).method"
            raise _unknown(f"derived systematic method, {key},", str(source.get("method")), methods, where=where)


def check_channel(channel: Mapping, *, where: str, sqrt_s: float | None = None) -> None:
    """The registry checks of one resolved channel config (signal masses when ``sqrt_s`` is given)."""
    check_selection(channel, where=where)
    check_processes(channel, where=where)
    check_systematics(channel, where=where)
    if sqrt_s is not None:
        check_signal_masses(channel, sqrt_s=sqrt_s, where=where)


def _checked_keys(channel: Mapping) -> dict:
    """The part of a channel config that :func:`check_channel` reads (the cache key)."""
    fit = channel["fit"]
    samples = {"signal": channel["signal"], **channel["backgrounds"]}
    return {
        "selection": channel["selection"],
        "mva": channel.get("mva"),
        "control_samples": channel.get("control_samples"),
        "fit": {key: fit.get(key) for key in ("variable", "variable2", "columns")},
        "samples": {key: [sample["process"], sample.get("options")] for key, sample in samples.items()},
        "signal_masses": channel["signal"]["masses"],
        "systematics": channel["systematics"],
    }


def _sources_signature() -> str:
    """Paths, sizes and modification times of the package's Python files (cheap: no reads)."""
    entries = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        stat = path.stat()
        entries.append(f"{path.relative_to(PACKAGE_DIR)}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(entries)


def check_channels_cached(
    channels: Mapping[str, Mapping],
    *,
    where: Mapping[str, str],
    cache_dir: str | os.PathLike,
    sqrt_s: Mapping[str, float] | None = None,
) -> None:
    """:func:`check_channel` for every channel, skipped when the same configs passed before;
    :func:`check_data_files` every time.

    Args:
        channels: channel name -> resolved channel config.
        where: channel name -> config file named in errors.
        cache_dir: where passed checks are remembered (e.g. ``.snakemake/darkscan``).
        sqrt_s: channel name -> CM energy (GeV) of its experiment, for the signal-mass check.
    """
    sqrt_s = dict(sqrt_s or {})
    checked = {name: [_checked_keys(channel), sqrt_s.get(name)] for name, channel in channels.items()}
    digest = hashlib.sha256(
        (json.dumps(checked, sort_keys=True, default=str) + _sources_signature()).encode()
    ).hexdigest()[:32]
    marker = pathlib.Path(cache_dir) / f"preflight-{digest}"
    for name, channel in channels.items():
        check_data_files(channel, where=where.get(name, name))
        check_reference_curves(channel, where=where.get(name, name))
    if marker.exists():
        return
    for name, channel in channels.items():
        check_channel(channel, where=where.get(name, name), sqrt_s=sqrt_s.get(name))
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only checkout: check again next time
        log.debug("cannot write %s", marker)


def remove_stale_temporaries(results_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Delete the temporary files that killed jobs left under ``results_dir``.

    Call only when no job is running (Snakemake's ``onstart``: the run holds the directory lock).
    """
    root = pathlib.Path(results_dir)
    # .<name>.tmp-<pid> (ROOT files, rootio.atomic_path) and .<name>.<pid>.tmp (the archive)
    stale = sorted({*root.rglob(".*.tmp-*"), *root.rglob(".*.tmp")}) if root.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
        log.warning("removed %s, left by a killed job", path)
    return stale

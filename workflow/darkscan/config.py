"""Configuration: loading, recursive merging, schema validation and semantic checks.

Two layers, as in cabinetry: the JSON schemas in ``darkscan/schemas`` (draft 2020-12, YAML)
fill defaults and check types; :func:`check_channel` then checks meaning (masses below the
kinematic threshold, increasing bins, unique cut names, known experiment). Every error is a
``ConfigError`` (a ``ValueError``) naming the file and the key.
"""

from __future__ import annotations

import copy
import difflib
import functools
import logging
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import jsonschema
import yaml

from darkscan.beams import Beams
from darkscan.physics.constants import MUON_MASS

log = logging.getLogger(__name__)

SCHEMA_DIR = pathlib.Path(__file__).parent / "schemas"
#: libyaml's parser when PyYAML was built with it (the wheels are): ~8x faster than pure Python,
#: which matters because every Snakemake start (dry runs, each cluster job) reads ~20 YAML files.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: keys of a ``channels:`` entry in config.yaml that are not channel-config overrides
_REGISTRY_KEYS = ("config", "enabled")


class ConfigError(ValueError):
    """A configuration file or key is invalid."""


def load_yaml(path: str | pathlib.Path) -> dict:
    """Read a YAML mapping; the error names the file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with path.open() as stream:
        try:
            data = yaml.load(stream, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at top level, got {type(data).__name__}")
    return data


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """Return ``base`` updated recursively with ``override`` (mappings merge, other values replace)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@functools.cache
def _schema_validator(schema_name: str) -> jsonschema.protocols.Validator:
    """The default-filling validator of ``schemas/<schema_name>.schema.yaml``, read once per process."""
    return _validator_with_defaults(load_yaml(SCHEMA_DIR / f"{schema_name}.schema.yaml"))


def _validator_with_defaults(schema: dict) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator that also fills in ``default`` values."""
    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema)

    cls = jsonschema.validators.extend(base, {"properties": set_defaults})
    return cls(schema)


def validate(data: dict, schema_name: str, *, where: str) -> dict:
    """Validate ``data`` against ``schemas/<schema_name>.schema.yaml`` and fill defaults.

    Args:
        data: the mapping to validate (modified in place with defaults).
        schema_name: ``config``, ``channel`` or ``experiment``.
        where: file or key named in errors.

    Returns:
        The same mapping, with defaults filled in.
    """
    errors = sorted(_schema_validator(schema_name).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        lines = [line for e in errors[:5] for line in _error_lines(e, where=where)]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return data


def _error_lines(error: jsonschema.ValidationError, *, where: str) -> list[str]:
    """Lines naming the key of a schema error; an unknown key gets the closest valid key."""
    path = ".".join(map(str, error.path))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in known)
        if unknown and error.schema.get("additionalProperties") is False:
            return [
                (
                    f"{where}: unknown key '{'.'.join(filter(None, (path, key)))}'{_closest(key, known)} "
                    f"(allowed: {', '.join(known)})"
                )
                for key in unknown
            ]
    return [f"{where}: key '{path or '<top>'}': {error.message}"]


def _closest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def experiment_config(config: Mapping, name: str) -> dict:
    """Return the validated experiment ``name`` (file merged with config.yaml overrides)."""
    experiments = config.get("experiments", {})
    if name not in experiments:
        raise ConfigError(
            f"experiment {name!r} is not defined under 'experiments' in config.yaml; defined: {sorted(experiments)}"
        )
    entry = dict(experiments[name])
    path = entry.pop("config")
    data = deep_merge(load_yaml(path), entry)
    where = f"{path} (experiment {name})"
    validate(data, "experiment", where=where)
    _check_trigger_lines(data.get("trigger", {}), where=where)
    apply_sqrt_s(data["beams"], where=where)
    return data


def _check_trigger_lines(settings: Mapping, *, where: str) -> None:
    """Every mapping in ``trigger`` (``trigger.<line>``) names a registered trigger line."""
    from darkscan.experiments.triggers import trigger_names
    from darkscan.registry import UnknownNameError

    names = trigger_names()
    for key, value in settings.items():
        if isinstance(value, Mapping) and key not in names:
            err = UnknownNameError("trigger line", key, names)
            raise ConfigError(f"{where}: key 'trigger.{key}': {err}")


def apply_sqrt_s(beams: dict, *, where: str) -> None:
    """Replace ``beams.sqrt_s`` (symmetric machines) by equal beam energies giving that CM energy."""
    sqrt_s = beams.pop("sqrt_s", None)
    if sqrt_s is None:
        return
    given = {beams.get("electron_energy"), beams.get("positron_energy")} - {None}
    if len(given) > 1:
        raise ConfigError(
            f"{where}: beams.sqrt_s is only for symmetric machines, "
            f"but electron_energy and positron_energy differ ({sorted(given)})"
        )
    # Beams.sqrt_s = 2 E cos(alpha / 2) for two beams of energy E crossing at full angle alpha.
    energy = sqrt_s / (2.0 * math.cos(beams["crossing_angle"] / 2.0))
    beams["electron_energy"] = beams["positron_energy"] = energy


def channel_config(config: Mapping, name: str) -> dict:
    """Return the validated, checked channel ``name`` (file merged with config.yaml overrides)."""
    channels = config.get("channels", {})
    if name not in channels:
        raise ConfigError(
            f"channel {name!r} is not defined under 'channels' in config.yaml; defined: {sorted(channels)}"
        )
    overrides = {k: v for k, v in channels[name].items() if k not in _REGISTRY_KEYS}
    path = channels[name]["config"]
    data = deep_merge(load_yaml(path), overrides)
    data.setdefault("name", name)
    if data["name"] != name:
        raise ConfigError(f"{path}: 'name' is {data['name']!r} but config.yaml registers it as {name!r}")
    validate(data, "channel", where=f"{path} (channel {name})")
    validate_fit(data["fit"], where=f"{path} (channel {name})")
    check_channel(data, experiment_config(config, data["experiment"]), where=path)
    return data


FIT_METHOD_SCHEMAS = SCHEMA_DIR / "fit_methods"


def fit_method_names() -> list[str]:
    """Fit methods with a schema (``schemas/fit_methods/<method>.schema.yaml``)."""
    return sorted(p.name.removesuffix(".schema.yaml") for p in FIT_METHOD_SCHEMAS.glob("*.schema.yaml"))


@functools.cache
def fit_schema(method: str) -> dict:
    """The closed schema of ``fit`` for ``method``: the generic keys of channel.schema.yaml plus
    the method's own (its defaults filled in)."""
    path = FIT_METHOD_SCHEMAS / f"{method}.schema.yaml"
    if not path.is_file():
        names = fit_method_names()
        raise ConfigError(f"unknown fit.method {method!r}{_closest(method, names)} (methods: {', '.join(names)})")
    generic = load_yaml(SCHEMA_DIR / "channel.schema.yaml")["properties"]["fit"]
    own = load_yaml(path)
    return {
        "type": "object",
        "properties": {**generic["properties"], **own.get("properties", {})},
        "required": [*generic.get("required", []), *own.get("required", [])],
        "additionalProperties": False,
    }


def validate_fit(fit: dict, *, where: str) -> dict:
    """Validate ``fit`` against its method's closed schema and fill the method's defaults."""
    try:
        schema = fit_schema(fit.get("method", "window_sidebands"))
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    errors = sorted(_validator_with_defaults(schema).iter_errors(fit), key=lambda e: list(e.path))
    if errors:
        lines = []
        for error in errors[:5]:
            error.path.appendleft("fit")
            lines += _error_lines(error, where=where)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return fit


def check_channel(channel: dict, experiment: dict, *, where: str) -> None:
    """Semantic checks of a schema-valid channel; raises ConfigError naming the key."""
    sqrt_s = Beams(**experiment["beams"]).sqrt_s
    max_mass = sqrt_s  # kinematics; a process's own limit is checked by darkscan.preflight
    if any(isinstance(m, list) for m in channel["signal"]["masses"]):
        _check_channel_2d(channel, sqrt_s, where=where)
        masses_ok = True
    else:
        masses_ok = False
    for mass in [] if masses_ok else channel["signal"]["masses"]:
        if not 0.0 < mass < max_mass:
            raise ConfigError(
                f"{where}: signal.masses: mass {mass} GeV is outside the kinematic range (0, {max_mass:.3f}) GeV "
                f"at sqrt(s) = {sqrt_s:.3f} GeV"
            )
    if not masses_ok:
        _check_scan_grid_1d(channel, where=where)
    from darkscan.physics.models import get_model  # physics imports stay out of config loading

    try:
        model = get_model(channel["model"])
        for scenario in channel["coupling"]["scenarios"].values():
            model.branching(scenario["branching"], [1.0])
    except ValueError as err:
        raise ConfigError(f"{where}: model/coupling: {err}") from None
    names = [cut["name"] for cut in channel["selection"]["cuts"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{where}: selection.cuts: duplicate cut names {duplicates}")
    pre = channel["selection"].get("preselection")
    if pre is not None and pre not in names:
        raise ConfigError(f"{where}: selection.preselection {pre!r} is not one of the cuts {names}")
    hist = channel["fit"]["histogram"]
    if hist["high"] <= hist["low"]:
        raise ConfigError(f"{where}: fit.histogram: high ({hist['high']}) must exceed low ({hist['low']})")
    if "data" in channel["backgrounds"] or "data" == channel["signal"].get("process"):
        raise ConfigError(f"{where}: backgrounds: the sample name 'data' is reserved")
    inject = channel["data"].get("inject_signal")
    if inject and inject["mass"] not in [m for m in channel["signal"]["masses"] if not isinstance(m, list)]:
        raise ConfigError(
            f"{where}: data.inject_signal.mass {inject['mass']} must be one of the generated signal.masses"
        )
    if channel["data"]["source"] == "files" and not channel["data"].get("files"):
        raise ConfigError(f"{where}: data.source is 'files' but data.files is empty")
    for syst in channel["systematics"]:
        if syst["source"] == "experiment" and syst.get("key") not in experiment.get("systematics", {}):
            raise ConfigError(
                f"{where}: systematics {syst['name']!r}: key {syst.get('key')!r} "
                f"is not in the experiment's systematics {sorted(experiment.get('systematics', {}))}"
            )
        if syst["source"] == "value" and "value" not in syst:
            raise ConfigError(f"{where}: systematics {syst['name']!r}: source 'value' needs a 'value'")
        if syst["source"] == "derived" and "method" not in syst:
            raise ConfigError(f"{where}: systematics {syst['name']!r}: source 'derived' needs a 'method'")
        if syst["source"] == "control_sample" and syst.get("sample") not in channel.get("control_samples", {}):
            raise ConfigError(
                f"{where}: systematics {syst['name']!r}: sample {syst.get('sample')!r} is not one of "
                f"control_samples {sorted(channel.get('control_samples', {}))}"
            )
    _check_mva(channel, where=where)


def _check_mva(channel: dict, *, where: str) -> None:
    """The MVA's ranges increase; control samples need the MVA."""
    mva = channel.get("mva")
    if channel.get("control_samples") and not mva:
        raise ConfigError(f"{where}: control_samples measure the MVA efficiency: the channel needs an 'mva' section")
    if mva:
        edges = mva["range_edges"]
        if any(b <= a for a, b in zip(edges[:-1], edges[1:], strict=True)):
            raise ConfigError(f"{where}: mva.range_edges must increase: {edges}")


def _check_scan_grid_1d(channel: dict, *, where: str) -> None:
    masses = channel["masses"]
    grid = masses if isinstance(masses, list) else [masses["min"], masses["max"]]
    lo, hi = min(channel["signal"]["masses"]), max(channel["signal"]["masses"])
    for mass in grid:
        if not lo <= mass <= hi:
            raise ConfigError(
                f"{where}: masses: scan mass {mass} GeV lies outside the generated signal masses [{lo}, {hi}] GeV "
                "(no extrapolation)"
            )
    if isinstance(masses, dict) and masses["min"] >= masses["max"]:
        raise ConfigError(f"{where}: masses: min ({masses['min']}) must be below max ({masses['max']})")
    if sorted(channel["signal"]["masses"]) != channel["signal"]["masses"] or len(
        set(channel["signal"]["masses"])
    ) != len(channel["signal"]["masses"]):
        raise ConfigError(f"{where}: signal.masses must be strictly increasing")


def _check_channel_2d(channel: dict, sqrt_s: float, *, where: str) -> None:
    """Two-mass channels: every signal entry a [m1, m2] pair with 2 m_mu < m1, 0 <= m2 and m1 + m2 < sqrt(s)."""
    pairs = channel["signal"]["masses"]
    if not all(isinstance(m, list) and len(m) == 2 for m in pairs):
        raise ConfigError(f"{where}: signal.masses: mix of single masses and [m1, m2] pairs; use one kind")
    for m1, m2 in pairs:
        if not (2.0 * MUON_MASS < m1 and 0.0 <= m2 and m1 + m2 < sqrt_s):
            raise ConfigError(
                f"{where}: signal.masses: [{m1}, {m2}] GeV is outside the kinematic range "
                f"(2 m_mu < m1, 0 <= m2, m1 + m2 < sqrt(s) = {sqrt_s:.3f} GeV)"
            )
    if len({tuple(m) for m in pairs}) != len(pairs):
        raise ConfigError(f"{where}: signal.masses: duplicate [m1, m2] pairs")
    masses = channel["masses"]
    if not isinstance(masses, dict):
        raise ConfigError(f"{where}: masses: a two-mass scan needs a range {{min, max, min2, max2, ...}}, not a list")
    if "min2" not in masses or "max2" not in masses:
        raise ConfigError(f"{where}: masses: a two-mass scan needs min2 and max2 (GeV)")
    for lo, hi, key in ((masses["min"], masses["max"], "min/max"), (masses["min2"], masses["max2"], "min2/max2")):
        if lo >= hi:
            raise ConfigError(f"{where}: masses: {key}: {lo} must be below {hi}")
    m1s, m2s = [m[0] for m in pairs], [m[1] for m in pairs]
    if masses["min"] < min(m1s) or masses["max"] > max(m1s) or masses["min2"] < min(m2s) or masses["max2"] > max(m2s):
        raise ConfigError(
            f"{where}: masses: scan range lies outside the generated signal masses "
            f"(m1 in [{min(m1s)}, {max(m1s)}], m2 in [{min(m2s)}, {max(m2s)}] GeV; no extrapolation)"
        )
    if masses.get("sum_max", sqrt_s) >= sqrt_s:
        raise ConfigError(f"{where}: masses: sum_max must be below sqrt(s) = {sqrt_s:.3f} GeV")


def data_chunks(config: Mapping, channel: Mapping) -> int:
    """Number of pseudo-data chunks (jobs, each with every process): one per ``data_chunk_luminosity_fb``,
    at most ``data_chunks_max``."""
    wanted = math.ceil(channel["luminosity_fb"] / config.get("data_chunk_luminosity_fb", 20.0) - 1e-9)
    return max(1, min(wanted, config.get("data_chunks_max", 64)))


def enabled_channels(config: Mapping) -> list[str]:
    """Names of the channels enabled in config.yaml, in file order."""
    return [name for name, entry in config["channels"].items() if entry.get("enabled", True)]


def signal_sample_name(mass: float | list[float]) -> str:
    """Sample name of a generated signal mass, e.g. 1.5 -> ``signal_m1p500``; a two-mass point
    [m1, m2] (e.g. m_A', m_h') -> ``signal_m{m1}_m{m2}``, e.g. [2, 0.5] -> ``signal_m2p000_m0p500``."""
    if isinstance(mass, (list, tuple)):
        return "signal_" + "_".join(f"m{m:.3f}".replace(".", "p") for m in mass)
    return f"signal_m{mass:.3f}".replace(".", "p")


def sample_names(channel: Mapping) -> list[str]:
    """All MC sample names of a channel: signal masses then backgrounds."""
    return [signal_sample_name(m) for m in channel["signal"]["masses"]] + list(channel["backgrounds"])


def sample_config(channel: Mapping, sample: str) -> dict:
    """Process, events and options of a sample (signal samples get their ``mass``)."""
    if sample in channel["backgrounds"]:
        return channel["backgrounds"][sample]
    for mass in channel["signal"]["masses"]:
        if signal_sample_name(mass) == sample:
            entry = copy.deepcopy(channel["signal"])
            entry.pop("masses")
            if isinstance(mass, (list, tuple)):  # two-mass point [m1, m2]
                entry["options"] = {**entry.get("options", {}), "mass": mass[0], "mass2": mass[1]}
                entry["mass"], entry["mass2"] = mass[0], mass[1]
            else:
                entry["options"] = {**entry.get("options", {}), "mass": mass}
                entry["mass"] = mass
            return entry
    raise ConfigError(f"channel {channel['name']!r} has no sample {sample!r}; samples: {sample_names(channel)}")


def data_components(channel: Mapping) -> list[str]:
    """The samples whose processes make up the pseudo-data: the backgrounds, plus the signal
    sample at the mass of ``data.inject_signal`` when a signal is injected."""
    names = list(channel["backgrounds"])
    inject = channel["data"].get("inject_signal")
    if inject:
        names.append(signal_sample_name(inject["mass"]))
    return names


def load_global(path: str | pathlib.Path = "config/config.yaml", overlays: list[str] | tuple[str, ...] = ()) -> dict:
    """Load config.yaml plus overlays the way ``snakemake --configfile`` does, and validate it."""
    config = load_yaml(path)
    for overlay in overlays:
        config = deep_merge(config, load_yaml(overlay))
    return validate(config, "config", where=str(path))


def as_plain(obj: Any) -> Any:
    """Convert Snakemake's config (which may hold custom mapping types) to plain dicts/lists."""
    if isinstance(obj, Mapping):
        return {k: as_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_plain(v) for v in obj]
    return obj

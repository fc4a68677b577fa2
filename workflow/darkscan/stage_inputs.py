"""The config each workflow stage reads, declared once: the rules' ``params`` and the scripts' views.

A rule passes its script exactly the slice of the channel and experiment config that its stage
reads (:func:`stage_params`), so Snakemake's ``params`` rerun trigger fires when, and only when,
something the stage reads changes. The script wraps the slice in :class:`DeclaredConfig`
(:func:`declared_configs`), which raises :class:`UndeclaredConfigError` on any read of a key the
stage did not declare: a stage that starts reading a new key fails in the tests instead of
silently missing reruns.

Declarations are dotted paths into the resolved (schema-validated, defaults filled) configs;
``*`` matches every key at its level and ``{sample}`` is replaced by the job's sample. A declared
path gives the stage everything below it. New stages (e.g. a search's own rules) register theirs
with :func:`register_stage`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from darkscan import config as cfg
from darkscan.registry import Registry, UnknownNameError

__all__ = [
    "DeclaredConfig",
    "StageInputs",
    "UndeclaredConfigError",
    "declared_configs",
    "register_stage",
    "stage_inputs",
    "stage_names",
    "stage_params",
    "unknown_paths",
]

# The fit settings that change a result (not its axis label and unit).
_FIT = tuple(
    f"fit.{key}"
    for key in (
        "method",
        "variable",
        "variable2",
        "columns",
        "histogram",
        "window_sigmas",
        "signal_sigmas",
        "background_floor",
        "mc_background_uncertainty",
        "pyhf_every",
        "pyhf_check_every",
        "pyhf_check_tolerance",
        "limit",
        "limit_auto_below",
        "limit_toys",
        "limit_signal_toys_fraction",
        "limit_grid_points",
        "resolution_quantile",
    )
)
# What the fit methods' load_signal_model read (ellipse_counting: the ellipse size, signal_sigmas).
_SIGNAL_MODEL = (
    "fit.method",
    "fit.variable",
    "fit.variable2",
    "fit.columns",
    "fit.signal_sigmas",
    "fit.resolution_quantile",
    "signal.options",
    "signal.process",
)
# What the scan-like stages read: the grid, the fit, the signal masses and the background names.
_SCAN = ("name", "luminosity_fb", "cl", "masses", *_FIT, "signal.masses", "backgrounds.*.process")
# Detector simulation (darkscan.experiments.detector.simulate) runs at generation.
_DETECTOR = ("name", "beams", "tracking", "calorimeter", "particle_id", "trigger")


class UndeclaredConfigError(KeyError):
    """A stage read a config key that its :class:`StageInputs` do not declare."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class StageInputs:
    """What one stage reads: dotted paths into the channel and the experiment config.

    Attributes:
        channel: paths into the resolved channel config.
        experiment: paths into the resolved experiment config of the channel.
        slice_channel: optional ``slice_channel(channel, sample, paths) -> (slice, paths)`` for a
            stage whose slice depends on the job's sample beyond ``{sample}`` paths (the
            generation: a signal sample keeps its own mass only); default: the declared paths.
    """

    channel: tuple[str, ...] = ()
    experiment: tuple[str, ...] = ()
    slice_channel: Callable[[Mapping, str | None, list[str]], tuple[dict, list[str]]] | None = None


# The built-in stages are registered below in this module.
_STAGES: Registry[StageInputs] = Registry("stage")


def register_stage(name: str, inputs: StageInputs) -> None:
    """Declare the config stage ``name`` reads (a stage is one rule's script, or several alike).

    Args:
        name: stage name, by convention the rule name.
        inputs: the declared paths.

    Raises:
        ValueError: if ``name`` is already registered with different inputs.
    """
    _STAGES.add(name, inputs, replace_equal=True)


def stage_inputs(name: str) -> StageInputs:
    """The registered inputs of stage ``name`` (plugins of darkscan.channels included)."""
    try:
        return _STAGES.get(name)
    except UnknownNameError as err:
        raise KeyError(f"no stage {name!r} is registered: {err}") from None


def stage_names() -> list[str]:
    """The registered stages."""
    return _STAGES.names()


def _generation_channel(channel: Mapping, sample: str, paths: list[str]) -> tuple[dict, list[str]]:
    """The channel slice of one MC sample and its declared paths: the sample's own entry only.

    A background is sized to the luminosity (``mc_luminosity_factor``, ``data.pilot_events``); a
    signal sample depends on the ``signal`` section with its own mass only.
    """
    if sample in channel["backgrounds"]:
        paths = [p for p in paths if not p.startswith("signal")]
        sliced = _config_slice(channel, paths)
        sliced["signal"] = {"masses": []}
    else:
        entry = cfg.sample_config(channel, sample)  # raises, naming the samples, if unknown
        paths = ["name", "signal"]
        sliced = _config_slice(channel, paths)
        sliced["signal"]["masses"] = [[entry["mass"], entry["mass2"]] if "mass2" in entry else entry["mass"]]
        sliced["backgrounds"] = {}
    return sliced, sorted({*paths, "signal.masses", "backgrounds"})


register_stage(
    "generate_sample",
    StageInputs(
        channel=(
            "name",
            "luminosity_fb",
            "mc_luminosity_factor",
            "mva.training_every",
            "data.pilot_events",
            *(f"backgrounds.{{sample}}.{key}" for key in ("process", "events", "options", "escapes")),
            "signal",
        ),
        experiment=_DETECTOR,
        slice_channel=_generation_channel,
    ),
)
register_stage(
    "pseudo_data_chunk",
    StageInputs(
        channel=(
            "name",
            "luminosity_fb",
            "data",
            "backgrounds.*.process",
            "backgrounds.*.options",
            "backgrounds.*.escapes",
            "signal.process",
            "signal.options",
        ),
        experiment=_DETECTOR,
    ),
)
register_stage(
    "import_data_file",
    StageInputs(channel=("name", "luminosity_fb", "data", "selection", "fit.variable", "fit.columns")),
)
register_stage(
    "select_sample", StageInputs(channel=("name", "luminosity_fb", "selection"), experiment=("name", "beams"))
)
register_stage("merge_data", StageInputs(channel=("name", "luminosity_fb", "selection")))
register_stage(
    "fill_histograms",
    StageInputs(
        channel=("name", "luminosity_fb", "fit.variable", "fit.columns", "fit.histogram", "fit.label", "fit.unit")
    ),
)
register_stage(
    "aggregate_systematics",
    StageInputs(channel=("name", "systematics", *_SIGNAL_MODEL, "signal.masses"), experiment=("name", "systematics")),
)
register_stage(
    "scan_part",
    StageInputs(channel=(*_SCAN, "signal.options", "signal.process")),
)
register_stage("merge_limits", StageInputs(channel=("name", "model", "coupling", "signal.options")))
register_stage(
    "compute_significance",
    StageInputs(channel=(*_SCAN, "lookelsewhere")),
)
register_stage(
    "calibrate_scan",
    StageInputs(channel=(*_SCAN, "lookelsewhere", "calibration", "signal")),
)
register_stage(
    "plot_limits",
    StageInputs(
        channel=(
            "name",
            "model",
            "luminosity_fb",
            "cl",
            "masses",
            "fit",
            "coupling",
            "plots.gm2_band",
            "plots.mass_markers",
            "plots.reference_curves",
            "plots.xsec_quantity",
        ),
        experiment=("name", "label"),
    ),
)
register_stage(
    "render_validation",
    StageInputs(
        channel=(
            "name",
            "experiment",
            "model",
            "luminosity_fb",
            "backgrounds",
            "signal",
            "data.source",
            "selection",
            "mva",
            "fit",
            "plots.validation_variables",
            "plots.mass_markers",
        )
    ),
)
# The MVA selection (darkscan.mva): training reads the luminosity (background yields) and the fit
# variable (the ranges); applying it reads the luminosity for the cut-flow yields only.
register_stage("train_mva", StageInputs(channel=("name", "luminosity_fb", "fit.variable", "mva")))
register_stage("apply_mva", StageInputs(channel=("name", "luminosity_fb")))
register_stage("measure_control_samples", StageInputs(channel=("name", "luminosity_fb", "control_samples")))
register_stage("archive_hepdata", StageInputs(channel=("*",), experiment=("name", "label", "beams")))


def unknown_paths(stage: str) -> list[str]:
    """The declared paths of ``stage`` that name no key of the channel or experiment schema
    (a misspelt declaration would silently declare nothing)."""
    inputs = stage_inputs(stage)
    unknown = []
    for schema_name, paths in (("channel", inputs.channel), ("experiment", inputs.experiment)):
        schema = cfg.load_yaml(cfg.SCHEMA_DIR / f"{schema_name}.schema.yaml")
        if schema_name == "channel":  # a fit method's own keys (schemas/fit_methods)
            for method in cfg.fit_method_names():
                schema["properties"]["fit"]["properties"].update(cfg.fit_schema(method)["properties"])
        unknown += [
            f"{schema_name}: {path}"
            for path in paths
            if not _in_schema(schema, _split(path.replace("{sample}", "*")), schema)
        ]
    return unknown


def _in_schema(node: Mapping, parts: list[str], root: Mapping) -> bool:
    if "$ref" in node:
        node = root["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    properties = node.get("properties", {})
    if head in properties:
        return _in_schema(properties[head], rest, root)
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping) and head != "*" or head == "*" and (properties or isinstance(extra, Mapping)):
        return _in_schema(extra if isinstance(extra, Mapping) else {}, rest, root)
    return False


def _split(path: str) -> list[str]:
    return path.split(".")


def _copy_path(source: Mapping, target: dict, parts: list[str]) -> None:
    """Copy ``source[parts...]`` into ``target`` (``*`` matches every key); absent paths are skipped."""
    head, rest = parts[0], parts[1:]
    keys = list(source) if head == "*" else [head]
    for key in keys:
        if key not in source:
            continue
        if not rest:
            target[key] = copy.deepcopy(source[key])
        elif isinstance(source[key], Mapping):
            _copy_path(source[key], target.setdefault(key, {}), rest)


def _expand(paths: Iterable[str], *, sample: str | None) -> list[str]:
    expanded = []
    for path in paths:
        if "{sample}" in path:
            if sample is None:
                continue
            path = path.replace("{sample}", sample)
        expanded.append(path)
    return sorted(set(expanded))


def _config_slice(config: Mapping, paths: list[str]) -> dict:
    sliced: dict = {}
    for path in paths:
        _copy_path(config, sliced, _split(path))
    return sliced


def stage_params(stage: str, channel: Mapping, experiment: Mapping, *, sample: str | None = None) -> dict:
    """The ``params`` entry of a rule: the slices of the configs that ``stage`` declares.

    Args:
        stage: a registered stage.
        channel: the resolved channel config.
        experiment: the resolved experiment config.
        sample: the job's sample (for paths with ``{sample}``).

    Returns:
        Plain data: ``{"stage", "channel", "experiment", "declared": {"channel", "experiment"}}``.
    """
    inputs = stage_inputs(stage)
    channel_paths = _expand(inputs.channel, sample=sample)
    experiment_paths = _expand(inputs.experiment, sample=sample)
    if inputs.slice_channel is not None:
        channel_slice, channel_paths = inputs.slice_channel(channel, sample, channel_paths)
    else:
        channel_slice = _config_slice(channel, channel_paths)
    return {
        "stage": stage,
        "channel": channel_slice,
        "experiment": _config_slice(experiment, experiment_paths),
        "declared": {"channel": channel_paths, "experiment": experiment_paths},
    }


class DeclaredConfig(dict):
    """A config slice that raises :class:`UndeclaredConfigError` on reads of undeclared keys.

    Keys below a fully declared key are plain dicts; a partially declared section (e.g. only
    ``data.pilot_events`` of ``data``) is again a :class:`DeclaredConfig`. ``key in config`` is
    ``False`` for undeclared keys.
    """

    def __init__(self, data: Mapping, *, declared: Iterable[str], where: str) -> None:
        paths = [_split(p) for p in declared]
        self._where = where
        self._own = {parts[0] for parts in paths}
        whole = {parts[0] for parts in paths if len(parts) == 1}
        super().__init__()
        for key, value in data.items():
            below = [".".join(parts[1:]) for parts in paths if parts[0] in (key, "*") and len(parts) > 1]
            if isinstance(value, Mapping) and below and not whole & {key, "*"}:
                value = DeclaredConfig(value, declared=below, where=f"{where}.{key}")
            super().__setitem__(key, value)

    def _declared(self, key: Any) -> bool:
        return key in self._own or "*" in self._own

    def __getitem__(self, key: Any) -> Any:
        if not self._declared(key):
            raise UndeclaredConfigError(
                f"{self._where}: key {key!r} is read but not declared for this stage "
                f"(add it to the stage's StageInputs in darkscan.stage_inputs)"
            )
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """Like :meth:`dict.get`, but raises for undeclared keys."""
        if not self._declared(key):
            self[key]
        return super().get(key, default)

    def __reduce__(self):
        return (dict, (dict(self),))


def declared_configs(params: Mapping) -> tuple[DeclaredConfig, DeclaredConfig]:
    """The channel and experiment views of a rule's :func:`stage_params` entry (in the script)."""
    stage, declared = params["stage"], params["declared"]
    channel = DeclaredConfig(params["channel"], declared=declared["channel"], where=f"channel config (stage {stage})")
    experiment = DeclaredConfig(
        params["experiment"], declared=declared["experiment"], where=f"experiment config (stage {stage})"
    )
    return channel, experiment

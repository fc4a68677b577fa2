"""Aggregate a channel's systematic sources into ``systematics.csv`` and ``.tex``.

Each source in ``channel.systematics`` becomes one row: its modifier type in the pyhf model
(``normsys`` relative normalisation, ``histosys`` shape, ``staterror`` MC statistics per bin), its
relative size and how that size was obtained (experiment config, fixed value, or derived from the
simulated samples). The fit reads this table, so the table is what enters the model; its file
format is :mod:`darkscan.systematics.table` (below the statistics layer, which reads it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from darkscan.registry import Registry
from darkscan.stats.signal_model import SignalModel
from darkscan.systematics.table import Systematic


def efficiency_interpolation_uncertainty(model: SignalModel) -> tuple[float, str]:
    """Largest relative difference between the efficiency at an inner generated mass and its
    interpolation from the two neighbours (leave-one-out). A model with its own
    ``interpolation_uncertainty()`` (e.g. the two-mass model of
    darkscan.stats.methods.ellipse_counting.signal) answers itself."""
    if hasattr(model, "interpolation_uncertainty"):
        return model.interpolation_uncertainty()
    diffs = []
    for point in model.points[1:-1]:
        interpolated = model.at(point.mass, exclude_generated=True).efficiency
        diffs.append(abs(interpolated - point.efficiency) / point.efficiency)
    value = max(diffs) if diffs else 0.0
    return (
        value,
        (
            f"leave-one-out interpolation of the efficiency at {len(diffs)} inner generated masses, "
            "largest relative difference"
        ),
    )


def mc_statistics_uncertainty(model: SignalModel) -> tuple[float, str]:
    """Largest relative MC-statistics uncertainty of the signal efficiency over generated masses."""
    value = max(p.efficiency_err / p.efficiency for p in model.points)
    return value, "largest relative MC-statistics uncertainty of the selected signal over generated masses"


DerivedSource = Callable[[Mapping, SignalModel], Systematic]
# The built-in methods are registered below in this module.
_DERIVED: Registry[DerivedSource] = Registry("derived systematic method")


def register_derived(name: str) -> Callable[[DerivedSource], DerivedSource]:
    """Register a derived systematic ``method`` (``source: derived`` in a channel's systematics).

    The function receives the config entry and the channel's signal model and returns the row;
    it raises ValueError when the entry does not apply (e.g. to a background).
    """

    def wrap(function: DerivedSource) -> DerivedSource:
        return _DERIVED.add(name, function)

    return wrap


def derived_methods() -> list[str]:
    """The registered derived systematic methods (plugins of darkscan.channels included)."""
    return _DERIVED.names()


@register_derived("efficiency_interpolation")
def _efficiency_interpolation(source: Mapping, model: SignalModel) -> Systematic:
    value, derivation = efficiency_interpolation_uncertainty(model)
    return Systematic(source["name"], source["applies_to"], "normsys", value, derivation)


@register_derived("resolution_scale")
def _resolution_scale(source: Mapping, model: SignalModel) -> Systematic:
    derivation = "signal width scaled up and down by this fraction"
    return Systematic(source["name"], source["applies_to"], "histosys", float(source.get("value", 0.1)), derivation)


@register_derived("mc_statistics")
def _mc_statistics(source: Mapping, model: SignalModel) -> Systematic:
    if source["applies_to"] == "signal":
        value, derivation = mc_statistics_uncertainty(model)
        return Systematic(source["name"], "signal", "normsys", value, derivation)
    derivation = "per-bin MC statistics (sum of squared weights), Barlow-Beeston lite"
    return Systematic(source["name"], source["applies_to"], "staterror", math.nan, derivation)


def _experiment_source(source: Mapping, experiment: Mapping) -> Systematic:
    per_object = experiment["systematics"][source["key"]]
    k = source.get("multiplicity", 1)
    derivation = f"experiment {experiment['name']}: {source['key']} = {per_object:g}" + (
        f" x {k} (linear sum, fully correlated)" if k > 1 else ""
    )
    return Systematic(source["name"], source["applies_to"], "normsys", per_object * k, derivation)


def _control_sample_source(source: Mapping, controls: Mapping) -> Systematic:
    measured = controls[source["sample"]]
    derivation = (
        f"control sample {source['sample']}: data/MC MVA efficiency ratio {measured['ratio']:.4f} "
        f"+- {measured['ratio_error']:.4f}; |r - 1| (+) sigma_r"
    )
    return Systematic(source["name"], source["applies_to"], "normsys", float(measured["systematic"]), derivation)


def build_table(
    channel: Mapping, experiment: Mapping, model: SignalModel, *, controls: Mapping | None = None
) -> list[Systematic]:
    """Evaluate every systematic source of the channel.

    Args:
        channel: validated channel config.
        experiment: its experiment config.
        model: the signal model (derived methods).
        controls: the control-sample measurements (``mva/control_samples.json``) for sources
            ``control_sample``.
    """
    rows = []
    for source in channel["systematics"]:
        if source["source"] == "control_sample":
            if not controls or source.get("sample") not in controls:
                raise ValueError(
                    f"systematic {source['name']!r}: no measurement of control sample {source.get('sample')!r} "
                    f"(measured: {sorted(controls or {})})"
                )
            rows.append(_control_sample_source(source, controls))
        elif source["source"] == "experiment":
            rows.append(_experiment_source(source, experiment))
        elif source["source"] == "value":
            derivation = "fixed value from the channel config"
            rows.append(Systematic(source["name"], source["applies_to"], "normsys", float(source["value"]), derivation))
        else:
            method = source.get("method")
            if method not in derived_methods():
                raise ValueError(
                    f"systematic {source['name']!r}: unknown derived method {method!r}; registered: {derived_methods()}"
                )
            rows.append(_DERIVED.get(method)(source, model))
    return rows

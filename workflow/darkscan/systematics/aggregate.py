"""Aggregate a channel's systematic sources into ``systematics.csv`` and ``.tex``.

Each source in ``channel.systematics`` becomes one row: its modifier type in the pyhf model
(``normsys`` relative normalisation, ``histosys`` shape, ``staterror`` MC statistics per bin), its
relative size and how that size was obtained (experiment config, fixed value, or derived from the
simulated samples). The fit reads this table, so the table is what enters the model; its file
format is :mod:`darkscan.systematics.table` (below the statistics layer, which reads it).
"""

from __future__ import annotations

import math

from darkscan.stats.signal_model import SignalModel
from darkscan.systematics.table import Systematic


def efficiency_interpolation_uncertainty(model: SignalModel) -> tuple[float, str]:
    """Largest relative difference between the efficiency at an inner generated mass and its
    interpolation from the two neighbours (leave-one-out). A model with its own
    ``interpolation_uncertainty()`` (e.g. the two-mass model of darkscan.stats.ellipses) answers itself."""
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


def build_table(channel: dict, experiment: dict, model: SignalModel) -> list[Systematic]:
    """Evaluate every systematic source of the channel."""
    rows = []
    for source in channel["systematics"]:
        name, applies_to = source["name"], source["applies_to"]
        if source["source"] == "experiment":
            per_object = experiment["systematics"][source["key"]]
            k = source.get("multiplicity", 1)
            value = per_object * k
            derivation = f"experiment {experiment['name']}: {source['key']} = {per_object:g}" + (
                f" x {k} (linear sum, fully correlated)" if k > 1 else ""
            )
            rows.append(Systematic(name, applies_to, "normsys", value, derivation))
        elif source["source"] == "value":
            rows.append(
                Systematic(name, applies_to, "normsys", float(source["value"]), "fixed value from the channel config")
            )
        elif source["method"] == "efficiency_interpolation":
            value, derivation = efficiency_interpolation_uncertainty(model)
            rows.append(Systematic(name, applies_to, "normsys", value, derivation))
        elif source["method"] == "resolution_scale":
            rows.append(
                Systematic(
                    name,
                    applies_to,
                    "histosys",
                    float(source.get("value", 0.1)),
                    "signal width scaled up and down by this fraction",
                )
            )
        elif source["method"] == "mc_statistics" and applies_to == "signal":
            value, derivation = mc_statistics_uncertainty(model)
            rows.append(Systematic(name, applies_to, "normsys", value, derivation))
        elif source["method"] == "mc_statistics":
            rows.append(
                Systematic(
                    name,
                    applies_to,
                    "staterror",
                    math.nan,
                    "per-bin MC statistics (sum of squared weights), Barlow-Beeston lite",
                )
            )
        else:
            raise ValueError(f"systematic {name!r}: method {source['method']!r} does not apply to {applies_to}")
    return rows

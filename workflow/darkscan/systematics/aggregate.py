"""Aggregate a channel's systematic sources into ``systematics.csv`` and ``.tex``.

Each source in ``channel.systematics`` becomes one row: its modifier type in the pyhf model
(``normsys`` relative normalisation, ``histosys`` shape, ``staterror`` MC statistics per bin), its
relative size and how that size was obtained (experiment config, fixed value, or derived from the
simulated samples). The fit reads this table, so the table is what enters the model.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pandas as pd

from darkscan import rootio
from darkscan.stats.signal_model import SignalModel

COLUMNS = ["name", "applies_to", "modifier", "value", "derivation"]


@dataclasses.dataclass(frozen=True)
class Systematic:
    """One row of the systematics table (``value`` is relative, e.g. 0.02 = 2%)."""

    name: str
    applies_to: str
    modifier: str
    value: float
    derivation: str


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


def write_table(
    rows: list[Systematic], csv_path: str | os.PathLike, tex_path: str | os.PathLike, *, channel_name: str
) -> pd.DataFrame:
    """Write the table as CSV and as a LaTeX tabular (booktabs)."""
    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=COLUMNS)
    with rootio.atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    lines = [
        f"% systematic uncertainties of channel {channel_name} (darkscan)",
        r"\begin{tabular}{llr}",
        r"\toprule",
        r"Source & Applies to & Relative size (\%) \\",
        r"\midrule",
    ]
    for r in rows:
        size = (
            "per bin"
            if r.modifier == "staterror"
            else (f"$\\pm${100 * r.value:.1f} (width)" if r.modifier == "histosys" else f"{100 * r.value:.2f}")
        )
        lines.append(f"{r.name.replace('_', ' ')} & {r.applies_to} & {size} \\\\")
    norm = [r.value for r in rows if r.modifier == "normsys" and r.applies_to == "signal"]
    lines += [
        r"\midrule",
        (
            "total (signal normalisation, in quadrature) & signal & "
            f"{100 * float(np.sqrt(np.sum(np.square(norm)))):.2f} \\\\"
        ),
        r"\bottomrule",
        r"\end{tabular}",
        "",
    ]
    with rootio.atomic_path(tex_path) as tmp:
        tmp.write_text("\n".join(lines))
    return frame


def read_table(path: str | os.PathLike) -> list[Systematic]:
    """Read ``systematics.csv`` back."""
    frame = pd.read_csv(path)
    missing = sorted(set(COLUMNS) - set(frame.columns))
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return [Systematic(r.name, r.applies_to, r.modifier, float(r.value), r.derivation) for r in frame.itertuples()]

"""The systematics table ``systematics.csv`` (and its ``.tex``): rows, writing and reading.

Written by :mod:`darkscan.systematics.aggregate`, read by the fit (:mod:`darkscan.stats`): the
file contract sits below both, so neither imports the other's layer to use it.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd

from darkscan import rootio

COLUMNS = ["name", "applies_to", "modifier", "value", "derivation"]


@dataclasses.dataclass(frozen=True)
class Systematic:
    """One row of the systematics table (``value`` is relative, e.g. 0.02 = 2%)."""

    name: str
    applies_to: str
    modifier: str
    value: float
    derivation: str


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

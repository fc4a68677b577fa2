"""MVA diagnostics for the validation notebook: ROC curves, Punzi scans, feature importances."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _range_label(entry: Mapping, unit: str) -> str:
    return f"[{entry['lo']:g}, {entry['hi']:g}) {unit}"


def roc_and_punzi(summary: Mapping, *, unit: str = "GeV") -> plt.Figure:
    """Left: ROC curve of every range (working-point rows); right: Punzi FOM vs score threshold,
    relative to no MVA cut, with the chosen working point marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 6))
    for entry in summary["ranges"]:
        label = _range_label(entry, unit)
        roc = entry["roc"]
        (line,) = left.plot(roc["background_efficiency"], roc["signal_efficiency"], label=label)
        left.plot(entry["background_efficiency"], entry["signal_efficiency"], "o", color=line.get_color())
        scan = entry["fom_scan"]
        right.plot(scan["threshold"], np.asarray(scan["fom"]) / entry["fom_without_mva"], color=line.get_color())
        right.plot(entry["threshold"], entry["fom"] / entry["fom_without_mva"], "o", color=line.get_color())
    left.set_xscale("log")
    left.set_xlim(1e-4, 1.0)
    left.set_ylim(0.0, 1.02)
    left.set_xlabel("background efficiency")
    left.set_ylabel("signal efficiency")
    left.legend(title="fit-variable range (dots: working points)", fontsize="x-small", title_fontsize="x-small")
    right.set_xlabel("classifier score threshold")
    right.set_ylabel("Punzi FOM / FOM without the MVA")
    right.axhline(1.0, color="grey", linestyle=":")
    right.set_title("dots: chosen working points", fontsize="small")
    fig.tight_layout()
    return fig


def working_point_table(summary: Mapping) -> pd.DataFrame:
    """One row per range: threshold, efficiencies, FOM gain, training events, feature importances."""
    rows = []
    for entry in summary["ranges"]:
        row = {
            "range": f"[{entry['lo']:g}, {entry['hi']:g})",
            "signal masses": ", ".join(f"{m:g}" for m in entry["signal_masses"]),
            "threshold": entry["threshold"],
            "signal eff.": entry["signal_efficiency"],
            "background eff.": entry["background_efficiency"],
            "FOM gain": entry["fom"] / entry["fom_without_mva"],
            "training signal": entry["n_fit"]["signal"],
            "training background": entry["n_fit"]["background"],
        }
        row.update({f"importance {name}": value for name, value in entry["importance"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def control_sample_table(summary: Mapping) -> pd.DataFrame:
    """One row per control sample (``mva/control_samples.json``): events, MVA efficiencies of MC
    and data, their ratio and the systematic it gives the signal normalisation."""
    rows = []
    for name, entry in summary.items():
        rows.append(
            {
                "control sample": entry.get("label", name),
                "MC yield": entry["mc"]["yield"],
                "data events": entry["data"]["events"],
                "MC MVA eff.": entry["mc"]["efficiency"],
                "MC eff. error": entry["mc"]["efficiency_error"],
                "data MVA eff.": entry["data"]["efficiency"],
                "data eff. error": entry["data"]["efficiency_error"],
                "data / MC": entry["ratio"],
                "ratio error": entry["ratio_error"],
                "systematic": entry["systematic"],
            }
        )
    return pd.DataFrame(rows)

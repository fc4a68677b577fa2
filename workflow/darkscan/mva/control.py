"""Control samples: the MVA's efficiency in data and simulation where no signal is expected.

A control sample of a channel (``control_samples.<name>``) is a cut expression over the columns
of the MVA-selected files (every variable, the ``cut_*`` flags, ``mva_score``), chosen to have
no signal sensitivity: for the Z' search the events that fail the photon veto (mu mu gamma with
the photon seen) and pass every other cut. In it the MVA efficiency of the data and of the summed
background MC are measured; their ratio r, with its statistical error, is the data/MC
correction of the MVA selection, and ``|r - 1| (+) sigma_r`` its relative uncertainty: a
systematic with ``source: control_sample`` enters the fit as a signal normalisation
(:mod:`darkscan.systematics.aggregate`). On pseudo-data drawn from the background model r is
one within its statistical error; on real data it measures the mismodelling.

``mva/control_samples.json``: per control sample ``label``, ``expr``, ``mc`` and ``data``
(``events``, ``yield``, ``passed``, ``efficiency``, ``efficiency_error``), ``ratio``,
``ratio_error`` and ``systematic``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping

import numpy as np

from darkscan import rootio
from darkscan.expressions import evaluate_cut
from darkscan.mva.apply import MVA_CUT

log = logging.getLogger(__name__)


def _accumulate(path, expr: str, scale: float, step_size: int = 1_000_000) -> np.ndarray:
    """(sum w, sum w^2, sum w passing the MVA, its sum w^2, events) of the control sample in one file."""
    totals = np.zeros(5)
    with rootio.open_checked(path) as file:
        if rootio.TREE not in file:
            return totals
        tree = file[rootio.TREE]
        for arrays in tree.iterate(tree.keys(), step_size=step_size, library="np"):
            inside = evaluate_cut(expr, arrays)
            w = arrays["weight"][inside] * scale
            mva = arrays[f"cut_{MVA_CUT}"][inside].astype(bool)
            totals += [w.sum(), (w**2).sum(), w[mva].sum(), (w[mva] ** 2).sum(), inside.sum()]
    return totals


def _efficiency(totals: np.ndarray) -> dict:
    """Efficiency of weighted events and its error (binomial with weights: the passing and the
    failing sums are independent, var(eps) = [(1-eps)^2 sum_pass w^2 + eps^2 sum_fail w^2] / W^2)."""
    total, total_w2, passed, passed_w2, events = totals
    if total <= 0:
        return {
            "events": int(events),
            "yield": 0.0,
            "passed": 0.0,
            "efficiency": math.nan,
            "efficiency_error": math.nan,
        }
    eff = passed / total
    failed_w2 = total_w2 - passed_w2
    error = math.sqrt(max((1 - eff) ** 2 * passed_w2 + eff**2 * failed_w2, 0.0)) / total
    return {
        "events": int(events),
        "yield": float(total),
        "passed": float(passed),
        "efficiency": float(eff),
        "efficiency_error": float(error),
    }


def measure_control_samples(
    backgrounds: Mapping[str, str | os.PathLike],
    data: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    channel: Mapping,
) -> dict:
    """Measure the MVA efficiency of every control sample in data and MC; write the JSON.

    Args:
        backgrounds: background sample -> MVA-selected file.
        data: the MVA-selected data file.
        out_path: ``mva/control_samples.json``.
        channel: validated channel config (``control_samples``, ``luminosity_fb``).
    """
    lumi = channel["luminosity_fb"]
    results = {}
    for name, spec in channel["control_samples"].items():
        mc = sum(_accumulate(path, spec["expr"], lumi) for path in backgrounds.values())
        measured = _efficiency(_accumulate(data, spec["expr"], 1.0))
        simulated = _efficiency(mc)
        if not measured["efficiency"] > 0 or not simulated["efficiency"] > 0:
            raise ValueError(
                f"control sample {name!r} of {channel['name']}: no events passing the MVA in data or MC "
                f"({measured['events']} data and {simulated['events']} MC events in the sample)"
            )
        ratio = measured["efficiency"] / simulated["efficiency"]
        ratio_error = ratio * math.hypot(
            measured["efficiency_error"] / measured["efficiency"],
            simulated["efficiency_error"] / simulated["efficiency"],
        )
        results[name] = {
            "label": spec.get("label", name),
            "expr": spec["expr"],
            "mc": simulated,
            "data": measured,
            "ratio": float(ratio),
            "ratio_error": float(ratio_error),
            "systematic": float(math.hypot(ratio - 1.0, ratio_error)),
        }
        log.info(
            "control sample %s: MVA efficiency data %.4f +- %.4f, MC %.4f +- %.4f, ratio %.4f +- %.4f",
            name,
            measured["efficiency"],
            measured["efficiency_error"],
            simulated["efficiency"],
            simulated["efficiency_error"],
            ratio,
            ratio_error,
        )
    with rootio.atomic_path(out_path) as tmp, open(tmp, "w") as out:
        json.dump(results, out, indent=1, sort_keys=True)
    return results

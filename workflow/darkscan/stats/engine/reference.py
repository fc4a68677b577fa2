"""The pyhf cross-check of the engine: pyhf's own root finding for one spec."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class ReferenceResult:
    """pyhf's limits (observed, expected -2 .. +2 sigma) and discovery p0, Z of one spec."""

    observed: float
    expected: tuple[float, float, float, float, float]
    p0: float
    z: float


def pyhf_reference(spec: dict, level: float, *, rtol: float = 1e-4) -> ReferenceResult:
    """pyhf's own root finding for one spec (the cross-check of the engine).

    Limits: ``pyhf.infer.intervals.upper_limits.toms748_scan`` with qtilde, the POI bracket
    [0.05, 10] x its init and POI bounds [0, 1000 x init] (attempt 1 of
    ``darkscan.stats.methods.window_sidebands.pyhf_fit._upper_limit``). p0:
    ``pyhf.infer.hypotest(0.0, test_stat="q0")`` with the spec's bounds.

    Args:
        spec: a pyhf workspace spec.
        level: CLs threshold.
        rtol: relative tolerance of the TOMS 748 root finding.
    """
    import pyhf  # noqa: PLC0415  (only the cross-check needs pyhf)

    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    data = workspace.data(model)
    poi = model.config.poi_index
    scale = model.config.suggested_init()[poi]
    bounds = model.config.suggested_bounds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p0 = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0"))
        bounds[poi] = (0.0, 1000.0 * scale)
        obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(
            data, model, 0.05 * scale, 10.0 * scale, level=level, rtol=rtol, test_stat="qtilde", par_bounds=bounds
        )
    p0 = min(max(p0, 1e-300), 0.5) if np.isfinite(p0) else 0.5
    return ReferenceResult(float(obs), tuple(float(e) for e in exp), p0, float(stats.norm.isf(p0)))

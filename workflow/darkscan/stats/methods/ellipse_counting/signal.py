"""The two-mass signal model: efficiency, resolutions and ellipse containment at any (m1, m2).

At each generated point (m1, m2) the efficiency, the two resolutions (half the 16-84% quantile
range of the residuals) and the fraction of the selected signal inside its own k-sigma ellipse.
These are interpolated linearly on the Delaunay triangulation of the generated points
(``scipy.interpolate.LinearNDInterpolator``), so the generated points need not form a rectangle
(the kinematic limit m1 + m2 < sqrt(s) cuts the plane diagonally). Hypotheses outside the
triangulation are not scanned. The cross section at the generated coupling is the closed form of
the model (``darkscan.physics.signals.sigma_darkhiggsstrahlung``) at the sample's sqrt(s), not an
interpolation.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
from scipy.interpolate import LinearNDInterpolator

from darkscan import rootio
from darkscan.stats.methods.ellipse_counting.events import inside_ellipse
from darkscan.stats.signal_model import weighted_quantile

MIN_SELECTED = 20  # selected MC events needed at a generated point to measure its resolutions


@dataclasses.dataclass(frozen=True)
class SignalPoint2D:
    """Selected signal at one generated (m1, m2): efficiency, resolutions, ellipse containment."""

    mass: float
    mass2: float
    xsec_fb: float
    sqrt_s: float
    efficiency: float
    efficiency_err: float
    resolution: float
    resolution2: float
    containment: float


@dataclasses.dataclass(frozen=True)
class Interpolated2D:
    mass: float
    mass2: float
    efficiency: float
    resolution: float
    resolution2: float
    containment: float
    xsec_fb: float

    @property
    def window_efficiency(self) -> float:
        """Selection efficiency times the fraction of the selected signal inside the ellipse."""
        return self.efficiency * self.containment


def load_signal_point_2d(
    path: str | os.PathLike, *, variables: tuple[str, str], ellipse_sigmas: float, coupling: float = 1.0
) -> SignalPoint2D:
    """Summarise one selected signal file (metadata ``mass`` and ``mass2``)."""
    metadata = rootio.read_metadata(path)
    if "mass2" not in metadata:
        raise ValueError(f"{path}: metadata has no 'mass2': not a two-mass signal sample")
    x_name, y_name = variables
    with rootio.open_checked(path) as file:
        arrays = rootio.tree_of(file, path, branches=[x_name, y_name, "weight", "passed"]).arrays(
            [x_name, y_name, "weight", "passed"], library="np"
        )
    m1, m2, xsec = float(metadata["mass"]), float(metadata["mass2"]), float(metadata["xsec_fb"])
    passed = arrays["passed"].astype(bool)
    x, y, w = arrays[x_name][passed], arrays[y_name][passed], arrays["weight"][passed]
    if passed.sum() < MIN_SELECTED or w.sum() <= 0:
        raise ValueError(
            f"{path}: only {int(passed.sum())} selected signal events at (m1, m2) = ({m1}, {m2}) GeV; "
            f"at least {MIN_SELECTED} are needed (move the point inside the acceptance or generate more)"
        )
    resolutions = []
    for values, centre in ((x, m1), (y, m2)):
        lo, hi = weighted_quantile(values - centre, w, [0.16, 0.84])
        resolutions.append(float(max((hi - lo) / 2.0, 1e-4)))
    contained = inside_ellipse(x, y, (m1, m2), (ellipse_sigmas * resolutions[0], ellipse_sigmas * resolutions[1]))
    return SignalPoint2D(
        mass=m1,
        mass2=m2,
        xsec_fb=xsec,
        sqrt_s=float(metadata.get("sqrt_s", math.nan)),
        efficiency=float(w.sum() / xsec),
        efficiency_err=float(np.sqrt((w**2).sum()) / xsec),
        resolution=resolutions[0],
        resolution2=resolutions[1],
        containment=float(w[contained].sum() / w.sum()),
    )


class SignalModel2D:
    """Linear interpolation on the Delaunay triangulation of the generated (m1, m2) points."""

    FIELDS = ("efficiency", "resolution", "resolution2", "containment")

    def __init__(self, points: list[SignalPoint2D], *, coupling: float = 1.0, process: str = "darkhiggsstrahlung"):
        if len(points) < 3:
            raise ValueError("two-mass signal interpolation needs at least three generated points")
        self.points = sorted(points, key=lambda p: (p.mass, p.mass2))
        self.coupling = coupling
        self.process = process
        self.masses = np.array([[p.mass, p.mass2] for p in self.points])
        values = np.array([[getattr(p, f) for f in self.FIELDS] for p in self.points])
        self._interp = LinearNDInterpolator(self.masses, values)
        self.sqrt_s = float(np.nanmedian([p.sqrt_s for p in self.points]))

    def values(self, m1, m2) -> np.ndarray:
        """Interpolated (efficiency, resolution, resolution2, containment), NaN outside the points' hull."""
        return self._interp(np.asarray(m1, float), np.asarray(m2, float))

    def xsec_fb(self, m1: float, m2: float) -> float:
        """Cross section at the generated coupling: the closed form of the signal process."""
        from darkscan.generate.registry import get_process

        process = get_process(self.process)
        if process.xsec is None:
            raise ValueError(f"process {self.process!r}: a two-mass scan needs its closed-form xsec (register_process)")
        return float(process.xsec(sqrt_s=self.sqrt_s, mass=m1, mass2=m2, coupling=self.coupling).value_fb)

    def at(self, mass: float, mass2: float | None = None, *, exclude_generated: bool = False) -> Interpolated2D:
        """The signal at (mass, mass2); ``exclude_generated`` interpolates without that generated point."""
        if mass2 is None:
            raise ValueError("a two-mass signal model needs mass2")
        if exclude_generated:
            others = [p for p in self.points if not (np.isclose(p.mass, mass) and np.isclose(p.mass2, mass2))]
            return SignalModel2D(others, coupling=self.coupling, process=self.process).at(mass, mass2)
        eff, res1, res2, cont = (float(v) for v in self.values(mass, mass2))
        if not np.isfinite(eff):
            raise ValueError(
                f"(m1, m2) = ({mass}, {mass2}) GeV lies outside the generated signal points (no extrapolation)"
            )
        return Interpolated2D(mass, mass2, eff, res1, res2, cont, self.xsec_fb(mass, mass2))

    def interpolation_uncertainty(self) -> tuple[float, str]:
        """Leave-one-out: largest relative change of the efficiency at an inner generated point."""
        diffs = []
        for p in self.points:
            try:
                others = SignalModel2D(
                    [q for q in self.points if q is not p], coupling=self.coupling, process=self.process
                )
            except Exception:  # degenerate triangulation without this point
                continue
            eff = float(others.values(p.mass, p.mass2)[0])
            if np.isfinite(eff):
                diffs.append(abs(eff - p.efficiency) / p.efficiency)
        value = max(diffs) if diffs else 0.0
        return (
            value,
            (
                f"leave-one-out linear interpolation (Delaunay) of the efficiency at {len(diffs)} "
                "inner generated (m1, m2) points, largest relative difference"
            ),
        )

    def _next_mass2(self, m1: float, m2: float, res2: float, f2: float) -> float:
        """m2 + f2 min(sigma_2(m2), sigma_2(next)): shortened until the next point's own
        resolution admits the step (one shortening suffices while sigma_2 falls monotonically)."""
        step = f2 * res2
        for _ in range(50):
            following = float(self.values(m1, m2 + step)[2])
            if not np.isfinite(following) or f2 * following >= step * (1.0 - 1e-9):
                break
            step = f2 * following
        return m2 + step

    def scan_grid(self, spec: dict) -> np.ndarray:
        """Hypotheses (N, 2): m1 stepped by f x sigma_1, then m2 by f2 x sigma_2, inside the hull,
        below ``sum_max`` and, where ``mass2_below_mass``, below m1. An m2 step is f2 times the
        smaller resolution of the current and the next point (:meth:`_next_mass2`): where sigma_2
        falls steeply (the recoil mass near zero: 0.6 GeV at m_h' = 0, 0.08 GeV at 2.2 GeV) a step
        sized at the current point alone jumped past the reach of the next ellipse and left
        1.5 < m_h' < 2.3 GeV uncovered."""
        f1 = spec.get("step_resolution_fraction", 0.5)
        f2 = spec.get("step_resolution_fraction2", f1)
        sum_max = spec.get("sum_max", np.inf)
        grid, m1 = [], float(spec["min"])
        while m1 <= spec["max"] + 1e-12:
            m2, step1 = float(spec["min2"]), None
            below = m1 - 1e-9 if spec.get("mass2_below_mass", False) else np.inf
            while m2 <= min(spec["max2"], sum_max - m1) + 1e-12 and m2 < below:
                eff, res1, res2, _ = self.values(m1, m2)
                if not np.isfinite(eff):
                    break
                grid.append((round(m1, 6), round(m2, 6)))
                step1 = res1 if step1 is None else min(step1, res1)
                m2 = self._next_mass2(m1, m2, res2, f2)
            if step1 is None:  # nothing scanned at this m1: step with the resolution at min2 or the nearest point
                values = self.values(m1, spec["min2"])
                step1 = values[1] if np.isfinite(values[1]) else min(p.resolution for p in self.points)
            m1 += f1 * step1
        return np.array(grid, dtype=float).reshape(-1, 2)


def load_signal_model(signal_files: list[str | os.PathLike], *, channel: dict) -> SignalModel2D:
    fit = channel["fit"]
    coupling = channel["signal"].get("options", {}).get("coupling", 1.0)
    points = [
        load_signal_point_2d(p, variables=(fit["variable"], fit["variable2"]), ellipse_sigmas=fit["signal_sigmas"])
        for p in signal_files
    ]
    return SignalModel2D(points, coupling=coupling, process=channel["signal"]["process"])

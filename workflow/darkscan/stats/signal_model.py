"""Signal efficiency, resolution and shape at any mass, interpolated between generated masses.

For each generated mass m_g the selected signal events give the efficiency (selected over
generated cross section), the residuals x - m_g of the fit variable and the resolution (half the
16-84% weighted quantile range). At a hypothesis m between generated masses m_a < m < m_b the
template is a horizontal morph: the residuals of both neighbours, rescaled to the interpolated
resolution and shifted to m, weighted (1 - f) and f with f = (m - m_a) / (m_b - m_a); the
efficiency is interpolated linearly and the cross section log-linearly.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from scipy.stats import norm

from darkscan import rootio


@dataclasses.dataclass(frozen=True)
class SignalPoint:
    """Selected signal at one generated mass.

    Attributes:
        mass: generated mass (GeV).
        xsec_fb: generated cross section (fb, at the generated coupling).
        efficiency: selected / generated cross section.
        efficiency_err: MC-statistics uncertainty of the efficiency.
        residuals: fit variable minus mass for selected events (GeV).
        weights: their weights (fb).
        resolution: half the 16-84% quantile range of the residuals (GeV); with several
            columns per event, of the entry closest to the generated mass.
        entries: values per event (``fit.columns``); residuals and weights hold every entry.
    """

    mass: float
    xsec_fb: float
    efficiency: float
    efficiency_err: float
    residuals: np.ndarray
    weights: np.ndarray
    resolution: float
    entries: int = 1


@dataclasses.dataclass(frozen=True)
class Interpolated:
    """Signal at a hypothesis mass: efficiency, resolution, cross section and a sampler of shapes."""

    mass: float
    efficiency: float
    resolution: float
    xsec_fb: float
    values: np.ndarray
    weights: np.ndarray

    def template(self, edges: np.ndarray, *, resolution_scale: float = 1.0) -> np.ndarray:
        """Fraction of the selected signal in each bin (not renormalised to the window)."""
        values = self.mass + (self.values - self.mass) * resolution_scale
        counts, _ = np.histogram(values, bins=edges, weights=self.weights)
        return counts


def weighted_quantile(values: np.ndarray, weights: np.ndarray, quantiles: np.ndarray | list[float]) -> np.ndarray:
    """Quantiles of a weighted sample (midpoint rule on the cumulative weights)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(quantiles, cum, v)


#: the default resolution: half the 16-84% quantile range of the residuals
DEFAULT_RESOLUTION_QUANTILE = 0.16


def core_resolution(
    residuals: np.ndarray, weights: np.ndarray, *, quantile: float = DEFAULT_RESOLUTION_QUANTILE
) -> float:
    """Half the range between the ``quantile`` and 1 - ``quantile`` weighted quantiles of the
    residuals, scaled to the default 16-84% measure by the Gaussian quantile ratio
    z(0.84) / z(1 - quantile): the same number for a Gaussian peak, the core's width for a peak
    with a tail (e.g. 0.3 for radiative tails that hold ~20% of the events)."""
    lo, hi = weighted_quantile(residuals, weights, [quantile, 1.0 - quantile])
    half = (hi - lo) / 2.0
    if quantile != DEFAULT_RESOLUTION_QUANTILE:
        half *= norm.ppf(1.0 - DEFAULT_RESOLUTION_QUANTILE) / norm.ppf(1.0 - quantile)
    return float(max(half, 1e-4))


def load_signal_point(
    path: str | os.PathLike,
    *,
    variable: str,
    columns: list[str] | None = None,
    resolution_quantile: float = DEFAULT_RESOLUTION_QUANTILE,
) -> SignalPoint:
    """Read a selected signal file and summarise it.

    ``columns`` (default ``[variable]``) are filled per event, each entry with the event's weight
    (as in :func:`darkscan.select.histograms.fill_histograms`): the efficiency counts events, the
    resolution (:func:`core_resolution` with ``resolution_quantile``) is that of the entry closest
    to the generated mass, the template keeps every entry.
    """
    columns = list(columns or [variable])
    metadata = rootio.read_metadata(path)
    with rootio.open_checked(path) as file:
        arrays = rootio.tree_of(file, path, branches=[*columns, "weight", "passed"]).arrays(
            [*columns, "weight", "passed"], library="np"
        )
    mass, xsec = float(metadata["mass"]), float(metadata["xsec_fb"])
    passed = arrays["passed"]
    values = np.stack([arrays[c][passed] for c in columns], axis=1)  # (n, k)
    weights = arrays["weight"][passed]
    if weights.sum() <= 0:
        raise ValueError(f"{path}: no selected signal events at mass {mass} GeV; the efficiency cannot be interpolated")
    closest = values[np.arange(len(values)), np.argmin(np.abs(values - mass), axis=1)]
    resolution = core_resolution(closest - mass, weights, quantile=resolution_quantile)
    return SignalPoint(
        mass=mass,
        xsec_fb=xsec,
        efficiency=float(weights.sum() / xsec),
        efficiency_err=float(np.sqrt((weights**2).sum()) / xsec),
        residuals=values.ravel() - mass,
        weights=np.repeat(weights, len(columns)),
        resolution=resolution,
        entries=len(columns),
    )


class SignalModel:
    """Interpolates :class:`SignalPoint` s (sorted by mass) to any mass in their range."""

    def __init__(self, points: list[SignalPoint]):
        if len(points) < 2:
            raise ValueError("signal interpolation needs at least two generated masses")
        self.points = sorted(points, key=lambda p: p.mass)
        self.masses = np.array([p.mass for p in self.points])

    def _neighbours(self, mass: float) -> tuple[int, float]:
        if not self.masses[0] <= mass <= self.masses[-1]:
            raise ValueError(
                f"mass {mass} GeV outside the generated signal masses [{self.masses[0]}, {self.masses[-1]}] GeV"
            )
        i = int(np.clip(np.searchsorted(self.masses, mass) - 1, 0, len(self.masses) - 2))
        f = (mass - self.masses[i]) / (self.masses[i + 1] - self.masses[i])
        return i, float(f)

    def resolution(self, mass: float) -> float:
        return float(np.interp(mass, self.masses, [p.resolution for p in self.points]))

    def efficiency(self, mass: float) -> float:
        return float(np.interp(mass, self.masses, [p.efficiency for p in self.points]))

    def xsec_fb(self, mass: float) -> float:
        """Cross section at the generated coupling, log-linear in mass between generated points."""
        return float(np.exp(np.interp(mass, self.masses, np.log([p.xsec_fb for p in self.points]))))

    def at(self, mass: float, *, exclude_generated: bool = False) -> Interpolated:
        """The signal at ``mass``; ``exclude_generated`` interpolates from the neighbours only
        (used to measure the interpolation uncertainty at a generated mass)."""
        points = self.points
        if exclude_generated:
            points = [p for p in self.points if not np.isclose(p.mass, mass)]
            return SignalModel(points).at(mass)
        i, f = self._neighbours(mass)
        a, b = points[i], points[i + 1]
        resolution = (1 - f) * a.resolution + f * b.resolution
        efficiency = (1 - f) * a.efficiency + f * b.efficiency
        values = np.concatenate(
            [mass + a.residuals * resolution / a.resolution, mass + b.residuals * resolution / b.resolution]
        )
        # each event counts once in the efficiency, however many entries (columns) it fills
        shares = np.concatenate(
            [(1 - f) * a.entries * a.weights / a.weights.sum(), f * b.entries * b.weights / b.weights.sum()]
        )
        return Interpolated(mass, efficiency, resolution, self.xsec_fb(mass), values, shares * efficiency)

    def scan_grid(self, spec: list[float] | dict) -> np.ndarray:
        """Hypothesis masses: a list as given, or min..max in steps of a fraction of the resolution."""
        if isinstance(spec, list):
            return np.array(sorted(spec), dtype=float)
        grid, mass = [], float(spec["min"])
        while mass <= spec["max"] + 1e-12:
            grid.append(round(mass, 6))
            mass += spec.get("step_resolution_fraction", 0.5) * self.resolution(mass)
        return np.array(grid)

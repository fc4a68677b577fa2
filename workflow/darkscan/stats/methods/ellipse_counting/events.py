"""Selected events and the elliptical windows they fall in.

For each hypothesis (m1, m2) the events inside the ellipse

    ((x - m1) / (k sigma_1))^2 + ((y - m2) / (k sigma_2))^2 < 1,   k = ``fit.signal_sigmas``,

are counted (x, y = ``fit.variable`` and ``fit.variable2``; sigma_1, sigma_2 the resolutions
interpolated at the hypothesis), all hypotheses at once with a sparse membership matrix. The
background in an ellipse is the simulation (sum of weights x luminosity, its MC-statistics
variance from the squared weights): there are no sidebands in 2D. The selected event files are
read from ``selected/`` next to ``histograms.root`` (the generic ``scan_part`` and
``significance`` rules pass the histograms file, which depends on all of them).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import numpy as np
from scipy import sparse

from darkscan import rootio


def inside_ellipse(x, y, centre, axes) -> np.ndarray:
    """Boolean mask of points (x, y) strictly inside the axis-parallel ellipse (centre, half-axes)."""
    u = (np.asarray(x, float) - centre[0]) / axes[0]
    v = (np.asarray(y, float) - centre[1]) / axes[1]
    return u * u + v * v < 1.0


@dataclasses.dataclass
class Events:
    """Selected events (x, y, expected events per event, index of the MC sample they come from)."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    sample: np.ndarray | None = None


def read_events(path: str | os.PathLike, variables: tuple[str, str], *, scale: float = 1.0) -> Events:
    """Selected (``passed``) events of a file; weights times ``scale`` (the luminosity for MC)."""
    names = [*variables, "weight", "passed"]
    with rootio.open_checked(path) as file:
        arrays = rootio.tree_of(file, path, branches=names).arrays(names, library="np")
    passed = arrays["passed"].astype(bool)
    return Events(
        arrays[variables[0]][passed].astype(float),
        arrays[variables[1]][passed].astype(float),
        arrays["weight"][passed].astype(float) * scale,
    )


def concatenate(events: list[Events]) -> Events:
    """One event list from several samples; ``sample`` numbers them in order."""
    if not events:
        return Events(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, int))
    x, y, w = (np.concatenate([getattr(e, f) for e in events]) for f in ("x", "y", "w"))
    return Events(x, y, w, np.concatenate([np.full(len(e.w), i) for i, e in enumerate(events)]))


def membership(events: Events, centres: np.ndarray, axes: np.ndarray) -> sparse.csr_matrix:
    """Sparse (hypotheses x events) 0/1 matrix: event j inside ellipse i."""
    order = np.argsort(events.x, kind="stable")
    xs, ys = events.x[order], events.y[order]
    rows, cols = [], []
    for i, ((c1, c2), (a1, a2)) in enumerate(zip(centres, axes, strict=False)):
        lo, hi = np.searchsorted(xs, [c1 - a1, c1 + a1])
        if hi <= lo:
            continue
        u = (xs[lo:hi] - c1) / a1
        v = (ys[lo:hi] - c2) / a2
        idx = np.nonzero(u * u + v * v < 1.0)[0] + lo
        rows.append(np.full(len(idx), i))
        cols.append(order[idx])
    rows = np.concatenate(rows) if rows else np.zeros(0, int)
    cols = np.concatenate(cols) if cols else np.zeros(0, int)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(centres), len(events.x)))


def _selected_dir(histograms_path) -> pathlib.Path:
    return pathlib.Path(histograms_path).parent / "selected"


def background_events(histograms_path, channel: dict) -> Events:
    fit = channel["fit"]
    return concatenate(
        [
            read_events(
                _selected_dir(histograms_path) / f"{name}.root",
                (fit["variable"], fit["variable2"]),
                scale=channel["luminosity_fb"],
            )
            for name in channel["backgrounds"]
        ]
    )


def data_events(histograms_path, channel: dict) -> Events:
    fit = channel["fit"]
    return read_events(_selected_dir(histograms_path) / "data.root", (fit["variable"], fit["variable2"]))


def ellipse_background(bkg: Events, member: sparse.csr_matrix, *, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Background b0 (expected events, at least ``floor``) and its MC-statistics uncertainty per ellipse.

    sigma_b^2 = sum w^2 of the MC events inside, plus, for every background sample with no MC event
    inside, (1.14 w_eff)^2: the 68% CL Poisson upper limit on zero MC events (1.14) times the
    effective weight of one event of that sample, w_eff = sum w^2 / sum w. Without the second term a
    region where a sample of large weights happens to have no MC event would look background-free.
    """
    b = member @ bkg.w
    var = member @ (bkg.w**2)
    samples = np.zeros(len(bkg.w), int) if bkg.sample is None else bkg.sample
    for k in np.unique(samples):
        mine = samples == k
        w = bkg.w[mine]
        if w.sum() <= 0:
            continue
        w_eff = float((w**2).sum() / w.sum())
        empty = (member @ mine.astype(float)) == 0
        var = var + np.where(empty, (1.14 * w_eff) ** 2, 0.0)
    if len(bkg.w) == 0:
        var = np.ones(member.shape[0])
    return np.maximum(b, floor), np.sqrt(var)

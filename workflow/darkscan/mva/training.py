"""Train the MVA selection: one classifier per range of the fit variable.

The method (channel key ``mva``; README "MVA selection"): events that pass every cut of the
selection are split by their row in the selected file. One row in ``training_every`` trains
(never used for a yield, :mod:`darkscan.mva.apply`); of those, alternate rows fit the
classifier and choose its working point. In each range ``[lo, hi)`` of the fit variable a
classifier (``mva.method``, :mod:`darkscan.mva.classifiers`: LightGBM boosted trees, or Belle
II's Punzi-loss network) separates the signal samples whose mass lies in (or nearest to) the
range from all backgrounds, each background event weighted by its expected yield and the signal
normalised to the same total. The working point is the score threshold that maximises
Punzi's figure of merit (:mod:`darkscan.mva.punzi`) averaged over the range's signal masses,
with the background of each mass's signal window (+- ``window_sigmas`` resolutions, the
resolution from the signal's own spread) estimated as its count before the MVA (all training
rows) times the MVA's background efficiency over the range (working-point rows), and only
thresholds that keep ``working_point_min_background`` working-point background events.

The two methods optimise Punzi's figure of merit differently: the trees minimise the cross
entropy and the figure of merit enters only through the working point; the Punzi-loss network
(EPJ C 82 (2022) 121, arXiv:2110.00810) maximises a differentiable version of it after a
cross-entropy start. ``benchmarks/bench_punzi_net.py`` compares them on the same rows
(``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping

import numpy as np

from darkscan import rootio
from darkscan.mva.classifiers import TrainingSet, classifier, model_path
from darkscan.mva.punzi import punzi_fom
from darkscan.seeds import seed_for

log = logging.getLogger(__name__)

#: Thresholds scanned for the working point: quantiles of the signal score.
N_THRESHOLDS = 200
#: Events read at once from a selected file.
STEP_SIZE = 1_000_000


@dataclasses.dataclass(frozen=True)
class Sample:
    """The selected events of one sample that the MVA sees (all pre-MVA cuts passed)."""

    name: str
    features: np.ndarray  # (n, k)
    fit_value: np.ndarray  # (n,)
    weight: np.ndarray  # expected events at the channel luminosity (MC), 1 for data
    row: np.ndarray  # row in the selected file (the training split)
    mass: float | None = None  # signal mass (GeV), None for backgrounds


def training_rows(row: np.ndarray, every: int) -> np.ndarray:
    """True for the rows that train (one in ``every``); these never enter a yield."""
    return row % every == 0


def fit_rows(row: np.ndarray, every: int) -> np.ndarray:
    """Of the training rows, those that fit the classifier (the others choose the working point)."""
    return training_rows(row, every) & ((row // every) % 2 == 0)


def read_sample(path: str | os.PathLike, *, name: str, features: list[str], fit_variable: str, scale: float) -> Sample:
    """The events of a selected file that pass every cut, with their features and rows."""
    columns = [*features, fit_variable, "weight", "passed"]
    parts, offset = [], 0
    with rootio.open_checked(path) as file:
        tree = rootio.tree_of(file, path, branches=columns)
        for arrays in tree.iterate(columns, step_size=STEP_SIZE, library="np"):
            passed = arrays["passed"].astype(bool)
            parts.append(
                {name: arrays[name][passed] for name in columns[:-1]} | {"row": offset + np.flatnonzero(passed)}
            )
            offset += len(passed)
    metadata = rootio.read_metadata(path)
    joined = {key: np.concatenate([p[key] for p in parts]) for key in [*columns[:-1], "row"]}
    return Sample(
        name=name,
        features=np.stack([joined[f].astype(np.float64) for f in features], axis=1),
        fit_value=joined[fit_variable].astype(np.float64),
        weight=joined["weight"].astype(np.float64) * scale,
        row=joined["row"],
        mass=metadata.get("mass"),
    )


def signals_of_range(signals: list[Sample], lo: float, hi: float) -> list[Sample]:
    """The signal samples with a mass in ``[lo, hi)``, or the one nearest to the range."""
    inside = [s for s in signals if lo <= s.mass < hi]
    if inside:
        return inside
    centre = 0.5 * (lo + hi)
    return [min(signals, key=lambda s: abs(s.mass - centre))]


def _window(sample: Sample, sigmas: float) -> tuple[float, float]:
    """The signal window of a signal sample: its median +- ``sigmas`` half 16-84% widths."""
    q16, q50, q84 = np.quantile(sample.fit_value, [0.16, 0.5, 0.84])
    half = max(0.5 * (q84 - q16), 1e-6)
    return q50 - sigmas * half, q50 + sigmas * half


@dataclasses.dataclass(frozen=True)
class RangeResult:
    """One range's classifier, working point and diagnostics."""

    lo: float
    hi: float
    model: object  # the classifier (``predict(x, num_threads=1)``)
    threshold: float
    fom: float
    fom_without_mva: float
    signal_masses: list[float]
    signal_efficiency: float
    background_efficiency: float
    fom_scan: dict[str, list[float]]
    roc: dict[str, list[float]]
    importance: dict[str, float]
    n_fit: dict[str, int]

    def summary(self) -> dict:
        """JSON-ready summary (no model)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}


def _subset(samples: list[Sample], lo: float, hi: float, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [(s, rows(s.row) & (s.fit_value >= lo) & (s.fit_value < hi)) for s in samples]
    if not parts:
        return np.zeros((0, 0)), np.zeros(0), np.zeros(0)
    features = np.concatenate([s.features[m] for s, m in parts])
    fit = np.concatenate([s.fit_value[m] for s, m in parts])
    weight = np.concatenate([s.weight[m] for s, m in parts])
    return features, fit, weight


def train_range(
    lo: float,
    hi: float,
    *,
    signals: list[Sample],
    backgrounds: list[Sample],
    features: list[str],
    settings: Mapping,
    seed: int,
) -> RangeResult:
    """Train the classifier (``settings["method"]``) of one range and choose its working point."""
    every = int(settings["training_every"])
    in_range = signals_of_range(signals, lo, hi)
    data = training_set(in_range, backgrounds, lo, hi, settings)
    n_sig, n_bkg = sum(len(x) for x in data.signals), len(data.background)
    if n_sig < 20 or n_bkg < 20:
        raise ValueError(
            f"MVA range [{lo}, {hi}): {n_sig} signal and {n_bkg} background training events "
            "(at least 20 each): widen the range or generate more events"
        )
    method = classifier(settings["method"])
    model = method.train(data, features=features, settings=settings, seed=seed)
    wp_sel = lambda row: training_rows(row, every) & ~fit_rows(row, every)  # noqa: E731
    importance = {f: float(g) for f, g in zip(features, method.importance(model), strict=True)}
    return _choose_working_point(lo, hi, model, importance, in_range, backgrounds, wp_sel, settings, n_sig, n_bkg)


def training_set(in_range: list[Sample], backgrounds: list[Sample], lo: float, hi: float, settings) -> TrainingSet:
    """The fit rows of the range ``[lo, hi)`` and the signal windows of its masses."""
    every = int(settings["training_every"])
    fit_sel = lambda row: fit_rows(row, every)  # noqa: E731
    sig_parts = [_subset([s], lo, hi, fit_sel) for s in in_range]
    x_bkg, fit_bkg, w_bkg = _subset(backgrounds, lo, hi, fit_sel)
    return TrainingSet(
        signals=[p[0] for p in sig_parts],
        signal_weights=[p[2] for p in sig_parts],
        background=x_bkg,
        background_weight=w_bkg,
        background_fit=fit_bkg,
        windows=[_window(s, float(settings["window_sigmas"])) for s in in_range],
        background_scale=2.0 * every,  # the fit rows are one in 2 x training_every
    )


def _window_backgrounds(backgrounds, lo, hi, windows, every: int) -> np.ndarray:
    """Expected background in each signal window before the MVA, from all training rows (1 in ``every``)."""
    _, fit_all, w_all = _subset(backgrounds, lo, hi, lambda row: training_rows(row, every))
    return np.array([every * w_all[(fit_all >= w_lo) & (fit_all < w_hi)].sum() for w_lo, w_hi in windows])


def _passing_fraction(scores: np.ndarray, weights: np.ndarray, thresholds) -> np.ndarray:
    """Weighted fraction of events with a score above each threshold."""
    total = max(weights.sum(), 1e-300)
    return np.array([weights[scores > t].sum() for t in thresholds]) / total


def _choose_working_point(lo, hi, model, importance, in_range, backgrounds, wp_sel, settings, n_sig, n_bkg):
    """The threshold of best mean Punzi FOM, with the background in each window estimated as its
    count before the MVA times the MVA's background efficiency over the whole range (measured on
    the working-point rows); thresholds that leave fewer than ``working_point_min_background``
    working-point background events in the range are not considered. Counting the windows' own
    working-point events after a tight cut (1 MC event in 2 ``training_every``) tuned the cut to
    empty windows: the full Z' build left 1e-4 of the background and windows with no MC event."""
    every = int(settings["training_every"])
    minimum = int(settings["working_point_min_background"])
    x_bkg, _, w_bkg = _subset(backgrounds, lo, hi, wp_sel)
    score_bkg = model.predict(x_bkg, num_threads=1) if len(x_bkg) else np.zeros(0)
    sig_scores, windows = [], []
    for s in in_range:
        x_s, _, w_s = _subset([s], lo, hi, wp_sel)
        sig_scores.append((model.predict(x_s, num_threads=1) if len(x_s) else np.zeros(0), w_s))
        windows.append(_window(s, float(settings["window_sigmas"])))
    all_sig = np.concatenate([sc for sc, _ in sig_scores])
    thresholds = np.unique(np.quantile(all_sig, np.linspace(0.0, 0.995, N_THRESHOLDS))) if len(all_sig) else [0.0]
    thresholds = np.concatenate([[-np.inf], thresholds])
    a, b = float(settings["punzi_a"]), float(settings["punzi_b"])
    bkg_efficiency = _passing_fraction(score_bkg, w_bkg, thresholds)
    enough = np.array([np.count_nonzero(score_bkg > t) for t in thresholds]) >= minimum
    enough[0] = True  # no MVA cut
    fom = np.zeros(len(thresholds))
    for (scores, w_s), before in zip(sig_scores, _window_backgrounds(backgrounds, lo, hi, windows, every), strict=True):
        eff = _passing_fraction(scores, w_s, thresholds)
        fom += punzi_fom(eff, before * bkg_efficiency, a=a, b=b) / len(in_range)
    best = int(np.argmax(np.where(enough, fom, -np.inf)))
    threshold = float(thresholds[best])
    w_sig_all = np.concatenate([w for _, w in sig_scores])
    sig_eff = float(_passing_fraction(all_sig, w_sig_all, [threshold])[0])
    bkg_eff = float(bkg_efficiency[best])
    roc_t = np.quantile(np.concatenate([all_sig, score_bkg]), np.linspace(0, 1, 51))
    roc = {
        "signal_efficiency": _passing_fraction(all_sig, w_sig_all, roc_t).tolist(),
        "background_efficiency": _passing_fraction(score_bkg, w_bkg, roc_t).tolist(),
    }
    return RangeResult(
        lo=float(lo),
        hi=float(hi),
        model=model,
        threshold=threshold if np.isfinite(threshold) else -1.0,
        fom=float(fom[best]),
        fom_without_mva=float(fom[0]),
        signal_masses=[float(s.mass) for s in in_range],
        signal_efficiency=sig_eff,
        background_efficiency=bkg_eff,
        fom_scan={"threshold": [float(t) for t in thresholds[1:]], "fom": [float(f) for f in fom[1:]]},
        roc=roc,
        importance=importance,
        n_fit={"signal": int(n_sig), "background": int(n_bkg)},
    )


def train_mva(
    signal_paths: Mapping[str, str | os.PathLike],
    background_paths: Mapping[str, str | os.PathLike],
    *,
    channel: Mapping,
    global_seed: int,
    model_dir: str | os.PathLike,
    summary_path: str | os.PathLike,
) -> list[RangeResult]:
    """Train every range's classifier; write the models (LightGBM text) and ``working_points.json``.

    Args:
        signal_paths: signal sample name -> selected file.
        background_paths: background sample name -> selected file.
        channel: validated channel config (``mva``, ``fit.variable``, ``luminosity_fb``).
        global_seed: the workflow seed (each range's classifier seed derives from it).
        model_dir: directory of the models ``range{i}.txt``.
        summary_path: the working points and diagnostics (JSON).
    """
    settings = channel["mva"]
    features = list(settings["features"])
    variable = channel["fit"]["variable"]
    lumi = channel["luminosity_fb"]
    read = lambda p, n, s: read_sample(p, name=n, features=features, fit_variable=variable, scale=s)  # noqa: E731
    signals = [read(p, n, 1.0) for n, p in signal_paths.items()]
    backgrounds = [read(p, n, lumi) for n, p in background_paths.items()]
    edges = list(settings["range_edges"])
    results = []
    os.makedirs(model_dir, exist_ok=True)
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        result = train_range(
            lo,
            hi,
            signals=signals,
            backgrounds=backgrounds,
            features=features,
            settings=settings,
            seed=seed_for(global_seed, channel["name"], "mva", i) % 2**31,
        )
        with rootio.atomic_path(model_path(model_dir, i, settings["method"])) as tmp:
            classifier(settings["method"]).save(result.model, tmp)
        log.info(
            "MVA range [%g, %g): threshold %.4f, signal efficiency %.3f, background efficiency %.4f, "
            "Punzi FOM %.4g (without the MVA %.4g)",
            lo,
            hi,
            result.threshold,
            result.signal_efficiency,
            result.background_efficiency,
            result.fom,
            result.fom_without_mva,
        )
        results.append(result)
    summary = {
        "features": features,
        "fit_variable": variable,
        "training_every": int(settings["training_every"]),
        "method": settings["method"],
        "classifier": classifier(settings["method"]).version,
        "ranges": [r.summary() for r in results],
    }
    with rootio.atomic_path(summary_path) as tmp, open(tmp, "w") as out:
        json.dump(summary, out, indent=1)
    return results

"""CLs limits from pseudo-experiments for the windows where asymptotics fail (``fit.limit``).

``cls_toys`` replaces the asymptotic limits of every hypothesis, ``auto`` those whose expected
background in the signal window is below ``fit.limit_auto_below`` events (10 by default: the
asymptotic formulae hold to a few per cent above ~10 events, CCGV Sec. 7). The toys are those of
pyhf's ``ToyCalculator`` through the vectorised engine
(:class:`EngineToys`, :func:`darkscan.stats.toy_cls.toy_cls_limits`): counts Poisson and
auxiliary measurements Gaussian around the mu-conditional fit to the observed data, qtilde_mu
from a free and a conditional engine fit of every toy; ``fit.limit_toys`` background-only toys
and ``fit.limit_signal_toys_fraction`` as many signal-plus-background toys per tested mu,
pooled by mixture importance sampling (the engine's likelihood is the toys' density). The grid
of tested mu spans 0.5x the smallest to 2x the largest asymptotic limit of the hypothesis
(``fit.limit_grid_points`` points, :data:`GRID_SPAN`); the hypotheses whose six limits it does
not all bracket are tested again, with new toys, on the wider :data:`WIDE_GRID_SPAN`. A limit
whose CLs crosses the level on neither, or whose observed CL_b rests on too few toys (a strong deficit,
:data:`darkscan.stats.toy_cls.MIN_TAIL_TOYS`), keeps the asymptotic values and says so
(``limit_method`` ``cls_asymptotic_engine``, a warning). The asymptotic limits stay in
``xsec_obs_asymptotic`` / ``xsec_exp_asymptotic`` for comparison.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from darkscan.stats import engine, toy_cls
from darkscan.stats.engine.batch import WindowBatch
from darkscan.stats.scan import SIGMA_SUFFIXES, small_count_rows

log = logging.getLogger(__name__)

# tested mu from GRID_SPAN[0] x the smallest to GRID_SPAN[1] x the largest asymptotic limit of a
# hypothesis: the toy limits of the Z' scan lie at 0.4-1.7x the asymptotic ones (eighth session)
GRID_SPAN = (0.5, 2.0)
WIDE_GRID_SPAN = (0.1, 10.0)
# hypotheses whose toys are fitted together: the toy arrays of 350 Z' windows (1250 toys each)
# took the scan job to 2.2 GB; 100 keep it well below 2 GB
CHUNK = 100


class EngineToys:
    """:class:`darkscan.stats.toy_cls.ToyModel` of a batch of window models (one dataset each).

    The free fits of the data and of the background-only toys (evaluated at every tested mu) are
    made once. A signal-plus-background toy whose profile likelihood falls at its tested mu
    (:func:`engine.poi_slope` < 0 at the conditional fit) has its free maximum above mu, so
    qtilde_mu = 0 without a free fit: the free fit is made only for the others (about 60%). Every
    fit starts at the spec's inits, as pyhf's: the window likelihood has rare second minima (a
    background normalisation pushed up against an empty sideband held at its floor, about 1 in
    500 toy fits), and warm starts would change which one a fit finds.
    """

    def __init__(self, batch: WindowBatch):
        self.batch = batch
        self._free: list[tuple[WindowBatch, engine.FitResult]] = []  # used at every tested mu
        self._fitted: dict[bytes, np.ndarray] = {}  # mu -> parameters of the conditional fit to the data

    def _parameters(self, mu: np.ndarray) -> np.ndarray:
        """Parameters (H, P) of the fit to the observed data at POI ``mu`` (H,), where toys at mu come from."""
        mu = np.broadcast_to(np.asarray(mu, dtype=float), (self.batch.n_hypotheses,))
        key = mu.tobytes()
        if key not in self._fitted:
            self._fitted[key] = engine.fit_fixed_poi(self.batch, mu).parameters
        return self._fitted[key]

    def sample(self, mu: np.ndarray, n_toys: int, rng: np.random.Generator) -> WindowBatch:
        toys = engine.sample_at(self.batch, self._parameters(mu), n_toys, rng=rng)
        if not np.any(mu):
            self._free.append((toys, engine.fit_free(toys)))
        return toys

    def log_density(self, mu: np.ndarray, toys: WindowBatch) -> np.ndarray:
        return -0.5 * engine.twice_nll_at(toys, self._parameters(mu))

    def _free_fit(self, toys: WindowBatch, fixed: engine.FitResult) -> engine.FitResult:
        for kept, fit in self._free:
            if kept is toys:
                return fit
        if toys is self.batch:
            self._free.append((toys, engine.fit_free(toys)))
            return self._free[-1][1]
        return engine.fit_free(toys, only=engine.poi_slope(toys, fixed.parameters) > 0)

    def qtilde(self, mu: np.ndarray, toys: WindowBatch) -> np.ndarray:
        fixed = engine.fit_fixed_poi(toys, mu)
        free = self._free_fit(toys, fixed)
        q = np.where(np.isnan(free.twice_nll), 0.0, np.maximum(fixed.twice_nll - free.twice_nll, 0.0))
        return np.where(free.poi > mu, 0.0, q)

    def qtilde_observed(self, mu: np.ndarray) -> np.ndarray:
        return self.qtilde(mu, self.batch)


def signal_toys_of(fit: dict, n_toys: int) -> int:
    """Signal-plus-background toys per tested mu for ``n_toys`` background-only toys."""
    return max(1, round(n_toys * float(fit["limit_signal_toys_fraction"])))


def needs_toys(frame: pd.DataFrame, fit: dict) -> np.ndarray:
    """Rows whose limits come from toys: all for ``cls_toys``, the small-background ones for ``auto``."""
    return small_count_rows(frame["background_window"].to_numpy(float), fit, method="cls_toys")


def apply_toy_limits(
    frame: pd.DataFrame, specs: list[dict], *, fit: dict, level: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Replace the limits of the rows :func:`needs_toys` selects by toy-based CLs (in place).

    Args:
        frame: the scan rows with asymptotic limits (``xsec_*``) and ``background_window``.
        specs: the pyhf workspaces of the rows, in order.
        fit: the channel's ``fit`` section (``limit``, ``limit_toys``, ``limit_grid_points``).
        level: 1 - CL.
        rng: the seeded generator of this scan part.
    """
    frame["xsec_obs_asymptotic"] = frame["xsec_obs"]
    frame["xsec_exp_asymptotic"] = frame["xsec_exp"]
    chosen = np.flatnonzero(needs_toys(frame, fit) & frame["status"].eq("ok").to_numpy())
    if not len(chosen):
        return frame
    columns = ["xsec_obs", *[f"xsec_{b}" for b in SIGMA_SUFFIXES]]
    asymptotic = frame.loc[chosen, columns].to_numpy(float)
    parts = [
        toy_limits([specs[i] for i in chosen[k : k + CHUNK]], asymptotic[k : k + CHUNK], fit=fit, level=level, rng=rng)
        for k in range(0, len(chosen), CHUNK)
    ]
    limits = toy_cls.ToyLimits(
        np.concatenate([p.observed for p in parts]),
        np.concatenate([p.expected for p in parts], axis=1),
        np.concatenate([p.converged for p in parts]),
    )
    ok = limits.converged
    if not ok.all():
        log.warning(
            "toy CLs: %d of %d limits not bracketed by the grids or with too few background-only toys "
            "beyond the data; they keep the asymptotic limits",
            (~ok).sum(),
            len(ok),
        )
    rows = chosen[ok]
    frame.loc[rows, "xsec_obs"] = limits.observed[ok]
    for k, band in enumerate(SIGMA_SUFFIXES):
        frame.loc[rows, f"xsec_{band}"] = limits.expected[k, ok]
    frame.loc[rows, "limit_method"] = "cls_toys"
    log.info(
        "toy CLs for %d hypotheses (%d background-only toys, %d signal toys per tested mu, %d points): "
        "median toys/asymptotic %.3f (obs), %.3f (exp)",
        len(rows),
        int(fit["limit_toys"]),
        signal_toys_of(fit, int(fit["limit_toys"])),
        int(fit["limit_grid_points"]),
        float(np.median(limits.observed[ok] / asymptotic[ok, 0])) if len(rows) else float("nan"),
        float(np.median(limits.expected[2, ok] / asymptotic[ok, 3])) if len(rows) else float("nan"),
    )
    return frame


def toy_limits(
    specs: list[dict],
    asymptotic: np.ndarray,
    *,
    fit: dict,
    level: float,
    rng,
    data: np.ndarray | None = None,
    n_toys: int | None = None,
) -> toy_cls.ToyLimits:
    """Toy CLs limits of H workspaces: on :data:`GRID_SPAN` around their asymptotic limits
    (H, 6: observed and the five expected), again on :data:`WIDE_GRID_SPAN` where that grid does
    not bracket them.

    Args:
        specs: the pyhf workspaces.
        asymptotic: their asymptotic limits (H, 6).
        fit: the channel's ``fit`` section (``limit_toys``, ``limit_signal_toys_fraction``,
            ``limit_grid_points``).
        level: 1 - CL.
        rng: the seeded generator.
        data: (H, B) counts to use instead of the workspaces' observations (pseudo-experiments).
        n_toys: toys per tested value instead of ``fit.limit_toys``.
    """
    n_toys = int(n_toys or fit["limit_toys"])
    signal_toys = signal_toys_of(fit, n_toys)
    limits = _limits_on_grid(
        specs, asymptotic, GRID_SPAN, fit=fit, level=level, rng=rng, data=data, n_toys=n_toys, signal_toys=signal_toys
    )
    retry = np.flatnonzero(~limits.converged)
    if len(retry):
        wide = _limits_on_grid(
            [specs[i] for i in retry],
            asymptotic[retry],
            WIDE_GRID_SPAN,
            fit=fit,
            level=level,
            rng=rng,
            data=None if data is None else data[retry],
            n_toys=n_toys,
            signal_toys=signal_toys,
        )
        limits = _replace(limits, retry, wide)
        log.info("toy CLs: %d of %d hypotheses tested again on the wide grid", len(retry), len(specs))
    return limits


def _limits_on_grid(
    specs: list[dict],
    asymptotic: np.ndarray,
    span: tuple[float, float],
    *,
    fit: dict,
    level: float,
    rng,
    data: np.ndarray | None,
    n_toys: int,
    signal_toys: int,
) -> toy_cls.ToyLimits:
    """Toy CLs limits of ``specs`` on the grid ``span`` around their asymptotic limits (H, 6)."""
    low, high = span[0] * asymptotic.min(axis=1), span[1] * asymptotic.max(axis=1)
    grid = toy_cls.mu_grid(low, high, points=int(fit["limit_grid_points"]))
    batch = engine.batch_from_specs(specs)
    model = EngineToys(batch if data is None else batch.with_data(data))
    return toy_cls.toy_cls_limits(model, grid, level=level, n_toys=n_toys, signal_toys=signal_toys, rng=rng)


def _replace(limits: toy_cls.ToyLimits, rows: np.ndarray, other: toy_cls.ToyLimits) -> toy_cls.ToyLimits:
    """``limits`` with the hypotheses ``rows`` taken from ``other``."""
    observed, expected, converged = limits.observed.copy(), limits.expected.copy(), limits.converged.copy()
    observed[rows], expected[:, rows], converged[rows] = other.observed, other.expected, other.converged
    return toy_cls.ToyLimits(observed, expected, converged)

"""CLs limits from pseudo-experiments for the windows where asymptotics fail (``fit.limit``).

``cls_toys`` replaces the asymptotic limits of every hypothesis, ``auto`` those whose expected
background in the signal window is below ``fit.limit_auto_below`` events (10 by default: the
asymptotic formulae hold to a few per cent above ~10 events, CCGV Sec. 7). The toys are those of
pyhf's ``ToyCalculator`` through the vectorised engine
(:class:`EngineToys`, :func:`darkscan.stats.toy_cls.toy_cls_limits`): counts Poisson and
auxiliary measurements Gaussian around the mu-conditional fit to the observed data, qtilde_mu
from a free and a conditional engine fit of every toy. The grid of tested mu spans 0.25x the
smallest to 3x the largest asymptotic limit of the hypothesis (``fit.limit_grid_points``
points); a limit whose CLs does not cross the level on the grid keeps the asymptotic values and
says so (``limit_method`` ``cls_asymptotic_engine``, a warning). The asymptotic limits stay in
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


class EngineToys:
    """:class:`darkscan.stats.toy_cls.ToyModel` of a batch of window models (one dataset each)."""

    def __init__(self, batch: WindowBatch):
        self.batch = batch
        self._kept: list[tuple[WindowBatch, engine.FitResult]] = []  # free fits used at every mu

    def sample(self, mu: np.ndarray, n_toys: int, rng: np.random.Generator) -> WindowBatch:
        toys = engine.sample_toys(self.batch, n_toys, rng=rng, mu=mu)
        if not np.any(mu):  # background-only toys are evaluated at every tested mu
            self._kept.append((toys, engine.fit_free(toys)))
        return toys

    def _free_fit(self, toys: WindowBatch) -> engine.FitResult:
        """The free fit of ``toys``, computed once for the data and the background-only toys."""
        for kept, fit in self._kept:
            if kept is toys:
                return fit
        if toys is self.batch:
            self._kept.append((toys, engine.fit_free(toys)))
            return self._kept[-1][1]
        return engine.fit_free(toys)

    def qtilde(self, mu: np.ndarray, toys: WindowBatch) -> np.ndarray:
        free = self._free_fit(toys)
        fixed = engine.fit_fixed_poi(toys, mu)
        q = np.maximum(fixed.twice_nll - free.twice_nll, 0.0)
        return np.where(free.poi > mu, 0.0, q)

    def qtilde_observed(self, mu: np.ndarray) -> np.ndarray:
        return self.qtilde(mu, self.batch)


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
    grid = toy_cls.mu_grid(
        0.25 * asymptotic.min(axis=1), 3.0 * asymptotic.max(axis=1), points=int(fit["limit_grid_points"])
    )
    batch = engine.batch_from_specs([specs[i] for i in chosen])
    limits = toy_cls.toy_cls_limits(EngineToys(batch), grid, level=level, n_toys=int(fit["limit_toys"]), rng=rng)
    ok = limits.converged
    if not ok.all():
        log.warning(
            "toy CLs: %d of %d limits not bracketed by the grid; they keep the asymptotic limits", (~ok).sum(), len(ok)
        )
    rows = chosen[ok]
    frame.loc[rows, "xsec_obs"] = limits.observed[ok]
    for k, band in enumerate(SIGMA_SUFFIXES):
        frame.loc[rows, f"xsec_{band}"] = limits.expected[k, ok]
    frame.loc[rows, "limit_method"] = "cls_toys"
    log.info(
        "toy CLs for %d hypotheses (%d toys per tested mu, %d points): median toys/asymptotic %.3f (obs), %.3f (exp)",
        len(rows),
        int(fit["limit_toys"]),
        grid.shape[1],
        float(np.median(limits.observed[ok] / asymptotic[ok, 0])) if len(rows) else float("nan"),
        float(np.median(limits.expected[2, ok] / asymptotic[ok, 3])) if len(rows) else float("nan"),
    )
    return frame

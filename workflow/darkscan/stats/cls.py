"""Asymptotic CLs: the shared formulas, and fast upper limits for a scan of many hypotheses on pyhf.

The formulas (CCGV: G. Cowan, K. Cranmer, E. Gross, O. Vitells, Eur. Phys. J. C 71 (2011) 1554)
are used by the vectorised engine (:mod:`darkscan.stats.engine`) and by the closed-form counting
likelihood of the two-mass scan (:mod:`darkscan.stats.methods.ellipse_counting.counting`):

* :func:`log_cls_observed`: log CLs of the qtilde test statistic from q_mu and q_mu,A (eqs. 16,
  65-66, pyhf's ``AsymptoticCalculator``);
* :func:`log_cls_expected`: log CLs of the expected band N, Phi(N - sqrt(q_mu,A)) / Phi(N);
* :func:`band_factors` / :func:`expected_limits`: the expected limits mu_N = sigma_A
  (Phi^-1(1 - level Phi(N)) + N) for N = -2 .. 2 (eq. 89), sigma_A = mu / sqrt(q_mu,A).

:class:`FastAsymptoticCLs` computes limits for one pyhf model. pyhf's ``hypotest`` runs five
fits for every tested POI value, three of which (the free fit to the data, the Asimov dataset
and the free fit to it) do not depend on that value. For a scan of hundreds of mass hypotheses
this class runs those once, and uses the Asimov standard deviation sigma_A of the POI (CCGV,
Sec. 3.2 and eq. 89) for the expected band. Per tested POI value only the conditional fit to the
data remains. Test statistic (qtilde), its asymptotic distributions
(``pyhf.infer.calculators.AsymptoticTestStatDistribution``) and all fits (``pyhf.infer.mle``)
are pyhf's (imported when the class is used, so the formulas need no pyhf). Agreement with
pyhf's own ``toms748_scan`` is tested (tests/stats/test_cls.py) and measured in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, special, stats

if TYPE_CHECKING:
    import pyhf

#: the expected band: N = -2, -1, 0 (median), +1, +2 standard deviations
BAND_SIGMAS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def log_cls_observed(q: np.ndarray, q_a: np.ndarray) -> np.ndarray:
    """log CLs of the qtilde statistic (CCGV eqs. 16, 65-66; pyhf's ``AsymptoticCalculator``).

    Args:
        q: the observed qtilde_mu (0 above mu_hat).
        q_a: q_mu,A of the Asimov dataset, (mu / sigma_A)^2.
    """
    sqrt_q, sqrt_qa = np.sqrt(q), np.sqrt(q_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sqrt_q <= sqrt_qa, sqrt_q - sqrt_qa, (q - q_a) / (2.0 * sqrt_qa))
        log_cls = special.log_ndtr(-(t + sqrt_qa)) - special.log_ndtr(-t)
    # q_mu,A = 0 (a POI the model cannot tell from background at this mu): CLs = Phi(-t) / Phi(-t)
    # = 1 for every q, where the formula above gives inf - inf
    return np.where(sqrt_qa > 0, log_cls, 0.0)


def log_cls_expected(q_a: np.ndarray, n_sigma: np.ndarray) -> np.ndarray:
    """log CLs of the expected band N: Phi(N - sqrt(q_mu,A)) / Phi(N) (the root of CCGV eq. 89)."""
    return special.log_ndtr(n_sigma - np.sqrt(q_a)) - special.log_ndtr(n_sigma)


def band_factors(level: float) -> np.ndarray:
    """Phi^-1(1 - level Phi(N)) + N for N = -2 .. 2: the expected limits in units of sigma_A (CCGV eq. 89)."""
    return stats.norm.isf(level * stats.norm.cdf(BAND_SIGMAS)) + BAND_SIGMAS


def expected_limits(sigma_a, level: float) -> np.ndarray:
    """Expected limits (5, ...) mu_N = sigma_A (Phi^-1(1 - level Phi(N)) + N), N = -2 .. 2 (CCGV eq. 89).

    Args:
        sigma_a: the Asimov standard deviation of the POI, any shape.
        level: CLs threshold (0.10 for 90% CL).
    """
    sigma_a = np.asarray(sigma_a, dtype=float)
    return band_factors(level).reshape((-1,) + (1,) * sigma_a.ndim) * sigma_a


@dataclasses.dataclass(frozen=True)
class Limits:
    """Observed and expected (-2, -1, 0, +1, +2 sigma) upper limits on the POI."""

    observed: float
    expected: tuple[float, float, float, float, float]


class FastAsymptoticCLs:
    """CLs with the qtilde test statistic for one pyhf model and dataset."""

    def __init__(self, model: pyhf.pdf.Model, data: np.ndarray):
        import pyhf

        self.model = model
        self.data = np.asarray(data, dtype=float)
        self.init = model.config.suggested_init()
        self.bounds = model.config.suggested_bounds()
        self.fixed = model.config.suggested_fixed()
        self.poi = model.config.poi_index
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _, self.nll_free = pyhf.infer.mle.fit(
                self.data, model, self.init, self.bounds, self.fixed, return_fitted_val=True
            )
            self.asimov = pyhf.infer.calculators.generate_asimov_data(
                0.0, self.data, model, self.init, self.bounds, self.fixed
            )
            _, self.nll_free_asimov = pyhf.infer.mle.fit(
                self.asimov, model, self.init, self.bounds, self.fixed, return_fitted_val=True
            )
        self._cache: dict[float, float] = {}

    def _qtilde(self, mu: float, data: np.ndarray, nll_free: float) -> float:
        import pyhf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _, nll = pyhf.infer.mle.fixed_poi_fit(
                mu, data, self.model, self.init, self.bounds, self.fixed, return_fitted_val=True
            )
        return float(max(nll - nll_free, 0.0))  # fitted values are -2 ln L

    def sigma_asimov(self, mu: float) -> float:
        """Standard deviation of the POI from the Asimov dataset: sigma_A = mu / sqrt(q_mu,A)."""
        q_a = self._qtilde(mu, self.asimov, self.nll_free_asimov)
        if q_a <= 0:
            raise RuntimeError(f"q_mu,A = {q_a} at mu = {mu}: the model has no sensitivity")
        return mu / np.sqrt(q_a)

    def cls_observed(self, mu: float, sigma_a: float) -> float:
        """Observed CLs at ``mu`` (pyhf's qtilde test statistic and asymptotic p-values)."""
        from pyhf.infer.calculators import AsymptoticTestStatDistribution

        if mu not in self._cache:
            self._cache[mu] = self._qtilde(mu, self.data, self.nll_free)
        sqrt_q = np.sqrt(self._cache[mu])
        sqrt_q_a = mu / sigma_a
        teststat = sqrt_q - sqrt_q_a if sqrt_q <= sqrt_q_a else (sqrt_q**2 - sqrt_q_a**2) / (2 * sqrt_q_a)
        clsb = AsymptoticTestStatDistribution(-sqrt_q_a).pvalue(teststat)
        clb = AsymptoticTestStatDistribution(0.0).pvalue(teststat)
        return float(clsb / clb) if clb > 0 else float("nan")

    def expected_limits(self, level: float, sigma_a: float) -> tuple[float, ...]:
        """CCGV eq. 89: mu_N = sigma_A (Phi^-1(1 - level Phi(N)) + N) for N = -2 .. 2."""
        return tuple(float(sigma_a * factor) for factor in band_factors(level))

    def upper_limits(self, level: float, *, scale: float, rtol: float = 1e-3) -> Limits:
        """Observed and expected upper limits at CL = 1 - ``level``.

        Args:
            level: CLs threshold (0.10 for 90% CL).
            scale: a POI value near the sensitivity (brackets and sigma_A start there).
            rtol: relative tolerance of the observed limit.
        """
        sigma_a = self.sigma_asimov(scale)
        median = self.expected_limits(level, sigma_a)[2]
        sigma_a = self.sigma_asimov(median)
        # sigma_A depends (weakly) on mu: evaluate it at each band's own limit
        first = self.expected_limits(level, sigma_a)
        expected = tuple(self.expected_limits(level, self.sigma_asimov(mu_n))[i] for i, mu_n in enumerate(first))
        lo, hi = 0.02 * median, 3.0 * median

        def f(mu: float) -> float:
            cls = self.cls_observed(mu, sigma_a)
            if not np.isfinite(cls):
                # the conditional fit can fail far below the sensitivity, where CLs ~ 1
                if mu < 0.2 * median:
                    return -np.log(level)
                raise RuntimeError(f"CLs is not finite at mu = {mu:.4g}")
            return np.log(max(cls, 1e-300)) - np.log(level)

        for _ in range(40):
            if f(hi) < 0:
                break
            lo, hi = hi, hi * 3.0
        else:
            raise RuntimeError(f"no POI value up to {hi:.4g} is excluded")
        if f(lo) < 0:
            raise RuntimeError(f"CLs below {level} already at mu = {lo:.4g}")
        observed = optimize.brentq(f, lo, hi, rtol=rtol)
        return Limits(float(observed), expected)

"""CLs from toys against the exact CLs of a Poisson counting experiment."""

import numpy as np
import pytest
from scipy import special, stats

from darkscan.stats import toy_cls


class KnownBackground:
    """n ~ Pois(mu s + b) with b known: qtilde in closed form."""

    def __init__(self, n, s, b):
        self.n, self.s, self.b = (np.asarray(x, float) for x in (n, s, b))

    def _q(self, mu, n):
        def twice_nll(m):
            lam = m * self.s + self.b
            return 2 * (lam - special.xlogy(n, lam))

        mu_hat = np.maximum(n - self.b, 0) / self.s
        return np.where(mu_hat > mu, 0.0, np.maximum(twice_nll(mu) - twice_nll(mu_hat), 0.0))

    def sample(self, mu, n_toys, rng):
        return rng.poisson(mu * self.s + self.b, (n_toys, len(mu))).astype(float)

    def qtilde(self, mu, toys):
        return self._q(mu, toys)

    def qtilde_observed(self, mu):
        return self._q(mu, self.n)

    def log_density(self, mu, toys):
        return stats.poisson.logpmf(toys, mu * self.s + self.b)


def _exact_cls_limit(n, b, level=0.1):
    # for one bin, qtilde orders the data as n does below mu s + b: CLs = P(N <= n | s + b) / P(N <= n | b)
    from scipy.optimize import brentq

    return brentq(lambda s: stats.poisson.cdf(n, s + b) / stats.poisson.cdf(n, b) - level, 1e-6, 50)


@pytest.mark.parametrize(("n", "b"), [(0, 0.5), (0, 3.0), (2, 1.0), (6, 4.0), (9, 3.0)])
@pytest.mark.parametrize("signal_toys", [20000, 2000])
def test_toy_cls_reproduces_the_exact_counting_cls(n, b, signal_toys):
    """Also with few signal-plus-background toys, and for an excess (9 on 3: the tail lies where
    background-only toys rarely go, so the mixture's own signal toys carry it)."""
    model = KnownBackground([n], [1.0], [b])
    grid = toy_cls.mu_grid(np.array([0.5]), np.array([25.0]), points=60)
    limits = toy_cls.toy_cls_limits(
        model, grid, level=0.1, n_toys=20000, signal_toys=signal_toys, rng=np.random.default_rng(7)
    )
    assert limits.converged.all()
    assert limits.observed[0] == pytest.approx(_exact_cls_limit(n, b), rel=0.04)


def test_mixture_weights():
    share = 0.8  # 4 background-only toys per signal-plus-background toy
    log_ratio = np.array([0.0, np.log(2.0), -np.inf, np.inf, np.nan, -800.0])
    expected = [1.0, 2.0 / (0.8 + 0.2 * 2.0), 0.0, 5.0, 0.0, 0.0]
    np.testing.assert_allclose(toy_cls.mixture_weights(log_ratio, share), expected, atol=1e-300)


def test_the_mixture_estimate_of_the_signal_tail_is_unbiased_and_more_precise():
    """P(n <= 2 | s + b = 6) from 1000 background-only (b = 1.5) and 250 signal toys pooled, over
    400 repetitions: mean within its error of the exact Poisson value, spread below that of 1000
    direct signal-plus-background toys."""
    rng = np.random.default_rng(3)
    s, b, n_obs = 4.5, 1.5, 2
    exact = stats.poisson.cdf(n_obs, s + b)
    estimates = []
    for _ in range(400):
        pool = np.concatenate([rng.poisson(b, 1000), rng.poisson(s + b, 250)])
        log_ratio = stats.poisson.logpmf(pool, s + b) - stats.poisson.logpmf(pool, b)
        weights = toy_cls.mixture_weights(log_ratio, 1000 / 1250)
        estimates.append(np.mean(weights * (pool <= n_obs)))
    estimates = np.array(estimates)
    assert abs(estimates.mean() - exact) < 3 * estimates.std() / np.sqrt(len(estimates))
    direct_spread = np.sqrt(exact * (1 - exact) / 1000)
    assert estimates.std() < 0.5 * direct_spread


def test_n0_limit_is_independent_of_the_background():
    assert _exact_cls_limit(0, 0.5) == pytest.approx(-np.log(0.1), rel=1e-6)
    model = KnownBackground([0, 0], [1.0, 1.0], [0.2, 2.0])
    grid = toy_cls.mu_grid(np.full(2, 0.5), np.full(2, 10.0), points=50)
    limits = toy_cls.toy_cls_limits(model, grid, level=0.1, n_toys=100_000, rng=np.random.default_rng(1))
    np.testing.assert_allclose(limits.observed, -np.log(0.1), rtol=0.04)


def test_expected_band_is_ordered_and_median_matches_the_median_count():
    b = 4.0
    model = KnownBackground([4], [1.0], [b])
    grid = toy_cls.mu_grid(np.array([0.5]), np.array([30.0]), points=60)
    limits = toy_cls.toy_cls_limits(model, grid, level=0.1, n_toys=20000, rng=np.random.default_rng(2))
    assert np.all(np.diff(limits.expected[:, 0]) >= 0)
    median_n = stats.poisson.median(b)
    assert limits.expected[2, 0] == pytest.approx(_exact_cls_limit(median_n, b), rel=0.05)


def test_a_grid_that_misses_the_crossing_is_flagged():
    model = KnownBackground([10], [1.0], [1.0])
    grid = toy_cls.mu_grid(np.array([0.1]), np.array([2.0]), points=10)
    limits = toy_cls.toy_cls_limits(model, grid, level=0.1, n_toys=500, rng=np.random.default_rng(0))
    assert not limits.converged[0]


def test_the_minus_two_sigma_band_is_measured_with_few_toys():
    """b = 3: the 97.7% quantile of background-only q_mu is n = 0 (P = 5%), so the -2 sigma limit is
    the n = 0 limit, 2.303 events. Its CL_s+b, P(n = 0 | s + b) = 0.5%, is one or two of 300
    direct signal toys; the pool of 300 background-only toys (5% of them at n = 0) and 75 signal
    toys measures it (the tiny overlay's toy counts)."""
    model = KnownBackground([3], [1.0], [3.0])
    grid = toy_cls.mu_grid(np.array([0.5]), np.array([20.0]), points=40)
    band = [
        toy_cls.toy_cls_limits(
            model, grid, level=0.1, n_toys=300, signal_toys=75, rng=np.random.default_rng(s)
        ).expected[0, 0]
        for s in range(20)
    ]
    assert np.median(band) == pytest.approx(-np.log(0.1), rel=0.05)
    assert np.percentile(band, 10) > 0.85 * -np.log(0.1)

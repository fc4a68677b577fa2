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


def _exact_cls_limit(n, b, level=0.1):
    # for one bin, qtilde orders the data as n does below mu s + b: CLs = P(N <= n | s + b) / P(N <= n | b)
    from scipy.optimize import brentq

    return brentq(lambda s: stats.poisson.cdf(n, s + b) / stats.poisson.cdf(n, b) - level, 1e-6, 50)


@pytest.mark.parametrize(("n", "b"), [(0, 0.5), (0, 3.0), (2, 1.0), (6, 4.0)])
def test_toy_cls_reproduces_the_exact_counting_cls(n, b):
    model = KnownBackground([n], [1.0], [b])
    grid = toy_cls.mu_grid(np.array([0.5]), np.array([25.0]), points=60)
    limits = toy_cls.toy_cls_limits(model, grid, level=0.1, n_toys=20000, rng=np.random.default_rng(7))
    assert limits.converged.all()
    assert limits.observed[0] == pytest.approx(_exact_cls_limit(n, b), rel=0.04)


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

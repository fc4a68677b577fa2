"""Bayesian credible limits against known results and an independent numerical integration."""

import numpy as np
import pytest
from scipy import integrate, stats

from darkscan.stats import bayesian


def test_known_poisson_results_without_uncertainties():
    # flat prior, n = 0: mu_up s = -ln(0.1) for any background; b = 0, n = 1, 2: the Gamma(n + 1)
    # 90% quantiles 3.890 and 5.322 events (e.g. PDG Statistics review, Table 40.3)
    limits = bayesian.counting_upper_limits([0, 0, 1, 2], [1.0, 2.0, 1.0, 1.0], [0.0, 5.0, 0.0, 0.0], 0.0, cl=0.9)
    np.testing.assert_allclose(limits.observed, [2.302585, 2.302585 / 2, 3.889720, 5.322320], rtol=1e-5)
    assert limits.converged.all()


def test_known_background_result_against_the_closed_form():
    # b known: the 90% limit solves [P(n+1, b+s) - P(n+1, b)] / [1 - P(n+1, b)] = 0.9 (PDG eq. 40.70 form)
    n, b = 5, 3.2
    s_up = bayesian.counting_upper_limits([n], [1.0], [b], [0.0], cl=0.9).observed[0]
    from scipy.special import gammainc

    frac = (gammainc(n + 1, b + s_up) - gammainc(n + 1, b)) / (1 - gammainc(n + 1, b))
    assert frac == pytest.approx(0.9, abs=1e-6)


def _numerical_limit(n, s, b0, sigma, delta, cl):
    """Dense trapezoid sums over (mu, alpha, b): independent of the quadrature rules used."""
    mus = np.linspace(0, 12, 241)[:, None, None]
    alpha = np.linspace(-6, 6, 121)[None, :, None]
    b = np.linspace(max(b0 - 8 * sigma, 0), b0 + 8 * sigma, 301)[None, None, :]
    f = np.where(alpha >= 0, (1 + delta) ** alpha, (1 - delta) ** (-alpha))
    integrand = stats.poisson.pmf(n, mus * s * f + b) * stats.norm.pdf(b0, b, sigma) * stats.norm.pdf(alpha)
    like = integrate.trapezoid(integrate.trapezoid(integrand, b[0, 0], axis=2), alpha[0, :, 0], axis=1)
    cdf = integrate.cumulative_trapezoid(like, mus[:, 0, 0], initial=0)
    return np.interp(cl, cdf / cdf[-1], mus[:, 0, 0])


@pytest.mark.parametrize(
    ("n", "s", "b0", "sigma", "delta"), [(3, 2.0, 1.5, 0.6, 0.2), (0, 1.0, 0.3, 0.3, 0.1), (8, 3.0, 6.0, 1.0, 0.0)]
)
def test_nuisance_integration_against_nested_quadrature(n, s, b0, sigma, delta):
    ours = bayesian.counting_upper_limits([n], [s], [b0], [sigma], cl=0.9, signal_norm=delta).observed[0]
    assert ours == pytest.approx(_numerical_limit(n, s, b0, sigma, delta, 0.9), rel=2e-3)


def test_expected_limits_are_limits_at_background_quantiles_and_cover():
    b0, s = 4.0, 1.0
    limits = bayesian.counting_upper_limits([0], [s], [b0], [1e-6], cl=0.9)
    quantiles = [stats.poisson.ppf(stats.norm.cdf(k), b0) for k in (-2, -1, 0, 1, 2)]
    direct = bayesian.counting_upper_limits(quantiles, s, b0, 1e-6, cl=0.9).observed
    np.testing.assert_allclose(limits.expected[:, 0], direct, rtol=1e-6)
    assert np.all(np.diff(limits.expected[:, 0]) >= 0)
    # the credible limit over-covers the true signal for a flat prior: in toys with s_true at the
    # median expected limit, mu_up >= s_true in at least ~50% of experiments
    rng = np.random.default_rng(3)
    s_true = limits.expected[2, 0]
    n = rng.poisson(s_true + b0, 4000)
    covered = bayesian.counting_upper_limits(n, s, b0, 1e-6, cl=0.9).observed >= s_true
    assert covered.mean() > 0.45


def test_closed_form_matches_a_posterior_integrated_on_a_grid():
    n, b = 4, 1.7
    mus = np.linspace(0, 25, 5001)
    cdf = integrate.cumulative_trapezoid(stats.poisson.pmf(n, mus + b), mus, initial=0)
    grid = np.interp(0.9, cdf / cdf[-1], mus)
    closed = bayesian.counting_upper_limits([n], [1.0], [b], [0.0], cl=0.9).observed[0]
    assert grid == pytest.approx(closed, rel=1e-4)

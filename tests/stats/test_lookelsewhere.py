"""Look-elsewhere correction against cases with known answers."""

import numpy as np
import pytest
from scipy import stats

from darkscan.stats.lookelsewhere import counting_significance, global_p_value, upcrossings


def test_counting_significance_limits():
    n, b = 130.0, 100.0
    # exact background: the Poisson profile-likelihood formula sqrt(2 (n ln(n/b) - (n - b)))
    assert counting_significance(n, b, 1e-12) == pytest.approx(np.sqrt(2 * (n * np.log(n / b) - (n - b))), rel=1e-6)
    # an uncertain background lowers the significance; deficits give zero
    assert counting_significance(n, b, 100.0) < counting_significance(n, b, 1e-12)
    assert counting_significance(90.0, b, 10.0) == 0.0
    # Gaussian limit with a large background uncertainty: ~ s / sqrt(b + sigma^2)
    assert counting_significance(10_300.0, 10_000.0, 10_000.0) == pytest.approx(300 / np.sqrt(20_000), rel=0.01)


def test_upcrossings():
    z = np.array([[0.0, 2.0, 0.5, 1.5, 1.8, 0.2, 3.0], [2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(upcrossings(z, 1.0), [3, 1])


def test_global_p_value_is_never_below_the_local_one():
    """The trials factor is at least one: z_global <= z_local_max whatever the toys say."""
    rng = np.random.default_rng(2)
    maxima = 0.5 * np.abs(rng.standard_normal(1000))  # toys far less extreme than a single Gaussian window
    result = global_p_value(maxima, 2.5)
    assert result["p_global_toys"] < stats.norm.sf(2.5) and result["trials_factor_floor"]
    assert result["p_global"] == pytest.approx(stats.norm.sf(2.5)) and result["z_global"] <= 2.5
    plenty = global_p_value(maxima + 2.0, 2.5)  # many windows: most toys reach 2.5 somewhere
    assert not plenty["trials_factor_floor"] and plenty["z_global"] < 1.0
    for z in np.linspace(0.0, 6.0, 25):
        assert global_p_value(maxima, z)["z_global"] <= z

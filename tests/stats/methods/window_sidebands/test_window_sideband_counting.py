"""The counting approximation of the 1D look-elsewhere toys
(darkscan.stats.methods.window_sidebands.sideband_counting) against cases with known answers."""

import numpy as np
import pytest
from scipy import stats

from darkscan.stats.methods.window_sidebands.sideband_counting import Windows, global_significance, local_significances


def _independent_windows(n_windows: int) -> Windows:
    """Disjoint windows: [sideband | window | sideband] = bins 3i, 3i+1, 3i+2."""
    start = 3 * np.arange(n_windows)
    return Windows(start, start + 1, start + 2, start + 3)


def test_global_p_value_of_independent_windows_is_exact_trials_factor():
    """N independent windows with large known backgrounds: p_global = 1 - (1 - p_local)^N."""
    n_windows, b = 50, 40_000.0
    windows = _independent_windows(n_windows)
    background = np.full(3 * n_windows, b)
    variance = np.zeros_like(background)
    data = background.copy()
    data[3 * 17 + 1] += 2.6 * np.sqrt(1.5 * b)  # an excess in window 17 (sidebands add 0.5 b of variance)
    rng = np.random.default_rng(7)
    result = global_significance(data, background, variance, windows, n_toys=4000, rng=rng)
    z_obs = result["z_local_max_counting"]
    assert result["index_at_max"] == 17
    exact = 1.0 - (1.0 - stats.norm.sf(z_obs)) ** n_windows
    error = np.sqrt(exact * (1 - exact) / 4000)
    assert result["p_global"] == pytest.approx(exact, abs=4 * error + 1e-3)
    assert 0.0 < result["z_global"] < z_obs


def test_no_excess_gives_no_global_significance():
    windows = _independent_windows(20)
    background = np.full(60, 1000.0)
    result = global_significance(
        background.copy(), background, np.zeros(60), windows, n_toys=500, rng=np.random.default_rng(1)
    )
    assert result["z_local_max_counting"] == 0.0
    assert result["p_global"] == 1.0 and result["z_global"] == 0.0


def test_mc_statistics_enter_the_local_significance():
    windows = _independent_windows(1)
    counts = np.array([1000.0, 1100.0, 1000.0])
    background = np.full(3, 1000.0)
    exact_mc = local_significances(counts, background, np.zeros(3), windows)[0]
    uncertain_mc = local_significances(counts, background, np.full(3, 2500.0), windows)[0]
    assert uncertain_mc < exact_mc

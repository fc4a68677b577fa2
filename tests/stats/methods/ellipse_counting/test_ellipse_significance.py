"""The two-mass look-elsewhere toys (darkscan.stats.methods.ellipse_counting.significance)."""

import numpy as np
import pytest
from scipy import stats

from darkscan.stats.methods.ellipse_counting.events import Events, ellipse_background, membership
from darkscan.stats.methods.ellipse_counting.significance import global_significance_2d


def test_global_significance_toys():
    rng = np.random.default_rng(3)
    bkg = Events(rng.uniform(0, 4, 2000), rng.uniform(0, 4, 2000), np.full(2000, 0.05))
    centres = np.array([[a, b] for a in np.arange(0.5, 3.6, 0.25) for b in np.arange(0.5, 3.6, 0.25)])
    axes = np.full_like(centres, 0.3)
    member = membership(bkg, centres, axes)
    b0, sigma = ellipse_background(bkg, member, floor=1e-3)
    none = global_significance_2d(0.0, member, bkg, b0, sigma, n_toys=100, rng=np.random.default_rng(1))
    assert none["p_global"] == 1.0 and none["z_global"] == 0.0
    big = global_significance_2d(6.0, member, bkg, b0, sigma, n_toys=100, rng=np.random.default_rng(1))
    assert big["p_global"] == pytest.approx(1 / 101) and 2.0 < big["z_global"] < 6.0 and not big["trials_factor_floor"]
    # many overlapping windows: the typical largest local excess of a toy is well above 1 sigma
    assert 1.0 < none["mean_z_max_toys"] < 4.5


def test_toys_reproduce_the_local_p_value_of_one_ellipse():
    """One ellipse, b0 = 100 +- 5 (400 MC events of weight 0.25): the toys (MC resampled, then Poisson)
    reach Z >= 2 as often as the asymptotic local p-value says, Phi(-2) = 0.0228. Without resampling
    the MC the toys would vary by sqrt(100) only and give ~0.0125: a global p-value below the local one."""
    bkg = Events(np.full(400, 1.0), np.full(400, 1.0), np.full(400, 0.25))
    member = membership(bkg, np.array([[1.0, 1.0]]), np.array([[0.5, 0.5]]))
    b0, sigma = ellipse_background(bkg, member, floor=1e-3)
    assert b0[0] == pytest.approx(100.0) and sigma[0] == pytest.approx(5.0)
    result = global_significance_2d(
        2.0, member, bkg, b0, sigma, n_toys=20_000, rng=np.random.default_rng(5), batch=2000
    )
    assert result["p_global_toys"] == pytest.approx(stats.norm.sf(2.0), rel=0.15)
    assert result["z_global"] <= 2.0

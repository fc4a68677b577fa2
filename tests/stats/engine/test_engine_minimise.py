"""The engine's fits (darkscan.stats.engine.minimise) against pyhf's: free, fixed POI, discovery p0.

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyhf
import pytest
from scipy import stats

from darkscan.stats import engine


def test_free_fit_matches_pyhf(specs, batch, pyhf_model):
    fit = engine.fit_free(batch)
    assert fit.converged.all()
    # the POI's profile width (quadratic approximation): the minima agree in units of it, since
    # pyhf's SLSQP stops anywhere within its tolerance where the profile is flat
    step = 0.1 * batch.init[:, 0]
    rise = engine.fit_fixed_poi(batch, fit.poi + step).twice_nll - fit.twice_nll
    width = step / np.sqrt(np.maximum(rise, 1e-12))
    for h, spec in enumerate(specs):
        model, data = pyhf_model(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pars, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
        if model.config.nmaindata > 1:  # one bin: mu and background_norm are degenerate, mu_hat is arbitrary
            assert fit.poi[h] == pytest.approx(pars[model.config.poi_index], abs=0.05 * width[h]), h
        # the engine's minimum is pyhf's, never above it
        # pyhf's minimiser stops early with more nuisances (up to 5e-4 above the engine's minimum)
        assert fit.twice_nll[h] == pytest.approx(float(twice_nll), abs=1e-3)
        assert fit.twice_nll[h] <= float(twice_nll) + 1e-7


def test_conditional_fit_matches_pyhf(specs, batch, pyhf_model):
    mu = 1.7 * batch.init[:, 0]
    fit = engine.fit_fixed_poi(batch, mu)
    assert fit.converged.all()
    np.testing.assert_array_equal(fit.poi, mu)
    for h, spec in enumerate(specs):
        model, data = pyhf_model(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, twice_nll = pyhf.infer.mle.fixed_poi_fit(mu[h], data, model, return_fitted_val=True)
        assert fit.twice_nll[h] == pytest.approx(float(twice_nll), abs=2e-5)


def test_discovery_p0_matches_pyhf(specs, batch, pyhf_model):
    p0, z = engine.discovery_p0(batch)
    assert np.all((p0 > 0) & (p0 <= 0.5))
    assert z.max() > 2.5 and np.sum(z == 0) >= 2  # the test sees large excesses and deficits
    for h, spec in enumerate(specs):
        model, data = pyhf_model(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p0_pyhf = min(float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0")), 0.5)
        z_pyhf = stats.norm.isf(p0_pyhf)
        assert z[h] == pytest.approx(float(z_pyhf), abs=0.01)
        assert p0[h] == pytest.approx(p0_pyhf, rel=0.02, abs=1e-4)

"""The engine's CLs limits (darkscan.stats.engine.limits) against pyhf's root finding and CLs.

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyhf
import pytest

from darkscan.stats import engine


def test_limits_match_pyhf_root_finding(specs, limits, pyhf_model, level):
    """pyhf's TOMS 748 roots (bracketed tightly around the engine's limits to save fits)."""
    assert limits.converged.all()
    assert np.all(np.diff(limits.expected, axis=0) > 0)
    worst = 0.0
    for h in (9, 12):
        model, data = pyhf_model(specs[h])
        bounds = model.config.suggested_bounds()
        bounds[model.config.poi_index] = (0.0, 1000.0 * model.config.suggested_init()[model.config.poi_index])
        ours = np.array([limits.observed[h], *limits.expected[:, h]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(
                data,
                model,
                0.97 * ours.min(),
                1.03 * ours.max(),
                level=level,
                rtol=1e-4,
                test_stat="qtilde",
                par_bounds=bounds,
            )
        theirs = np.array([float(obs), *map(float, exp)])
        worst = max(worst, float(np.max(np.abs(ours / theirs - 1))))
        np.testing.assert_allclose(ours, theirs, rtol=2e-3)
    assert worst < 2e-3


def test_pyhf_cls_at_the_engine_limits(specs, limits, pyhf_model, level):
    """At every engine limit pyhf's own CLs (obs and the five expected) is the CL level.

    |d log CLs / d log mu| > 2 near the limit, so |log(CLs / level)| < 0.005 means the limits
    agree to better than 0.25%.
    """
    for h, spec in enumerate(specs):
        model, data = pyhf_model(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls_obs, _ = pyhf.infer.hypotest(
                limits.observed[h], data, model, test_stat="qtilde", return_expected_set=True
            )
            cls_exp = [
                pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", return_expected_set=True)[1][i]
                for i, mu in enumerate(limits.expected[:, h])
            ]
        assert np.log(float(cls_obs) / level) == pytest.approx(0.0, abs=0.005), (h, "observed")
        np.testing.assert_allclose(
            np.log(np.array(cls_exp, dtype=float) / level), 0.0, atol=0.005, err_msg=f"hypothesis {h}"
        )


def test_asimov_data_recover_the_expected_limit(batch, limits, level):
    """On its own Asimov dataset (background-only fit, aux at the fitted values) the observed
    limit is the median expected one."""
    bkg = engine.fit_fixed_poi(batch, 0.0)
    asimov = batch.with_data(
        engine.expected_data(batch, bkg.parameters), np.where(batch.constrained, bkg.parameters, 0.0)
    )
    own = engine.upper_limits(asimov, level=level)
    np.testing.assert_allclose(own.observed, limits.expected[2], rtol=1e-3)

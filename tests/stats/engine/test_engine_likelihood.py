"""The engine's likelihood (darkscan.stats.engine.likelihood) is pyhf's: counts, interpolation codes.

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pyhf
import pytest

from darkscan.stats import engine


def _order(model, batch) -> list[int]:
    """Indices into the engine's parameters in pyhf's parameter order."""
    return [batch.parameters.index(name) for name in model.config.par_order]


def test_expected_counts_equal_pyhf(specs, batch, pyhf_model):
    """Same expected counts at random parameter points, inside and outside |alpha| < 1."""
    rng = np.random.default_rng(3)
    n_p = len(batch.parameters)
    for h in (0, 1, 3, 6, len(specs) - 3, len(specs) - 2, len(specs) - 1):
        model, _ = pyhf_model(specs[h])
        pars = batch.init.copy()
        pars[h, 0] *= rng.uniform(0.2, 3.0)
        pars[h, 1:] = np.where(
            batch.constrained[h, 1:], rng.uniform(-2.5, 2.5, n_p - 1), rng.uniform(0.5, 1.5, n_p - 1)
        )
        ours = engine.expected_data(batch, pars)[h, : model.config.nmaindata]
        theirs = model.expected_actualdata(pars[h, _order(model, batch)])
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_kinked_interpolation_codes_match_pyhf(specs, pyhf_model, level):
    """The modifier classes' own codes (normsys code1, histosys code0) with an asymmetric histosys."""
    spec = copy.deepcopy(specs[6])
    background = spec["channels"][0]["samples"][1]
    histosys = next(m for m in background["modifiers"] if m["name"] == "background_mc_statistics")
    histosys["data"]["lo_data"][1] = 0.5 * (histosys["data"]["lo_data"][1] + background["data"][1])  # down shift halved
    batch = engine.batch_from_specs([spec], normsys_code="code1", histosys_code="code0")
    settings = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}
    model, data = pyhf_model(spec, modifier_settings=settings)
    ours = engine.upper_limits(batch, level=level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
        cls_obs, _ = pyhf.infer.hypotest(ours.observed[0], data, model, test_stat="qtilde", return_expected_set=True)
        cls_exp = [
            pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", return_expected_set=True)[1][i]
            for i, mu in enumerate(ours.expected[:, 0])
        ]
    assert engine.fit_free(batch).twice_nll[0] == pytest.approx(float(twice_nll), abs=2e-5)
    np.testing.assert_allclose(np.log(np.array([cls_obs, *cls_exp], dtype=float) / level), 0.0, atol=0.005)
    # and the codes matter: the default (code4/code4p) limits differ
    default = engine.upper_limits(engine.batch_from_specs([spec]), level=level)
    assert abs(default.expected[2, 0] / ours.expected[2, 0] - 1) > 1e-3

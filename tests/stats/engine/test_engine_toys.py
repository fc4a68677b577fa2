"""Pseudo-data of the engine (darkscan.stats.engine.toys): toys as a leading axis, as separate batches.

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import numpy as np
import pytest

from darkscan.stats import engine
from darkscan.stats.methods.window_sidebands.toy_limits import EngineToys


def test_many_datasets_at_once_equal_one_by_one(batch, level):
    """Toys as a leading axis give the same fits as separate batches."""
    toys = engine.sample_toys(batch, 3, rng=np.random.default_rng(11))
    assert toys.data.shape == (3,) + batch.data.shape and toys.aux.shape == (3,) + batch.aux.shape
    p0, z = engine.discovery_p0(toys)
    together = engine.upper_limits(toys, level=level)
    assert together.observed.shape == (3, batch.n_hypotheses) and together.expected.shape == (5, 3, batch.n_hypotheses)
    for t in (0, 2):
        single = toys.with_data(toys.data[t], toys.aux[t])
        np.testing.assert_allclose(engine.discovery_p0(single)[1], z[t], atol=1e-6)
        alone = engine.upper_limits(single, level=level)
        np.testing.assert_allclose(alone.observed, together.observed[t], rtol=1e-4)
        np.testing.assert_allclose(alone.expected, together.expected[:, t], rtol=1e-4)


def test_a_partial_free_fit_fits_only_the_chosen_datasets(batch):
    toys = engine.sample_toys(batch, 6, rng=np.random.default_rng(4))
    only = np.random.default_rng(0).random(toys.data.shape[:-1]) < 0.5
    full, part = engine.fit_free(toys), engine.fit_free(toys, only=only)
    np.testing.assert_array_equal(part.twice_nll[only], full.twice_nll[only])
    assert np.isnan(part.twice_nll[~only]).all()


def test_the_poi_slope_is_the_derivative_of_the_profile_and_locates_the_free_fit(batch):
    """At a conditional fit, d(-2 ln L)/dmu is the slope of the profile likelihood (envelope
    theorem, checked by finite differences), positive exactly where mu_hat < mu (where the profile
    is not flat)."""
    toys = engine.sample_toys(batch, 20, rng=np.random.default_rng(8))
    free = engine.fit_free(toys)
    mu = np.broadcast_to(1.3 * batch.poi_scale, free.poi.shape)
    slope = engine.poi_slope(toys, engine.fit_fixed_poi(toys, mu).parameters)
    step = 1e-4 * batch.poi_scale
    numeric = (engine.fit_fixed_poi(toys, mu + step).twice_nll - engine.fit_fixed_poi(toys, mu - step).twice_nll) / (
        2 * step
    )
    clear = np.abs(numeric) > 1e-3 / batch.poi_scale
    np.testing.assert_allclose(slope[clear], numeric[clear], rtol=1e-3)
    # away from mu_hat = mu and from flat profiles (a one-bin window with a free background norm)
    away = (np.abs(free.poi - mu) > 1e-3 * batch.poi_scale) & (np.abs(slope) * batch.poi_scale > 1e-6)
    assert away.sum() > 250
    np.testing.assert_array_equal((slope > 0)[away], (free.poi < mu)[away])


def test_the_shortcuts_of_the_toy_model_leave_qtilde_unchanged(batch):
    """Skipping the free fits where the profile falls gives qtilde_mu of every toy as a free and
    a conditional fit of each do."""
    model = EngineToys(batch)
    rng = np.random.default_rng(12)
    background = model.sample(np.zeros(batch.n_hypotheses), 50, rng)
    plain_free = engine.fit_free(background)
    for factor in (0.5, 1.0, 2.0):
        mu = factor * 3.0 * batch.poi_scale
        for toys in (background, model.sample(mu, 50, rng)):
            fixed = engine.fit_fixed_poi(toys, mu)
            free = plain_free if toys is background else engine.fit_free(toys)
            plain = np.where(free.poi > mu, 0.0, np.maximum(fixed.twice_nll - free.twice_nll, 0.0))
            np.testing.assert_allclose(model.qtilde(mu, toys), plain, rtol=0, atol=1e-9)


def test_twice_nll_at_is_pyhfs_logpdf_of_the_toys(specs, batch, pyhf_model):
    """The toys' density (the mixture weights of the toy CLs) is pyhf's likelihood at the
    parameters the toys are drawn from, counts and auxiliary data alike."""
    toys = engine.sample_toys(batch, 2, rng=np.random.default_rng(21), mu=2.0 * batch.poi_scale)
    parameters = engine.fit_fixed_poi(batch, 2.0 * batch.poi_scale).parameters
    ours = engine.twice_nll_at(toys, parameters)
    names = list(batch.parameters)
    for h in range(len(specs)):
        model, _ = pyhf_model(specs[h])
        pars = [parameters[h, names.index(p)] for p in model.config.par_order]
        for t in range(2):
            aux = [toys.aux[t, h, names.index(p)] for p in model.config.auxdata_order]
            data = np.concatenate([toys.data[t, h][batch.bin_mask[h]], aux])
            assert ours[t, h] == pytest.approx(-2.0 * float(model.logpdf(pars, data)[0]), rel=1e-9)


def test_engine_toys_sample_at_the_fit_their_density_is_evaluated_at(batch):
    """``sample`` and ``log_density`` of the toy model use one conditional fit per tested mu."""
    model = EngineToys(batch)
    mu = 1.5 * batch.poi_scale
    toys = model.sample(mu, 3, np.random.default_rng(2))
    fit = engine.fit_fixed_poi(batch, mu).parameters
    np.testing.assert_allclose(model.log_density(mu, toys), -0.5 * engine.twice_nll_at(toys, fit))
    again = engine.sample_at(batch, fit, 3, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(again.data, toys.data)

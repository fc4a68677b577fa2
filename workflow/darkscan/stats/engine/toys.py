"""Pseudo-data: expected counts at given parameters and toys sampled from a fit."""

from __future__ import annotations

import numpy as np

from darkscan.stats.engine.batch import WindowBatch
from darkscan.stats.engine.likelihood import _expected_counts, _rows, _to_internal
from darkscan.stats.engine.minimise import fit_fixed_poi


def expected_data(batch: WindowBatch, parameters: np.ndarray) -> np.ndarray:
    """Expected counts (..., H, B) at ``parameters`` (..., H, P) in the POI's units."""
    rows, scale = _rows(batch)
    theta = _to_internal(np.broadcast_to(parameters, batch.aux.shape).reshape(-1, len(batch.parameters)), scale)
    return _expected_counts(rows, theta).reshape(batch.data.shape)


def sample_toys(
    batch: WindowBatch, n_toys: int, *, rng: np.random.Generator, mu: float | np.ndarray = 0.0
) -> WindowBatch:
    """Pseudo-datasets from the fit at fixed ``mu`` (0: background-only; or one value per
    hypothesis, (H,)) to the observed data.

    Counts are Poisson around the expected counts and auxiliary data Gaussian (unit width)
    around the fitted constrained parameters, as pyhf's ``ToyCalculator`` samples the model.
    An expected count below zero (a histosys extrapolated far down in a bin with no data, which
    pyhf's likelihood allows: an empty bin adds 2 nu) samples as zero.

    Returns:
        A batch with data (n_toys, H, B) and aux (n_toys, H, P).
    """
    if batch.lead_shape:
        raise ValueError("sample_toys needs one dataset per hypothesis")
    fit = fit_fixed_poi(batch, mu)
    expected = expected_data(batch, fit.parameters)
    expected = np.maximum(expected, 0.0)
    data = rng.poisson(np.broadcast_to(expected, (n_toys,) + expected.shape)).astype(float)
    aux = fit.parameters + rng.standard_normal((n_toys,) + fit.parameters.shape)
    aux = np.where(batch.constrained & batch.present, aux, 0.0)
    return batch.with_data(data, aux)

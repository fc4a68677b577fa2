"""Pseudo-data: expected counts at given parameters, toys sampled from a fit and their likelihood."""

from __future__ import annotations

import numpy as np

from darkscan.stats.engine.batch import WindowBatch
from darkscan.stats.engine.likelihood import _expected_counts, _rows, _to_internal, _value
from darkscan.stats.engine.minimise import fit_fixed_poi


def expected_data(batch: WindowBatch, parameters: np.ndarray) -> np.ndarray:
    """Expected counts (..., H, B) at ``parameters`` (..., H, P) in the POI's units."""
    rows, scale = _rows(batch)
    theta = _to_internal(np.broadcast_to(parameters, batch.aux.shape).reshape(-1, len(batch.parameters)), scale)
    return _expected_counts(rows, theta).reshape(batch.data.shape)


def twice_nll_at(batch: WindowBatch, parameters: np.ndarray) -> np.ndarray:
    """-2 ln L (..., H) of every dataset at ``parameters`` (..., H, P) in the POI's units, with
    pyhf's constants: minus twice the log density of the counts and auxiliary data there."""
    rows, scale = _rows(batch)
    theta = _to_internal(np.broadcast_to(parameters, batch.aux.shape).reshape(-1, len(batch.parameters)), scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = _value(rows, theta)
    return value.reshape(batch.lead_shape + (batch.n_hypotheses,))


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
    return sample_at(batch, fit_fixed_poi(batch, mu).parameters, n_toys, rng=rng)


def sample_at(batch: WindowBatch, parameters: np.ndarray, n_toys: int, *, rng: np.random.Generator) -> WindowBatch:
    """Pseudo-datasets (n_toys, H, ...) of the models at ``parameters`` (H, P), as :func:`sample_toys`."""
    expected = np.maximum(expected_data(batch, parameters), 0.0)
    data = rng.poisson(np.broadcast_to(expected, (n_toys,) + expected.shape)).astype(float)
    aux = parameters + rng.standard_normal((n_toys,) + parameters.shape)
    aux = np.where(batch.constrained & batch.present, aux, 0.0)
    return batch.with_data(data, aux)

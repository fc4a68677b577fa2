"""Pseudo-data of the engine (darkscan.stats.engine.toys): toys as a leading axis, as separate batches.

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import numpy as np

from darkscan.stats import engine


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

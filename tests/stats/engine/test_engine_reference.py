"""The pyhf cross-check of the engine (darkscan.stats.engine.reference).

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import numpy as np
import pytest

from darkscan.stats import engine


def test_pyhf_reference_agrees(specs, limits, level):
    """The workflow's cross-check function itself, on one three-bin window with all modifiers."""
    h = 6
    reference = engine.pyhf_reference(specs[h], level)
    assert reference.observed == pytest.approx(limits.observed[h], rel=2e-3)
    np.testing.assert_allclose(reference.expected, limits.expected[:, h], rtol=2e-3)
    assert reference.z == pytest.approx(engine.discovery_p0(engine.batch_from_specs([specs[h]]))[1][0], abs=0.01)

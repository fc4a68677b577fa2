"""The batch of models (darkscan.stats.engine.batch): specs parsed, unsupported modifiers named.

The models and fixtures are in conftest.py of this folder.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from darkscan.stats import engine


def test_specs_cover_the_scan(specs, batch):
    windows = [np.asarray(s["channels"][0]["samples"][1]["data"]) for s in specs]
    centre = [w[int(np.argmax(s["channels"][0]["samples"][0]["data"]))] for w, s in zip(windows, specs, strict=False)]
    assert max(centre) > 5e3 and min(centre) < 1.0
    assert {w.size for w in windows} == {1, 2, 3}
    assert set(batch.parameters) == {
        "mu",
        "background_norm",
        "signal_normalisation",
        "background_mc_statistics",
        "background_mc_statistics_low",
        "background_mc_statistics_high",
        "background_xsec",
        "trigger",
    }


@pytest.mark.parametrize(("kind", "data"), [("shapesys", {"hi_data": [1.0]}), ("staterror", [1.0]), ("lumi", None)])
def test_unsupported_modifier_is_named(specs, kind, data):
    spec = copy.deepcopy(specs[-3])
    spec["channels"][0]["samples"][1]["modifiers"].append({"name": "weird_one", "type": kind, "data": data})
    with pytest.raises(ValueError, match="weird_one"):
        engine.batch_from_specs([spec])

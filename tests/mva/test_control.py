"""Control samples: the data/MC MVA-efficiency ratio on a toy with a known answer."""

import json

import numpy as np
import pytest

from darkscan import rootio
from darkscan.mva.control import measure_control_samples


def _write(path, *, n, mva_efficiency, weight, rng):
    columns = {
        "n_photons_near_recoil": rng.integers(0, 2, n),
        "cut_mva": rng.random(n) < mva_efficiency,
        "weight": np.full(n, weight),
    }
    with rootio.recreate(path) as out:
        rootio.write_events(out, columns, first=True)
        rootio.write_metadata(out, {})


def test_ratio_and_systematic_of_a_known_mismodelling(tmp_path):
    rng = np.random.default_rng(4)
    # MC: MVA efficiency 0.20; data: 0.22, i.e. a data/MC ratio of 1.10
    _write(tmp_path / "bkg.root", n=400_000, mva_efficiency=0.20, weight=0.01, rng=rng)
    _write(tmp_path / "data.root", n=200_000, mva_efficiency=0.22, weight=1.0, rng=rng)
    channel = {
        "name": "toy",
        "luminosity_fb": 50.0,
        "control_samples": {"photon_seen": {"expr": "n_photons_near_recoil >= 1", "label": "reversed veto"}},
    }
    result = measure_control_samples(
        {"bkg": tmp_path / "bkg.root"}, tmp_path / "data.root", tmp_path / "control.json", channel=channel
    )["photon_seen"]
    assert result["mc"]["efficiency"] == pytest.approx(0.20, abs=0.003)
    assert result["data"]["efficiency"] == pytest.approx(0.22, abs=0.004)
    # binomial error of ~100k data events: sqrt(0.22 * 0.78 / 1e5) = 1.3e-3
    assert result["data"]["efficiency_error"] == pytest.approx(1.31e-3, rel=0.05)
    assert result["ratio"] == pytest.approx(1.10, abs=0.03)
    assert result["systematic"] == pytest.approx(np.hypot(result["ratio"] - 1, result["ratio_error"]))
    assert json.loads((tmp_path / "control.json").read_text())["photon_seen"]["ratio"] == result["ratio"]


def test_a_control_sample_without_mva_passing_events_is_an_error(tmp_path):
    rng = np.random.default_rng(5)
    _write(tmp_path / "bkg.root", n=1000, mva_efficiency=0.0, weight=0.01, rng=rng)
    _write(tmp_path / "data.root", n=1000, mva_efficiency=0.0, weight=1.0, rng=rng)
    channel = {"name": "toy", "luminosity_fb": 1.0, "control_samples": {"c": {"expr": "weight > 0"}}}
    with pytest.raises(ValueError, match="control sample 'c' of toy"):
        measure_control_samples(
            {"b": tmp_path / "bkg.root"}, tmp_path / "data.root", tmp_path / "c.json", channel=channel
        )


def test_the_notebook_table_shows_each_control_sample():
    from darkscan.plots.mva import control_sample_table  # noqa: PLC0415

    entry = {
        "label": "reversed veto",
        "mc": {"yield": 500.0, "events": 4000, "efficiency": 0.2, "efficiency_error": 0.01},
        "data": {"yield": 480.0, "events": 480, "efficiency": 0.25, "efficiency_error": 0.02},
        "ratio": 1.25,
        "ratio_error": 0.11,
        "systematic": float(np.hypot(0.25, 0.11)),
    }
    table = control_sample_table({"photon_seen": entry})
    assert table["control sample"].tolist() == ["reversed veto"]
    assert table.loc[0, "data / MC"] == 1.25 and table.loc[0, "data events"] == 480
    assert table.loc[0, "systematic"] == pytest.approx(0.2731, abs=1e-4)

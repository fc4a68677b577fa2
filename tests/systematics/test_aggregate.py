"""Tests of the systematics table (darkscan.systematics.aggregate)."""

import math

import numpy as np
import pytest

from darkscan.stats.signal_model import SignalModel, SignalPoint
from darkscan.systematics.aggregate import build_table, efficiency_interpolation_uncertainty, mc_statistics_uncertainty
from darkscan.systematics.table import Systematic, read_table, write_table

# shapes as in config/channels/zprime_invisible.yaml and config/experiments/belle2.yaml
CHANNEL = {
    "systematics": [
        {"name": "luminosity", "applies_to": "signal", "source": "experiment", "key": "luminosity_rel"},
        {
            "name": "tracking",
            "applies_to": "signal",
            "source": "experiment",
            "key": "tracking_rel_per_track",
            "multiplicity": 2,
        },
        {"name": "muon_id", "applies_to": "signal", "source": "experiment", "key": "muon_id_rel"},
        {
            "name": "efficiency_interpolation",
            "applies_to": "signal",
            "source": "derived",
            "method": "efficiency_interpolation",
        },
        {
            "name": "mass_resolution",
            "applies_to": "signal",
            "source": "derived",
            "method": "resolution_scale",
            "value": 0.10,
        },
        {"name": "signal_mc_statistics", "applies_to": "signal", "source": "derived", "method": "mc_statistics"},
        {"name": "fit_bias", "applies_to": "signal", "source": "value", "value": 0.02},
        {
            "name": "background_mc_statistics",
            "applies_to": "background",
            "source": "derived",
            "method": "mc_statistics",
        },
    ]
}
EXPERIMENT = {
    "name": "belle2",
    "systematics": {"luminosity_rel": 0.007, "tracking_rel_per_track": 0.0091, "muon_id_rel": 0.04},
}


def _point(mass, efficiency, efficiency_err):
    residuals = np.linspace(-0.05, 0.05, 11)
    weights = np.full(11, efficiency * 10.0 / 11)
    return SignalPoint(mass, 10.0, efficiency, efficiency_err, residuals, weights, 0.03)


@pytest.fixture()
def model():
    # three generated masses, unevenly spaced: 1.0, 1.5, 3.0 GeV
    return SignalModel([_point(1.0, 0.20, 0.004), _point(1.5, 0.30, 0.009), _point(3.0, 0.50, 0.005)])


def test_leave_one_out_efficiency_interpolation_by_hand(model):
    # at 1.5 GeV from 1.0 and 3.0 GeV: f = 0.5 / 2.0 = 0.25, eff = 0.75 * 0.20 + 0.25 * 0.50 = 0.275
    value, derivation = efficiency_interpolation_uncertainty(model)
    assert value == pytest.approx(abs(0.275 - 0.30) / 0.30, rel=1e-12)  # 0.083333
    assert "1 inner generated masses" in derivation
    # two points: no inner mass, no uncertainty
    assert efficiency_interpolation_uncertainty(SignalModel(model.points[::2]))[0] == 0.0


def test_mc_statistics_is_largest_relative_error(model):
    assert mc_statistics_uncertainty(model)[0] == pytest.approx(0.009 / 0.30, rel=1e-12)  # 3%


def test_build_table_values(model):
    rows = build_table(CHANNEL, EXPERIMENT, model)
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows] == [s["name"] for s in CHANNEL["systematics"]]
    assert by_name["luminosity"] == Systematic(
        "luminosity", "signal", "normsys", 0.007, "experiment belle2: luminosity_rel = 0.007"
    )
    # two tracks, fully correlated: linear sum = 2 x per-track value
    assert by_name["tracking"].value == pytest.approx(2 * 0.0091, rel=1e-12)
    assert "x 2" in by_name["tracking"].derivation
    assert by_name["muon_id"].value == 0.04
    assert by_name["efficiency_interpolation"].modifier == "normsys"
    assert by_name["efficiency_interpolation"].value == pytest.approx(0.025 / 0.30, rel=1e-12)
    assert (by_name["mass_resolution"].modifier, by_name["mass_resolution"].value) == ("histosys", 0.10)
    assert by_name["signal_mc_statistics"].value == pytest.approx(0.03, rel=1e-12)
    assert (by_name["fit_bias"].modifier, by_name["fit_bias"].value) == ("normsys", 0.02)
    bkg = by_name["background_mc_statistics"]
    assert bkg.applies_to == "background" and bkg.modifier == "staterror" and math.isnan(bkg.value)


def test_build_table_multiplicity_one_and_unknown_method(model):
    channel = {
        "systematics": [
            {"name": "tracking", "applies_to": "signal", "source": "experiment", "key": "tracking_rel_per_track"}
        ]
    }
    (row,) = build_table(channel, EXPERIMENT, model)
    assert row.value == 0.0091 and "x" not in row.derivation.split("=")[1]
    bad = {
        "systematics": [
            {"name": "odd", "applies_to": "background", "source": "derived", "method": "efficiency_smearing"}
        ]
    }
    with pytest.raises(ValueError, match="'efficiency_smearing'"):
        build_table(bad, EXPERIMENT, model)


def test_write_and_read_table_round_trip(model, tmp_path):
    rows = build_table(CHANNEL, EXPERIMENT, model)
    csv, tex = tmp_path / "out" / "systematics.csv", tmp_path / "out" / "systematics.tex"
    frame = write_table(rows, csv, tex, channel_name="zprime_invisible")
    assert list(frame.columns) == ["name", "applies_to", "modifier", "value", "derivation"]
    assert not list((tmp_path / "out").glob(".*tmp*"))  # no temporary files left behind
    back = read_table(csv)
    assert len(back) == len(rows)
    for a, b in zip(rows, back, strict=False):
        assert (a.name, a.applies_to, a.modifier, a.derivation) == (b.name, b.applies_to, b.modifier, b.derivation)
        if math.isnan(a.value):
            assert math.isnan(b.value)
        else:
            assert b.value == pytest.approx(a.value, rel=1e-5)  # written with 6 significant digits
    text = tex.read_text()
    assert r"\begin{tabular}{llr}" in text and r"\end{tabular}" in text
    assert r"tracking & signal & 1.82 \\" in text
    assert r"mass resolution & signal & $\pm$10.0 (width) \\" in text
    assert r"background mc statistics & background & per bin \\" in text
    # total of the signal normsys sources in quadrature, by hand (the width source is a shape)
    total = 100 * math.sqrt(0.007**2 + 0.0182**2 + 0.04**2 + (0.025 / 0.3) ** 2 + 0.03**2 + 0.02**2)
    assert f"total (signal normalisation, in quadrature) & signal & {total:.2f} \\\\" in text
    assert f"{total:.2f}" == "10.11"  # sqrt(1.02227e-2)


def test_read_table_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,value\nlumi,0.01\n")
    with pytest.raises(ValueError, match=r"missing columns \['applies_to', 'derivation', 'modifier'\]"):
        read_table(path)

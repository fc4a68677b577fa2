"""The calibration tables of the validation notebook (darkscan.plots.calibration)."""

from __future__ import annotations

import pytest

from darkscan.plots import calibration as plots


@pytest.fixture
def calibration() -> dict:
    """The parts of a calibration.json (darkscan.stats.calibration) that the tables read."""
    return {
        "background": {
            "toys": 200,
            "z_local_max": {"q16": 2.41, "q50": 2.987, "q84": 3.52, "mean": 3.0},
            "p_global_ks_pvalue": 0.4321,
            "fraction_z_global_above_2": 0.025,
            "fraction_z_global_above_3": 0.0,
            "outside_1sigma": 0.149,
            "outside_2sigma": 0.021,
        },
        "targets": {"p_global_ks_pvalue_min": 0.05},
        "injection": [
            {"mass": 1.0, "injected": 10.0, "bias": 0.01, "pull_width": 1.02, "coverage": 0.91, "toys": 100, "x": 1},
            {"mass": 3.0, "injected": 30.0, "bias": -0.02, "pull_width": 0.97, "coverage": 0.9, "toys": 100, "x": 2},
        ],
    }


def test_background_table_states_each_figure_with_its_target(calibration):
    table = plots.background_table(calibration)
    assert table.loc["z_local_max: median (16-84%)", "value"] == "2.99 (2.41-3.52)"
    assert table.loc["p_global uniform: KS p-value", "value"] == "0.432"
    assert table.loc["p_global uniform: KS p-value", "target"] == "> 0.05"
    assert table.loc["observed limit outside +-1 sigma band", "value"] == "0.149"
    assert table.loc["pseudo-experiments", "value"] == 200


def test_injection_table_keeps_the_figures_in_reading_order(calibration):
    table = plots.injection_table(calibration)
    assert list(table.columns) == ["mass", "injected", "bias", "pull_width", "coverage", "toys"]
    assert table["coverage"].tolist() == [0.91, 0.9]

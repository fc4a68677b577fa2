"""Which N-1 plots the validation notebook draws (darkscan.plots.validation)."""

from __future__ import annotations

import copy

import hist
import matplotlib
import numpy as np
import pandas as pd
import pytest
import uproot

from darkscan.plots import validation as val
from darkscan.plots.validation import View, validation_variables
from darkscan.stats.methods.ellipse_counting.signal import SignalModel2D, SignalPoint2D

matplotlib.use("Agg")


def test_default_n_minus_1_plots_follow_the_channels_own_cuts(channel):
    channel = copy.deepcopy(channel)
    channel["mva"] = {
        "features": ["pt_mumu_cm", "pt_thrust_max", "pl_max_wrt_min_cm"],
        "range_edges": [-1.0, 9.0],
    }
    chosen = validation_variables(channel)
    # every variable a cut after the preselection uses, with that cut left out; the fit variable with all
    assert chosen["recoil_theta_lab"] == "recoil_barrel" and chosen["pt_mumu_cm"] == "dimuon_pt"
    assert chosen["extra_energy"] == chosen["n_photons_near_recoil"] == "photon_veto"
    assert chosen["recoil_mass"] is None
    assert "n_tracks" not in chosen  # preselection cuts (two_tracks) are not N-1 plots
    # the MVA's inputs before its cut (a feature that a cut uses keeps that cut), and its score
    assert chosen["pt_thrust_max"] == chosen["pl_max_wrt_min_cm"] == chosen["mva_score"] == "mva"
    other = copy.deepcopy(channel)
    other["selection"]["cuts"][-1]["expr"] = "recoil_p_cm > 1.0"
    assert validation_variables(other)["recoil_p_cm"] == "dimuon_pt"
    del other["mva"]
    assert "mva_score" not in validation_variables(other)


def test_configured_n_minus_1_plots_win(channel):
    configured = copy.deepcopy(channel)
    configured["plots"]["validation_variables"] = {"mu1_pt": "muon_pt"}
    assert validation_variables(configured) == {"mu1_pt": "muon_pt"}


def _selected_file(path, *, step_size_events=None):
    """A selected-events file: x (cut a: x > 1), y (cut b: y < 2), two columns c1/c2 per event."""
    x = np.array([0.5, 1.5, 2.5, 3.5, 1.2, 0.2])
    y = np.array([1.0, 1.0, 3.0, 1.5, 2.5, 0.5])
    cut_a, cut_b = x > 1.0, y < 2.0
    with uproot.recreate(path) as file:
        file["events"] = {
            "x": x,
            "y": y,
            "c1": x,
            "c2": x + 0.5,
            "n": np.array([0, 1, 2, 0, 1, 3]),
            "weight": np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            "cut_a": cut_a,
            "cut_b": cut_b,
            "passed": cut_a & cut_b,
        }
    return path


@pytest.mark.parametrize("step_size", [1_000_000, 2])
def test_n_minus_1_histograms_leave_out_exactly_one_cut(tmp_path, step_size):
    path = _selected_file(tmp_path / "sample.root")
    views = {
        "x": View(("x",), "a", hist.axis.Regular(4, 0.0, 4.0)),  # cut b only: events 0, 1, 3, 5 (weights 1, 2, 4, 6)
        "y": View(("y",), None, hist.axis.Regular(4, 0.0, 4.0)),  # both cuts: events 1, 3
        "pair": View(("c1", "c2"), None, hist.axis.Regular(8, 0.0, 4.0)),  # two entries per event
        "missing": View(("nope",), None),
    }
    axes = {}
    result = val.nminus1_histograms(path, views, scale=10.0, axes=axes, step_size=step_size)
    assert set(result) == {"x", "y", "pair"}  # a view whose column the file lacks is left out
    assert result["x"].sum().value == pytest.approx(10.0 * (1 + 2 + 4 + 6))
    assert result["y"].sum().value == pytest.approx(10.0 * (2 + 4))
    assert result["y"].sum().variance == pytest.approx(100.0 * (4 + 16))
    # c1 = 1.5, 3.5 and c2 = 2.0, 4.0 (the upper edge: overflow) at weights 20 and 40
    np.testing.assert_allclose(result["pair"].values(), [0, 0, 0, 20, 20, 0, 0, 40])
    assert axes["pair"] is views["pair"].axis


def test_a_variable_without_a_known_axis_spans_its_values(tmp_path):
    path = _selected_file(tmp_path / "sample.root")
    axes = {}
    h = val.nminus1_histograms(path, {"x": View(("x",), "a")}, scale=1.0, axes=axes)["x"]
    assert axes["x"].label == "x" and axes["x"].edges[0] == 0.2 and axes["x"].edges[-1] == pytest.approx(3.5)
    assert h.sum().value == pytest.approx(1 + 2 + 4 + 6)
    counts = val.nminus1_histograms(path, {"n": View(("n",), "a")}, scale=1.0, axes=axes)["n"]
    np.testing.assert_allclose(axes["n"].edges, [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5])  # an integer: one bin per value
    np.testing.assert_allclose(counts.values(), [1 + 4, 2, 0, 6, 0])  # events 0, 3 | 1 | - | 5


def test_fit_views_use_the_fit_binning(channel):
    views = val.fit_views(channel)
    binning = channel["fit"]["histogram"]
    axis = views["fit"].axis
    assert (len(axis), axis.edges[0], axis.edges[-1]) == (binning["bins"], binning["low"], binning["high"])
    assert views["fit"].cut is None and "fit2" not in views


def test_axis_titles_come_from_the_channel_not_another_channels_column_of_that_name(channel):
    """recoil_mass is the recoil against mu mu in VARIABLE_AXES but M_X in the single-photon search."""
    channel = copy.deepcopy(channel)
    channel["fit"]["label"] = "$M_X$"
    assert val.fit_views(channel)["fit"].axis.label == "$M_X$ [GeV]"
    single = {"selection": {"variables": "single_photon"}}
    labels = val.column_labels(single)
    assert labels["photon_cos_cm"] == r"$\cos\theta^*_\gamma$" and labels["photon_e_cm"] == r"$E^*_\gamma$ [GeV]"
    views = val.nminus1_views({"photon_cos_cm": "fiducial"}, labels)
    assert views["photon_cos_cm"].label == labels["photon_cos_cm"]


def test_cut_thresholds_and_titles_come_from_the_cuts(channel):
    channel = copy.deepcopy(channel)
    channel["selection"]["cuts"].append({"name": "window", "expr": "(1.0 < mu1_pt) & (mu1_pt <= 5.0)", "label": "W"})
    found = val.cut_thresholds(channel, "mu1_pt", "window")
    assert [(t.value, t.kept, t.label) for t in found] == [(1.0, ">", "W"), (5.0, "<=", "W")]
    assert val.cut_thresholds(channel, "mu1_pt", "photon_veto") == []  # that cut is on other variables
    assert val.view_title(channel, "window") == "N-1: all cuts but W"
    assert val.view_title(channel, None) == "all cuts" and val.view_title(channel, "mva").endswith("the MVA")


def test_cutflow_summary_totals_the_mc_and_compares_the_data():
    rows = []
    for sample, yields in {
        "bkg1": [100.0, 40.0],
        "bkg2": [300.0, 20.0],
        "data": [410.0, 66.0],
        "sig": [50.0, 10.0],
    }.items():
        for cut, label, value in zip(["all", "veto"], ["all events", "photon veto"], yields, strict=True):
            rows.append({"sample": sample, "cut": cut, "label": label, "yield": value, "efficiency": value / yields[0]})
    summary = val.cutflow_summary(pd.DataFrame(rows), backgrounds=["bkg1", "bkg2"], signals=["sig"])
    assert list(summary.index) == ["all events", "photon veto"]
    np.testing.assert_allclose(summary["MC total"], [400.0, 60.0])
    np.testing.assert_allclose(summary["data / MC"], [410.0 / 400.0, 1.1])
    np.testing.assert_allclose(summary["eff. bkg2 [%]"], [100.0, 20.0 / 3.0])
    np.testing.assert_allclose(summary["eff. sig [%]"], [100.0, 20.0])


def test_merged_and_sliced_fit_histograms_keep_fit_bin_edges_and_contents():
    h = hist.Hist(hist.axis.Regular(1000, 0.0, 10.0), storage=hist.storage.Weight())
    h.fill(np.linspace(0.005, 9.995, 1000), weight=np.arange(1000.0))
    assert val.merge_factor(1000, target=200) == 5 and val.merge_factor(1000, target=3) == 500
    assert val.merge_factor(997, target=200) == 997  # a prime number of bins: one bin
    merged = val.slice_window(h, -1.0, 99.0, factor=5)
    assert len(merged.axes[0]) == 200 and merged.sum().value == pytest.approx(h.sum().value)
    window = val.slice_window(h, 2.0, 2.5, factor=4)  # 50 fit bins: 12 merged ones, the last 2 dropped
    np.testing.assert_allclose(window.axes[0].edges[[0, -1]], [2.0, 2.48])
    assert window.values()[0] == pytest.approx(200 + 201 + 202 + 203)
    assert val.zoom_factor(h, 0.1) == 5  # half of a 0.1 GeV resolution in 0.01 GeV fit bins
    assert val.zoom_factor(h, 0.001) == 1
    # 2-3 GeV holds 20,000 - 30,000 entries (weights 200-299): plenty for half-resolution bins
    assert val.zoom_factor(h, 0.1, window=(2.0, 3.0)) == 5
    sparse = hist.Hist(hist.axis.Regular(1000, 0.0, 10.0), storage=hist.storage.Weight())
    sparse.fill(np.linspace(2.005, 2.995, 20))  # 20 events: 5 per bin asks for 4 bins, at least 10 are drawn
    assert val.zoom_factor(sparse, 0.02, window=(2.0, 3.0)) == 10


def test_excess_resolution_and_expected_limit_at_the_nearest_hypothesis():
    limits = pd.DataFrame(
        {
            "mass": [1.0, 2.0, 3.0],
            "mass2": [0.5, 0.5, 0.5],
            "resolution": [0.01, 0.02, 0.03],
            "resolution2": [0.1, 0.2, 0.3],
            "xsec_exp": [5.0, np.nan, 7.0],
        }
    )
    assert val.excess_resolution(limits, {"mass_at_max": 2.1}) == 0.02
    assert val.excess_resolution(limits, {"mass_at_max": 2.9, "mass2_at_max": 0.5}, dimension=1) == 0.3
    assert val.expected_limit(limits, 1.9) == 5.0  # the nearest hypothesis with an expected limit


def test_2d_signal_maps_interpolate_between_the_generated_points():
    def efficiency(m1, m2):
        return 0.1 + 0.02 * m1 + 0.01 * m2  # linear: the triangulated interpolation is exact

    points = [
        SignalPoint2D(m1, m2, 1.0, 10.58, efficiency(m1, m2), 0.001, 0.01 * m1, 0.02 * m2, 0.9)
        for m1 in (1.0, 2.0, 3.0)
        for m2 in (0.5, 2.5, 4.5)
    ]
    fig = val.signal_maps_2d(SignalModel2D(points), labels=("$m_1$ [GeV]", "$m_2$ [GeV]"))
    mesh = fig.axes[0].collections[0]
    grid = np.ma.filled(mesh.get_array(), np.nan).reshape(60, 60)  # (m2, m1) bins, centres at 1 + (i + 1/2) / 30
    centres1, centres2 = 1.0 + (np.arange(60) + 0.5) / 30.0, 0.5 + (np.arange(60) + 0.5) * 4.0 / 60.0
    np.testing.assert_allclose(grid, efficiency(centres1[None, :], centres2[:, None]), rtol=1e-9)
    rows = [line for line in fig.axes[3].lines if len(line.get_xdata()) == 3]  # bottom row: one line per m1
    assert len(rows) == 3
    np.testing.assert_allclose(rows[0].get_ydata(), efficiency(1.0, np.array([0.5, 2.5, 4.5])))


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("muon $p_T > 0.4$ GeV", "muon p_T > 0.4 GeV"),
        (r"$0.88 < M_{3\gamma}$ / √$s$ $< 1.03$", "0.88 < M_3γ / √s < 1.03"),
        (r"$E_{\mathrm{extra}} < 0.4$ GeV", "E_extra < 0.4 GeV"),
        (r"BF(Z'$\to$ inv.)", "BF(Z'→ inv.)"),
        ("two-track trigger", "two-track trigger"),
    ],
)
def test_cut_labels_become_plain_text_for_the_tables(label, text):
    assert val.plain_text(label) == text

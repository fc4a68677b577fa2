"""Data vs. stacked MC figures of the validation notebook (darkscan.plots.datamc)."""

from __future__ import annotations

import hist
import matplotlib
import numpy as np
import pytest

from darkscan.plots import datamc

matplotlib.use("Agg")


def _hist(values, *, low=0.0, high=4.0, label="E [GeV]"):
    h = hist.Hist(hist.axis.Regular(len(values), low, high, label=label), storage=hist.storage.Weight())
    centres = h.axes[0].centers
    h.fill(centres, weight=np.asarray(values, dtype=float))
    return h


@pytest.mark.parametrize(
    ("label", "unit"), [("p [GeV]", "GeV"), (r"$M^2$ [GeV$^2$]", "GeV$^2$"), ("MVA score", None), ("", None)]
)
def test_axis_unit_is_the_trailing_bracket(label, unit):
    assert datamc.axis_unit(label) == unit


def test_events_label_names_the_bin_width_and_unit():
    assert datamc.events_label(hist.axis.Regular(80, 0.0, 4.0, label="E [GeV]")) == "Events / 0.05 GeV"
    assert datamc.events_label(hist.axis.Regular(50, 0.0, 1.0, label="score")) == "Events / 0.02"
    assert datamc.events_label(hist.axis.Variable([0.0, 1.0, 3.0], label="E [GeV]")) == "Events / bin"


def test_log_scale_when_the_peak_dwarfs_the_low_bins():
    flat = np.full(20, 10.0)
    assert not datamc.use_log_scale(flat)
    spike = flat.copy()
    spike[0] = 10.0 * datamc.LOG_DYNAMIC_RANGE * 1.01
    assert datamc.use_log_scale(spike)
    tail = np.concatenate([np.full(10, 100.0), np.full(10, 2.0)])  # median 51, low bins 2: a long low tail
    assert datamc.use_log_scale(tail)
    assert not datamc.use_log_scale(np.linspace(10.0, 200.0, 20))  # a factor 20 from the lowest to the peak
    assert not datamc.use_log_scale(np.zeros(5))


def test_figure_stacks_the_mc_and_divides_the_data_by_it():
    mc_a, mc_b = [100.0, 50.0, 20.0, 10.0], [300.0, 150.0, 80.0, 30.0]
    data = [420.0, 180.0, 120.0, 40.0]
    histograms = {"a": _hist(mc_a), "b": _hist(mc_b), "data": _hist(data)}
    fig = datamc.data_mc_figure(
        histograms,
        labels={"a": "A", "b": "B"},
        signals={"signal": _hist([0.0, 0.0, 30.0, 0.0])},
        thresholds=[datamc.Threshold(2.5, ">", "E > 2.5 GeV"), datamc.Threshold(9.0, "<")],
        markers=[datamc.Marker(1.5, "excess")],
        title="N-1",
    )
    main, ratio = fig.axes[:2]
    assert main.get_ylabel() == "Events / 1 GeV" and ratio.get_ylabel() == "Data / MC"
    assert main.get_yscale() == "linear"  # peak 400, lowest bins 40: no log
    # the ratio panel: data over the summed MC, bin by bin
    expected = np.array(data) / (np.array(mc_a) + np.array(mc_b))
    points = [line.get_ydata() for line in ratio.lines if len(line.get_ydata()) == 4]
    assert len(points) == 1
    np.testing.assert_allclose(points[0], expected)  # 1.05, 0.9, 1.2, 1
    vertical = sorted(line.get_xdata()[0] for line in main.lines if len(set(line.get_xdata())) == 1)
    assert vertical == [1.5, 2.5]  # the marker and the cut inside the range; the cut at 9 is outside
    legend = [t.get_text() for t in main.get_legend().get_texts()]
    assert {"A", "B", "signal", "cut", "excess", "Pseudo-data"} <= set(legend)


def test_figure_needs_data_and_mc():
    with pytest.raises(ValueError, match="needs data and at least one MC sample"):
        datamc.data_mc_figure({"data": _hist([1.0])}, labels={})


def test_a_log_axis_leaves_room_for_the_legend_and_drops_empty_data_bins():
    mc = [1000.0, 1.0, 0.5, 0.2]
    data = hist.Hist(hist.axis.Regular(4, 0.0, 4.0, label="E [GeV]"), storage=hist.storage.Weight())
    data.fill([0.5] * 990 + [1.5, 3.5])  # no event in the third bin
    fig = datamc.data_mc_figure({"a": _hist(mc), "data": data}, labels={"a": "A"})
    main = fig.axes[0]
    assert main.get_yscale() == "log"
    bottom, top = main.get_ylim()
    assert bottom == pytest.approx(0.2 * 0.3)
    # the highest bin (1000) sits at 1 - LOG_HEADROOM of the axis height
    assert np.log10(1000.0 / bottom) / np.log10(top / bottom) == pytest.approx(1.0 - datamc.LOG_HEADROOM)
    (points,) = [c for c in main.containers if c.get_label() == "Pseudo-data"]
    assert np.isnan(points[0].get_ydata()[2]) and len(points[2][0].get_segments()) == 3

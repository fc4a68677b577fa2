"""Masses marked on the limit plots (plots.mass_markers), e.g. where the ALP fit variable changes."""

import matplotlib
import matplotlib.pyplot as plt

from darkscan import config as cfg
from darkscan.plots.limits import draw_mass_markers
from darkscan.select.variables import ALP_RECOIL_SWITCH_GEV

matplotlib.use("Agg")


def test_markers_inside_the_mass_range_are_drawn_with_their_label():
    fig, ax = plt.subplots()
    ax.set_xlim(0.0, 10.0)
    channel = {"plots": {"mass_markers": [{"mass": 6.85, "label": "switch"}, {"mass": 12.0, "label": "outside"}]}}
    assert draw_mass_markers(ax, channel) == 1
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [6.85]
    assert [text.get_text() for text in ax.texts] == [" switch"]
    assert draw_mass_markers(ax, {}) == 0
    plt.close(fig)


def test_the_alp_marker_sits_where_its_fit_variable_changes(global_config):
    markers = cfg.channel_config(global_config, "alp_gammagamma")["plots"]["mass_markers"]
    assert [m["mass"] for m in markers] == [ALP_RECOIL_SWITCH_GEV]

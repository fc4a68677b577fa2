"""Published limits from plots.reference_curves: files read, drawn on the right plot, checked early."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from darkscan.config import ConfigError  # noqa: E402
from darkscan.plots.limits import draw_reference_curves, read_reference_curve  # noqa: E402
from darkscan.preflight import check_reference_curves  # noqa: E402


def _channel(curves):
    return {"cl": 0.9, "plots": {"reference_curves": curves}}


def test_curves_are_drawn_on_their_own_plot_with_a_foreign_cl_named(tmp_path):
    coupling, xsec = tmp_path / "g.csv", tmp_path / "x.csv"
    coupling.write_text("# source: test\nmass,limit\n2.0,0.02\n1.0,0.01\n")
    xsec.write_text("mass,limit\n1.0,5.0\n2.0,6.0\n")
    curves = [
        {"label": "A", "file": str(coupling), "quantity": "coupling"},
        {"label": "B", "file": str(xsec), "quantity": "xsec", "cl": 0.95},
    ]
    fig, ax = plt.subplots()
    assert draw_reference_curves(ax, _channel(curves), [coupling, xsec], quantity="coupling") == 1
    line = ax.get_lines()[0]
    assert line.get_label() == "A" and list(line.get_xdata()) == [1.0, 2.0]  # sorted by mass
    fig, ax = plt.subplots()
    assert draw_reference_curves(ax, _channel(curves), [coupling, xsec], quantity="xsec") == 1
    assert ax.get_lines()[0].get_label() == "B (95% CL)"


def test_a_file_without_the_columns_is_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("m,g\n1,2\n")
    with pytest.raises(
        ValueError, match=r"bad.csv: reference curve needs the columns mass and limit; missing \['limit', 'mass'\]"
    ):
        read_reference_curve(bad)


def test_a_missing_file_fails_before_any_job(tmp_path):
    curves = [{"label": "A", "file": str(tmp_path / "nope.csv")}]
    with pytest.raises(ConfigError, match="plots.reference_curves: file\\(s\\) do not exist: .*nope.csv"):
        check_reference_curves(_channel(curves), where="zprime_invisible.yaml")

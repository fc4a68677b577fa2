"""Published limits from plots.reference_curves: files read, drawn on the right plot, checked early."""

from pathlib import Path

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


def test_a_digitised_step_keeps_its_order(tmp_path):
    """A vertical step repeats its mass; the stable sort keeps the file's order there."""
    step = tmp_path / "step.csv"
    step.write_text("mass,limit\n1.0,1.0\n2.0,1.0\n2.0,3.0\n2.0,2.0\n3.0,2.0\n")
    assert read_reference_curve(step)["limit"].tolist() == [1.0, 1.0, 3.0, 2.0, 2.0]


@pytest.mark.parametrize("channel_name", ["zprime_invisible", "alp_gammagamma"])
def test_the_published_curves_of_the_default_channels_read(channel_name, global_config, repo_root):
    """The default configs' curves exist, cite their source and hold limits in the scan's range."""
    from darkscan import config as cfg  # noqa: PLC0415

    channel = cfg.channel_config(global_config, channel_name)
    curves = channel["plots"]["reference_curves"]
    assert curves, f"{channel_name} has no published curve"
    for curve in curves:
        path = repo_root / curve["file"]
        text = path.read_text()
        assert text.startswith("# ") and "PRL" in text.split("mass,limit")[0]
        frame = read_reference_curve(path)
        assert len(frame) > 30 and (frame["limit"] > 0).all()
        assert frame["mass"].min() >= 0.1 and frame["mass"].max() <= 10.58


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "config" / "reference_curves").glob("*.csv")))
def test_stored_curves_name_their_source_and_read(path):
    """Every published curve in config/reference_curves cites its paper and digitisation and reads."""
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    assert any("PRL" in line or "Phys." in line for line in header), f"{path.name}: no publication in the header"
    assert any("digitised" in line or "HEPData" in line for line in header), f"{path.name}: origin not stated"
    frame = read_reference_curve(path)
    assert len(frame) >= 10 and (frame["limit"] > 0).all() and (frame["mass"] >= 0).all()


def test_babar_single_photon_curve_values():
    """Spot values of the BaBar 2017 single-photon limit as digitised (DarkCast table)."""
    frame = read_reference_curve(
        Path(__file__).parents[2] / "config/reference_curves/babar_prl119_131804_darkphoton_invisible_eps.csv"
    )
    assert len(frame) == 167 and frame["mass"].max() == pytest.approx(8.0, abs=1e-3)
    at = dict(zip(frame["mass"].round(3), frame["limit"], strict=True))
    assert at[1.0] == pytest.approx(9.6684e-4) and at[4.0] == pytest.approx(4.5614e-4)

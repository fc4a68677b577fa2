"""Reference images of the limit plots (matplotlib's compare_images), from a stored tiny scan.

The inputs are the tiny overlays' limits.csv and significance.json (tests/plots/data; Z' and the
dark-Higgsstrahlung maps). After a
deliberate change of the plots, regenerate the references and look at them::

    python tests/plots/test_limits_images.py
"""

from __future__ import annotations

import pathlib
import shutil
import sys

import pytest
from matplotlib.testing.compare import compare_images

from darkscan import config as cfg
from darkscan.plots.limits import plot_channel

HERE = pathlib.Path(__file__).resolve().parent
DATA, REFERENCE = HERE / "data", HERE / "reference"
STEMS = {"xsec": "limits_xsec", "coupling": "limits_coupling", "significance": "local_significance"}
#: curves drawn as published limits would be (test shapes, labelled so, not publications)
REFERENCE_CURVES = [
    {"label": "test curve (not a publication)", "file": "reference_coupling.csv", "quantity": "coupling"},
    {"label": "test curve (not a publication)", "file": "reference_xsec.csv", "quantity": "xsec", "cl": 0.95},
]
#: RMS difference allowed (0-255 grey levels): font hinting and antialiasing, not content
TOLERANCE = 2.0


def _draw(directory: pathlib.Path, name: str, data: str, *, prefix: str = "", curves=()) -> dict[str, pathlib.Path]:
    """The limit plots of the stored tiny scan ``data`` (``tests/plots/data/<data>_limits.csv`` and
    ``_significance.json``) of channel ``name`` at the tiny overlays' 0.3 fb^-1; returns the PNGs."""
    global_config = cfg.load_global(HERE.parents[1] / "config" / "config.yaml")
    channel = cfg.channel_config(global_config, name)
    channel["luminosity_fb"] = 0.3  # the tiny overlays'
    channel["plots"]["reference_curves"] = list(curves)
    experiment = cfg.experiment_config(global_config, "belle2")
    outputs = {
        f"{key}_{ext}": directory / f"{prefix}{stem}.{ext}" for key, stem in STEMS.items() for ext in ("png", "pdf")
    }
    plot_channel(
        DATA / f"{data}_limits.csv",
        channel=channel,
        experiment=experiment,
        outputs=outputs,
        significance_json=DATA / f"{data}_significance.json",
        reference_files=[DATA / curve["file"] for curve in curves],
    )
    return {stem: outputs[f"{key}_png"] for key, stem in STEMS.items()}


def render(directory: pathlib.Path) -> dict[str, pathlib.Path]:
    """The three limit plots of the stored tiny Z' scan, with test reference curves."""
    return _draw(directory, "zprime_invisible", "tiny_zprime", curves=REFERENCE_CURVES)


def render_2d(directory: pathlib.Path) -> dict[str, pathlib.Path]:
    """The coupling map (one panel per coupling scenario) of the stored tiny dark-Higgsstrahlung
    scan, as ``limits_coupling_2d``."""
    return {
        "limits_coupling_2d": _draw(directory, "dark_higgsstrahlung", "tiny_dark_higgs", prefix="2d_")[
            "limits_coupling"
        ]
    }


@pytest.mark.parametrize("stem", list(STEMS.values()))
def test_limit_plot_matches_its_reference_image(repo_root, tmp_path, stem):
    drawn = render(tmp_path)[stem]
    assert compare_images(str(REFERENCE / f"{stem}.png"), str(drawn), tol=TOLERANCE) is None


def test_2d_coupling_map_matches_its_reference_image(repo_root, tmp_path):
    drawn = render_2d(tmp_path)["limits_coupling_2d"]
    assert compare_images(str(REFERENCE / "limits_coupling_2d.png"), str(drawn), tol=TOLERANCE) is None


if __name__ == "__main__":
    import os
    import tempfile

    os.chdir(HERE.parents[1])
    with tempfile.TemporaryDirectory() as tmp:
        for stem, path in {**render(pathlib.Path(tmp)), **render_2d(pathlib.Path(tmp))}.items():
            shutil.copy(path, REFERENCE / f"{stem}.png")
            print(f"wrote {REFERENCE / stem}.png", file=sys.stderr)

"""Palette PNGs for the browser (darkscan.images)."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from PIL import Image

from darkscan.images import compact_png

matplotlib.use("Agg")


def _plot_png() -> bytes:
    mplhep.style.use("ROOT")
    fig, ax = plt.subplots()
    rng = np.random.default_rng(1)
    mplhep.histplot(np.histogram(rng.normal(size=5000), bins=40), ax=ax, histtype="fill", hatch="///", label="MC")
    ax.errorbar(np.linspace(-3, 3, 40), rng.poisson(100, 40), yerr=10, fmt="ko", label="data")
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    plt.close(fig)
    return buffer.getvalue()


def test_a_plot_shrinks_and_looks_the_same():
    original = _plot_png()
    compact = compact_png(original)
    assert len(compact) < 0.6 * len(original)
    before = np.asarray(Image.open(io.BytesIO(original)).convert("RGB"), float)
    after = np.asarray(Image.open(io.BytesIO(compact)).convert("RGB"), float)
    assert before.shape == after.shape
    assert np.sqrt(np.mean((before - after) ** 2)) < 2.0  # RMS in 0-255 grey levels: anti-aliasing only
    assert compact_png(original) == compact  # deterministic


def test_an_image_of_few_colours_keeps_every_pixel():
    stripes = np.zeros((64, 64, 3), dtype=np.uint8)
    stripes[:, ::2] = (255, 0, 0)
    stripes[::3] = (0, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(stripes).save(buffer, format="PNG")
    compact = compact_png(buffer.getvalue())
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(compact)).convert("RGB")), stripes)

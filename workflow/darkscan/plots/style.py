"""The look shared by every darkscan figure: mplhep's ROOT style, the experiment label with the
luminosity, the expected-band colours, and atomic PNG + PDF writing."""

from __future__ import annotations

import io
import os
import pathlib

import matplotlib.pyplot as plt
import mplhep

from darkscan import rootio
from darkscan.images import compact_png

#: expected +-1 / +-2 sigma bands, yellow and green as in the HEP convention
BAND_COLOURS = {"2": "#F5BB54", "1": "#607641"}


def use_style() -> None:
    """mplhep's ROOT style for the next figure."""
    mplhep.style.use("ROOT")


def experiment_label(ax, channel: dict, experiment: dict) -> None:
    """ "<experiment> Simulation" and the channel luminosity above the axes."""
    mplhep.label.exp_label(
        exp=experiment.get("label", experiment["name"]),
        llabel="Simulation",
        rlabel=rf"$\int L\,dt$ = {channel['luminosity_fb']:g} fb$^{{-1}}$",
        ax=ax,
    )


def limit_level(channel: dict) -> str:
    """ "90% CL", or "90% credibility" where the channel's limits are Bayesian (``fit.limit``)."""
    kind = "credibility" if channel.get("fit", {}).get("limit") == "bayesian" else "CL"
    return f"{100 * channel['cl']:.0f}% {kind}"


def write_figure(fig, path: str | os.PathLike, **savefig) -> None:
    """Write ``fig`` atomically in the format of ``path``'s suffix; a PNG as a 256-colour palette
    (:func:`darkscan.images.compact_png`). ``savefig``: options of ``Figure.savefig``."""
    kind = str(path).rsplit(".", 1)[-1]
    if kind == "png":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", **savefig)
        with rootio.atomic_path(path) as tmp:
            pathlib.Path(tmp).write_bytes(compact_png(buffer.getvalue()))
    else:
        with rootio.atomic_path(path) as tmp:
            fig.savefig(tmp, format=kind, **savefig)


def save_figure(fig, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Write ``fig`` as PNG (150 dpi, palette) and PDF (:func:`write_figure`) and close it."""
    write_figure(fig, png, dpi=150, bbox_inches="tight")
    write_figure(fig, pdf, bbox_inches="tight")
    plt.close(fig)

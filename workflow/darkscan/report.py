"""Facts for the captions of ``snakemake --report``, one object per channel.

Snakemake renders each caption (``workflow/report/*.rst``, Jinja2) when the report is built,
after the run, with the job's ``params``. The rules whose outputs the report shows carry a
:class:`ReportFacts` as ``params.facts``: the captions call its methods, which read the channel's
results only then. Being no builtin value, Snakemake leaves it out of the params it compares for
rerun triggers, so a caption's wording never reruns a job.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib


@dataclasses.dataclass(frozen=True)
class ReportFacts:
    """What a caption states about one channel's build.

    Attributes:
        channel: channel name.
        description: one sentence on the search (``hepdata.description``, or empty).
        data_source: ``pseudo`` or ``files`` (``data.source``).
        significance: path of the channel's ``significance.json``.
        luminosity_fb: the channel luminosity.
        cl: confidence (credibility) level of the limits.
        bayesian: whether the limits are Bayesian (``fit.limit``).
        unit: unit of the scanned masses.
    """

    channel: str
    description: str
    data_source: str
    significance: str
    luminosity_fb: float
    cl: float
    bayesian: bool = False
    unit: str = "GeV"

    def level(self) -> str:
        """``90% CL``, or ``90% credibility`` for Bayesian limits."""
        return f"{100 * self.cl:.0f}% {'credibility' if self.bayesian else 'CL'}"

    def luminosity(self) -> str:
        """``79.7 fb^-1 of background-only pseudo-data`` (or of data)."""
        return f"{self.luminosity_fb:g} fb^-1 of {self.data()}"

    def process(self) -> str:
        """The search in one sentence (the channel's name where it has no description)."""
        return self.description or f"Channel {self.channel}."

    def data(self) -> str:
        """``pseudo-data`` (background-only, drawn from the background model) or ``data``."""
        return "background-only pseudo-data" if self.data_source == "pseudo" else "data"

    def excess(self) -> str:
        """The largest local excess and its global significance, from ``significance.json``."""
        path = pathlib.Path(self.significance)
        if not path.is_file():
            return "The look-elsewhere result (significance.json) is not built yet."
        summary = json.loads(path.read_text())
        where = f"{summary['mass_at_max']:.4g}"
        if summary.get("mass2_at_max") is not None:
            where = f"({where}, {summary['mass2_at_max']:.4g})"
        z_global = summary["z_global"]
        z_text = f"{z_global:.2f}" if math.isfinite(z_global) else "not computed"
        return (
            f"Largest local excess: Z_local = {summary['z_local_max']:.2f} at {where} {self.unit}; "
            f"global significance {z_text} (p_global = {summary['p_global']:.3g}, "
            f"{summary['toys']} background-only pseudo-experiments)."
        )


def report_facts(channel: dict, *, results_dir: str | pathlib.Path) -> ReportFacts:
    """The :class:`ReportFacts` of a resolved channel config whose results are in ``results_dir``."""
    return ReportFacts(
        channel=channel["name"],
        description=(channel.get("hepdata") or {}).get("description", ""),
        data_source=channel["data"]["source"],
        significance=str(pathlib.Path(results_dir) / "significance.json"),
        luminosity_fb=float(channel["luminosity_fb"]),
        cl=float(channel["cl"]),
        bayesian=channel["fit"].get("limit") == "bayesian",
        unit=channel["fit"].get("unit", "GeV"),
    )

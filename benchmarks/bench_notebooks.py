"""Time the validation notebook of each channel on a finished default build, and its HTML size.

Renders ``notebooks/validation.ipynb`` with the parameters the ``render_validation`` rule passes
(``darkscan.notebooks.execute_notebook``), one channel after the other, into a temporary
directory (the build's own outputs stay untouched). The baseline in the same command is an empty
notebook through the same papermill and nbconvert path (kernel start and export), so the
figures are meaningful on a shared machine. The notebook and the package are this checkout's
(they change together); the build supplies the inputs and the config::

    python benchmarks/bench_notebooks.py --repo /tmp/full/repo --output results.json

``--repo`` is a repository copy with a finished default build; its config is used.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys
import tempfile
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from darkscan import config as cfg  # noqa: E402
from darkscan.notebooks import execute_notebook  # noqa: E402
from darkscan.stage_inputs import stage_params  # noqa: E402

log = logging.getLogger("bench_notebooks")
CHANNELS = ("zprime_invisible", "alp_gammagamma", "dark_higgsstrahlung")


def _parameters(channel: dict, experiment: dict, results: pathlib.Path) -> dict:
    """The notebook parameters of the render_validation rule for one channel."""
    folder = results / ("mva/selected" if channel.get("mva") else "selected")
    names = [*cfg.sample_names(channel), "data"]
    control = results / "mva" / "control_samples.json"
    return {
        "channel": channel["name"],
        "results_dir": str(results),
        "stage_json": json.dumps(stage_params("render_validation", channel, experiment)),
        "selected_json": json.dumps({name: str(folder / f"{name}.root") for name in names}),
        "mva_summary": str(results / "mva" / "working_points.json") if channel.get("mva") else "",
        "control_summary": str(control) if control.is_file() else "",
        "significance_json": str(results / "significance.json"),
        "calibration_json": str(results / "calibration.json"),
        "calibration_png": str(results / "plots" / "calibration.png"),
    }


def _timed(template, out: pathlib.Path, parameters: dict) -> tuple[float, int]:
    start = time.perf_counter()
    execute_notebook(template, out.with_suffix(".ipynb"), out.with_suffix(".html"), parameters=parameters)
    return time.perf_counter() - start, out.with_suffix(".html").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=pathlib.Path, required=True, help="repository with a finished default build")
    parser.add_argument("--output", type=pathlib.Path, help="JSON file for the figures")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    repo = args.repo.resolve()
    os.chdir(repo)
    config = cfg.load_global()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
        empty = nbformat.v4.new_notebook(metadata={"kernelspec": kernel})
        nbformat.write(empty, tmp / "empty.ipynb")
        figures["baseline_empty_notebook_s"], _ = _timed(tmp / "empty.ipynb", tmp / "empty_out", {})
        for name in CHANNELS:
            if name not in cfg.enabled_channels(config):
                continue
            channel = cfg.channel_config(config, name)
            experiment = cfg.experiment_config(config, channel["experiment"])
            parameters = _parameters(channel, experiment, repo / "results" / name)
            seconds, size = _timed(ROOT / "notebooks" / "validation.ipynb", tmp / name, parameters)
            figures[name] = {
                "seconds": round(seconds, 2),
                "ratio_to_baseline": round(seconds / figures["baseline_empty_notebook_s"], 2),
                "html_bytes": size,
            }
            log.info(
                "%s: %.1f s (%.1fx the empty notebook), HTML %.2f MB",
                name,
                seconds,
                seconds / figures["baseline_empty_notebook_s"],
                size / 1e6,
            )
    if args.output:
        args.output.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()

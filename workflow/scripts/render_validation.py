"""Execute the validation notebook of a channel (darkscan.notebooks.execute_notebook)."""

import json

from darkscan.notebooks import execute_notebook
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)  # fails early on a malformed slice
execute_notebook(
    snakemake.input.notebook,
    snakemake.output.notebook,
    snakemake.output.html,
    parameters={
        "channel": channel["name"],
        "results_dir": snakemake.params.results,
        "stage_json": json.dumps(snakemake.params.config),
        "selected_json": json.dumps(dict(zip(snakemake.params.samples, snakemake.input.selected, strict=True))),
        "mva_summary": snakemake.input.mva[0] if snakemake.input.mva else "",
        "control_summary": snakemake.input.control[0] if snakemake.input.control else "",
        "significance_json": snakemake.input.significance,
        "calibration_json": snakemake.input.calibration,
        "calibration_png": snakemake.input.calibration_plot,
    },
)

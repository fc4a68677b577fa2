"""Execute the validation notebook of a channel (darkscan.notebooks.execute_notebook)."""

import json

from darkscan.notebooks import execute_notebook
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
execute_notebook(
    snakemake.input.notebook,
    snakemake.output.notebook,
    snakemake.output.html,
    parameters={"channel": channel["name"], "results_dir": snakemake.params.results, "channel_json": json.dumps(channel), "experiment_json": json.dumps(experiment)},
)

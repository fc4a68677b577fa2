"""Aggregate the systematic uncertainties of a channel (darkscan.systematics.aggregate)."""

import json

from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs
from darkscan.stats.methods import get_method
from darkscan.systematics.aggregate import build_table
from darkscan.systematics.table import write_table

setup_logging(snakemake.log[0])
channel, experiment = declared_configs(snakemake.params.config)
model = get_method(channel).load_signal_model(list(snakemake.input.signal), channel=channel)
controls = None
if snakemake.input.control:
    with open(snakemake.input.control[0]) as f:
        controls = json.load(f)
rows = build_table(channel, experiment, model, controls=controls)
write_table(rows, snakemake.output.csv, snakemake.output.tex, channel_name=channel["name"])

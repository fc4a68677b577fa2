"""Aggregate the systematic uncertainties of a channel (darkscan.systematics.aggregate)."""

from darkscan.snakemake_support import channel_and_experiment, setup_logging
from darkscan.stats.methods import get_method
from darkscan.systematics.aggregate import build_table, write_table

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
model = get_method(channel).load_signal_model(list(snakemake.input.signal), channel=channel)
rows = build_table(channel, experiment, model)
write_table(rows, snakemake.output.csv, snakemake.output.tex, channel_name=channel["name"])

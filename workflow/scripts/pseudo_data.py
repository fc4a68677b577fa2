"""Concatenate the pseudo-data chunks into data.root (darkscan.generate.sample.merge_data)."""

from darkscan.generate.sample import merge_data
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, _ = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
merge_data(list(snakemake.input.chunks), snakemake.output.data, channel=channel, compression=snakemake.params.compression)

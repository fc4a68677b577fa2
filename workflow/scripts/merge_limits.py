"""Merge the scan parts into limits.csv (darkscan.stats.run.merge_parts)."""

from darkscan.snakemake_support import channel_and_experiment, setup_logging
from darkscan.stats.run import merge_parts

setup_logging(snakemake.log[0])
channel, _ = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
merge_parts(list(snakemake.input.parts), snakemake.output.limits, channel=channel)

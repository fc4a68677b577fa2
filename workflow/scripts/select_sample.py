"""Select one sample (darkscan.select.selection.select_sample)."""

from darkscan.select.selection import select_sample
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
select_sample(
    snakemake.input.sample,
    snakemake.output.selected,
    snakemake.output.cutflow,
    channel=channel,
    experiment=experiment,
    sample=snakemake.wildcards.sample,
    compression=snakemake.params.compression,
)

"""Select one sample, or one part of the data, which may be empty (darkscan.select.selection.select_sample)."""

from darkscan.select.selection import select_sample
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
data_part = "data_part" in snakemake.wildcards.keys()  # rule select_data_part
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
select_sample(
    snakemake.input.sample,
    snakemake.output.selected,
    snakemake.output.cutflow,
    channel=channel,
    experiment=experiment,
    sample="data" if data_part else snakemake.wildcards.sample,
    compression=snakemake.params.compression,
    allow_empty=data_part,
)

"""Select one part of the data (darkscan.select.selection.select_sample); a part may be empty."""

from darkscan.select.selection import select_sample
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
select_sample(
    snakemake.input.part,
    snakemake.output.selected,
    snakemake.output.cutflow,
    channel=channel,
    experiment=experiment,
    sample="data",
    compression=snakemake.params.compression,
    allow_empty=True,
)

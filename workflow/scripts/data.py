"""selected/data.root: the selected parts of the data concatenated (darkscan.select.selection.merge_data_parts)."""

from darkscan.select.selection import merge_data_parts
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, _ = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
merge_data_parts(
    list(snakemake.input.selected),
    list(snakemake.input.cutflows),
    snakemake.output.selected,
    snakemake.output.cutflow,
    channel=channel,
    compression=snakemake.params.compression,
)

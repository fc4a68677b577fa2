"""selected/data.root: the selected parts of the data concatenated (darkscan.select.selection.merge_data_parts)."""

from darkscan.select.selection import merge_data_parts
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
merge_data_parts(
    list(snakemake.input.selected),
    list(snakemake.input.cutflows),
    snakemake.output.selected,
    snakemake.output.cutflow,
    channel=channel,
    compression=snakemake.params.compression,
)

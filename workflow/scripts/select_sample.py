"""Select one sample, or one part of the data, which may be empty (darkscan.select.selection.select_sample)."""

from darkscan.select.selection import select_sample
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
data_part = "data_part" in snakemake.wildcards.keys()  # rule select_data_part
channel, experiment = declared_configs(snakemake.params.config)
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

"""Import one of the channel's own ROOT files as a part of the data (darkscan.generate.realdata)."""

from darkscan.generate.realdata import import_data
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
import_data(
    [snakemake.input[0]],
    snakemake.output.part,
    channel=channel,
    compression=snakemake.params.compression,
    allow_empty=True,
)

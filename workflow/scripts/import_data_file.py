"""Import one of the channel's own ROOT files as a part of the data (darkscan.generate.realdata)."""

from darkscan.generate.realdata import import_data
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, _ = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
import_data([snakemake.input[0]], snakemake.output.part, channel=channel, compression=snakemake.params.compression, allow_empty=True)

"""data.root: the pseudo-data chunks merged, or the channel's own ntuples imported."""

from darkscan.generate.realdata import import_data
from darkscan.generate.sample import merge_data
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, _ = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
if channel["data"]["source"] == "files":
    import_data(list(snakemake.input.chunks), snakemake.output.data, channel=channel, compression=snakemake.params.compression)
else:
    merge_data(list(snakemake.input.chunks), snakemake.output.data, channel=channel, compression=snakemake.params.compression)

"""One chunk of the pseudo-data from one component (darkscan.generate.sample.produce_data_chunk)."""

from darkscan import rootio
from darkscan.generate.sample import data_component, produce_data_chunk
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
component, xsec = data_component(channel, snakemake.wildcards.component, rootio.read_metadata(snakemake.input.mc)["xsec_fb"])
produce_data_chunk(
    snakemake.output.chunk,
    channel=channel,
    experiment=experiment,
    component=component,
    chunk=int(snakemake.wildcards.chunk),
    n_chunks=snakemake.params.n_chunks,
    xsec_fb=xsec,
    seed=snakemake.params.generation["seed"],
    oversample=channel["data"]["oversample"],
    chunk_events=snakemake.config["chunk_events"],
    compression=snakemake.params.compression,
)

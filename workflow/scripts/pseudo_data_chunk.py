"""One chunk of the pseudo-data, every component (darkscan.generate.sample.produce_data_chunk)."""

from darkscan.generate.sample import Unweighting, produce_data_chunk
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
produce_data_chunk(
    snakemake.output.chunk,
    channel=channel,
    experiment=experiment,
    components=snakemake.params.generation["components"],
    chunk=int(snakemake.wildcards.chunk),
    n_chunks=snakemake.params.n_chunks,
    seed=snakemake.params.generation["seed"],
    unweighting=Unweighting.from_config(snakemake.params.generation["data"]),
    chunk_events=snakemake.config["chunk_events"],
    compression=snakemake.params.compression,
)

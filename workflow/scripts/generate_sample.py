"""Generate one MC sample (thin wrapper around darkscan.generate.sample.produce_sample)."""

from darkscan.generate.sample import produce_sample
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
produce_sample(
    snakemake.output.sample,
    channel=channel,
    experiment=experiment,
    sample=snakemake.wildcards.sample,
    seed=snakemake.params.generation["seed"],
    chunk_events=snakemake.params.generation["chunk_events"],
    compression=snakemake.params.compression,
)

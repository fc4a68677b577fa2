"""Generate one MC sample (thin wrapper around darkscan.generate.sample.produce_sample)."""

from darkscan.generate.sample import produce_sample
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, experiment = declared_configs(snakemake.params.config)
produce_sample(
    snakemake.output.sample,
    channel=channel,
    experiment=experiment,
    sample=snakemake.wildcards.sample,
    seed=snakemake.params.globals["seed"],
    chunk_events=snakemake.params.globals["chunk_events"],
    compression=snakemake.params.globals["compression"],
)

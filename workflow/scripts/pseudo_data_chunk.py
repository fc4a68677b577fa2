"""One chunk of the pseudo-data, every component (darkscan.generate.sample.produce_data_chunk)."""

from darkscan.config import data_components
from darkscan.generate.sample import Unweighting, produce_data_chunk
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, experiment = declared_configs(snakemake.params.config)
produce_data_chunk(
    snakemake.output.chunk,
    channel=channel,
    experiment=experiment,
    components=data_components(channel),
    chunk=int(snakemake.wildcards.chunk),
    n_chunks=snakemake.params.n_chunks,
    seed=snakemake.params.globals["seed"],
    unweighting=Unweighting.from_config(channel["data"]),
    chunk_events=snakemake.params.globals["chunk_events"],
    compression=snakemake.params.globals["compression"],
)

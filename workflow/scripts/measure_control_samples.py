"""Data/MC MVA efficiency in the control samples (thin wrapper around darkscan.mva.control)."""

from darkscan.mva.control import measure_control_samples
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
measure_control_samples(
    dict(zip(snakemake.params.background_samples, snakemake.input.backgrounds, strict=True)),
    snakemake.input.data,
    snakemake.output.control,
    channel=channel,
)

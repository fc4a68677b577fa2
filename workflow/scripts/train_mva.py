"""Train the MVA selection of a channel (thin wrapper around darkscan.mva.training.train_mva)."""

from darkscan.mva.training import train_mva
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
train_mva(
    dict(zip(snakemake.params.signal_samples, snakemake.input.signal, strict=True)),
    dict(zip(snakemake.params.background_samples, snakemake.input.backgrounds, strict=True)),
    channel=channel,
    global_seed=snakemake.params.seed,
    model_dir=snakemake.output.models,
    summary_path=snakemake.output.working_points,
)

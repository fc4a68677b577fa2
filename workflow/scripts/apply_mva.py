"""Apply the MVA selection to one sample (thin wrapper around darkscan.mva.apply.apply_mva)."""

from darkscan.mva.apply import apply_mva, load_models
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
boosters, summary = load_models(snakemake.input.models, snakemake.input.working_points)
apply_mva(
    snakemake.input.selected,
    snakemake.output.selected,
    cutflow_in=snakemake.input.cutflow,
    cutflow_out=snakemake.output.cutflow,
    boosters=boosters,
    summary=summary,
    channel=channel,
    sample=snakemake.wildcards.sample,
    compression=snakemake.params.compression,
)

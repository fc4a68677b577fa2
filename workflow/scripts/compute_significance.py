"""Look-elsewhere correction of a channel's scan (the write_significance of its fit method, darkscan.stats.methods)."""

from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs
from darkscan.stats.methods import get_method

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
get_method(channel).write_significance(
    snakemake.input.limits,
    snakemake.input.histograms,
    snakemake.output.significance,
    channel=channel,
    seed=snakemake.params.seed,
    workspace_dirs=list(snakemake.input.workspaces),
)

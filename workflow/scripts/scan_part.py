"""Fit one part of the mass scan (the scan_part of the channel's fit method, darkscan.stats.methods)."""

from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs
from darkscan.stats.methods import get_method

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
get_method(channel).scan_part(
    channel=channel,
    signal_files=list(snakemake.input.signal),
    histograms_path=snakemake.input.histograms,
    systematics_path=snakemake.input.systematics,
    part=int(snakemake.wildcards.part),
    n_parts=snakemake.params.n_parts,
    out_csv=snakemake.output.limits,
    workspace_dir=snakemake.output.workspaces,
    seed=snakemake.params.seed,
)

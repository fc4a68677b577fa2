"""Calibrate a channel's scan on pseudo-experiments (darkscan.stats.calibration); reads only params and input."""

import matplotlib

matplotlib.use("Agg")  # figures go to files, whatever display the job sees

from darkscan.plots.calibration import plot_calibration
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs
from darkscan.stats.methods import get_calibrator

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
get_calibrator(channel)(
    channel=channel,
    seed=snakemake.params.seed,
    limits_csv=snakemake.input.limits,
    histograms_path=snakemake.input.histograms,
    systematics_path=snakemake.input.systematics,
    workspace_dirs=list(snakemake.input.workspaces),
    significance_json=snakemake.input.significance,
    out_json=snakemake.output.calibration,
)
plot_calibration(
    snakemake.output.calibration,
    snakemake.input.significance,
    list(snakemake.output.plots),
    title=f"{channel['name']}: calibration on pseudo-experiments",
)

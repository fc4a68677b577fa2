"""Draw the limit plots of a channel (darkscan.plots.limits)."""

import matplotlib

matplotlib.use("Agg")  # figures go to files, whatever display the job sees

from darkscan.plots.limits import plot_channel
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, experiment = declared_configs(snakemake.params.config)
plot_channel(
    snakemake.input.limits,
    channel=channel,
    experiment=experiment,
    outputs=dict(snakemake.output),
    significance_json=snakemake.input.significance,
    reference_files=list(snakemake.input.reference_curves),
)

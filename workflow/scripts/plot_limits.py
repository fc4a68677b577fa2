"""Draw the limit plots of a channel (darkscan.plots.limits)."""

from darkscan.plots.limits import plot_channel
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, experiment = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
plot_channel(snakemake.input.limits, channel=channel, experiment=experiment, outputs=dict(snakemake.output), significance_json=snakemake.input.significance)

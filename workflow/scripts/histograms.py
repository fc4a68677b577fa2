"""Fill the fit-variable histograms of every sample (darkscan.select.histograms)."""

from darkscan.select.histograms import fill_histograms
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channel, _ = channel_and_experiment(snakemake.config, snakemake.wildcards.channel)
samples = [path.rsplit("/", 1)[-1].removesuffix(".root") for path in snakemake.input.selected]
fill_histograms(dict(zip(samples, snakemake.input.selected)), snakemake.output.histograms, channel=channel, compression=snakemake.params.compression)

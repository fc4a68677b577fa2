"""Fill the fit-variable histograms of every sample (darkscan.select.histograms)."""

from darkscan.select.histograms import fill_histograms
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
samples = [path.rsplit("/", 1)[-1].removesuffix(".root") for path in snakemake.input.selected]
fill_histograms(
    dict(zip(samples, snakemake.input.selected, strict=False)),
    snakemake.output.histograms,
    channel=channel,
    compression=snakemake.params.compression,
)

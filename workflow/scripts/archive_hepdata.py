"""Build and validate the HEPData submission of every enabled channel (darkscan.archive.hepdata)."""

from darkscan.archive.hepdata import build_submission
from darkscan.snakemake_support import channel_and_experiment, setup_logging

setup_logging(snakemake.log[0])
channels = {name: channel_and_experiment(snakemake.config, name) for name in snakemake.params.channels}
build_submission(snakemake.output.submission, channels=channels)

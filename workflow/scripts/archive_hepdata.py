"""Build and validate the HEPData submission of every enabled channel (darkscan.archive.hepdata)."""

from darkscan.archive.hepdata import build_submission
from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs

setup_logging(snakemake.log[0])
channels = {name: declared_configs(params) for name, params in snakemake.params.configs.items()}
build_submission(snakemake.output.submission, channels=channels)

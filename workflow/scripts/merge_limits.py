"""Merge the scan parts into limits.csv (darkscan.stats.scan.merge_parts)."""

from darkscan.snakemake_support import setup_logging
from darkscan.stage_inputs import declared_configs
from darkscan.stats.scan import merge_parts

setup_logging(snakemake.log[0])
channel, _ = declared_configs(snakemake.params.config)
merge_parts(list(snakemake.input.parts), snakemake.output.limits, channel=channel)

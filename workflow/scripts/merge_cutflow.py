"""Merge per-sample cut flows into cutflow.csv."""

from darkscan.select.selection import merge_cutflows
from darkscan.snakemake_support import setup_logging

setup_logging(snakemake.log[0])
merge_cutflows(list(snakemake.input), snakemake.output[0])

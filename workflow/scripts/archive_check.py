"""Check the archive named by latest.json against its MANIFEST (darkscan.archive.verify)."""

from darkscan.archive.verify import check_pointer
from darkscan.snakemake_support import setup_logging

setup_logging(snakemake.log[0])
check_pointer(snakemake.input.pointer)

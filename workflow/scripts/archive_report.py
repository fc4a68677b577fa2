"""Write the `snakemake --report` of the run (darkscan.archive.report)."""

from darkscan.archive.report import snakemake_report
from darkscan.snakemake_support import setup_logging

setup_logging(snakemake.log[0])
snakemake_report(
    snakemake.output.report,
    snakefile=snakemake.params.snakefile,
    config=snakemake.params.config,
    log_file=snakemake.log[0],
)

"""Write the checksummed results archive and its pointer latest.json (darkscan.archive.tarball)."""

from darkscan.archive.tarball import build_archive
from darkscan.snakemake_support import setup_logging

setup_logging(snakemake.log[0])
build_archive(
    snakemake.output.pointer,
    archive_dir=snakemake.params.archive_dir,
    name=snakemake.params.name,
    channels=snakemake.params.channels,
    config=snakemake.config,
    root=snakemake.params.root,
    hepdata=snakemake.input.hepdata,
    report=snakemake.input.report,
    results_dir=snakemake.params.results,
    overwrite=bool(snakemake.config.get("archive_overwrite", False)),
)

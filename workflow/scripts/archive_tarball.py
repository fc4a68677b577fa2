"""Write the checksummed results archive and its pointer latest.json (darkscan.archive.tarball)."""

import os

from darkscan.archive.tarball import build_archive, overwrite_allowed
from darkscan.snakemake_support import setup_logging

setup_logging(snakemake.log[0])
build_archive(
    snakemake.output.pointer,
    archive_dir=os.path.dirname(snakemake.output.pointer),
    name=snakemake.params.name,
    channels=snakemake.params.channels,
    config=snakemake.params.config,
    resolved=snakemake.params.resolved,
    root=snakemake.params.root,
    hepdata=snakemake.input.hepdata,
    report=snakemake.input.report,
    overwrite=overwrite_allowed(snakemake.params.config),
)

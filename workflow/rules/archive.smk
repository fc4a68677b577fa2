# Archive for publication: `snakemake --cores all archive` builds results/archive/ from every
# enabled channel. Not part of the default target: an archive is made on purpose, once per commit.
#
# The tarball is written by darkscan.archive.tarball under a name Snakemake does not own
# (darkscan-<channels>-<commit>.tar.gz); the rule's output is the pointer latest.json. Snakemake
# deletes a job's outputs before rerunning it, so owning the tarball would lose the old archive
# before any check could refuse; this way an existing archive of the same name with different
# content makes the job fail unless --config archive_overwrite=true.


rule package_hepdata:
    input:
        archive_inputs,
    output:
        submission=f"{ARCHIVE_DIR}/hepdata/submission.tar.gz",
    log:
        "logs/archive/hepdata.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        configs={
            channel: stage_params("archive_hepdata", channel_cfg(channel), experiment_cfg(channel))
            for channel in CHANNELS
        },
    script:
        "../scripts/archive_hepdata.py"


rule render_report:
    input:
        archive_inputs,
    output:
        report=f"{ARCHIVE_DIR}/report.zip",
    log:
        "logs/archive/report.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        snakefile=workflow.main_snakefile,
        config=CONFIG,
    script:
        "../scripts/archive_report.py"


rule pack_archive:
    input:
        results=archive_inputs,
        hepdata=rules.package_hepdata.output.submission,
        report=rules.render_report.output.report,
    output:
        pointer=f"{ARCHIVE_DIR}/latest.json",
    log:
        "logs/archive/tarball.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    params:
        name=ARCHIVE_NAME,
        channels=CHANNELS,
        config=CONFIG,
        resolved={"channels": CHANNEL_CONFIGS, "experiments": EXPERIMENT_CONFIGS},
        root=workflow.basedir,
    script:
        "../scripts/archive_tarball.py"


rule archive:
    input:
        pointer=rules.pack_archive.output.pointer,
    log:
        "logs/archive/check.log",
    localrule: True
    conda:
        "../../envs/darkscan.yaml"
    script:
        "../scripts/archive_check.py"

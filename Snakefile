# darkscan: dark-sector searches at e+e- colliders, rebuilt from raw inputs.
# `snakemake --cores all` builds every enabled channel; see README.md.
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/mva.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/systematics.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/archive.smk"


# One rule set per search channel (`darkscan new-channel NAME` adds one; nothing here changes).
for channel_rules in sorted(Path(workflow.basedir).glob("workflow/rules/channels/*.smk")):

    include: str(channel_rules)


# A killed job leaves its temporary output (darkscan.rootio.atomic_path); no job runs yet here.
onstart:
    preflight.remove_stale_temporaries("results")


rule all:
    default_target: True
    input:
        get_final_output(),

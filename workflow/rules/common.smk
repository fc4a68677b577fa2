# Input functions, wildcard constraints and config validation. No physics here: everything
# is delegated to the darkscan package (workflow/darkscan).
import functools
import os
import sys
from pathlib import Path

# Each job is single-threaded (one job per core): multithreaded BLAS only slows numpy's many
# small matrix products here (measured in benchmarks/RESULTS.md). Jobs inherit this.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Jobs import the darkscan package next to this Snakefile (not whatever copy is installed), so
# a rebuild from an archived source tree runs the archived code.
PACKAGE_DIR = str(Path(workflow.basedir) / "workflow")
sys.path.insert(0, PACKAGE_DIR)
os.environ.update(PYTHONPATH=PACKAGE_DIR)

from darkscan import config as dsconfig
from darkscan import preflight
from darkscan import report as dsreport
from darkscan.archive import provenance
from darkscan.stage_inputs import stage_inputs, stage_params

# One validation of the merged config against workflow/schemas/config.schema.yaml (defaults
# filled): darkscan's, whose errors name an unknown key with the closest valid one.
CONFIG = dsconfig.validate(dsconfig.as_plain(config), "config", where="config.yaml and overlays")
CHANNELS = dsconfig.enabled_channels(CONFIG)
# Schema and semantic validation of every enabled channel before any job runs.
CHANNEL_CONFIGS = {name: dsconfig.channel_config(CONFIG, name) for name in CHANNELS}
EXPERIMENT_CONFIGS = {
    c["experiment"]: dsconfig.experiment_config(CONFIG, c["experiment"]) for c in CHANNEL_CONFIGS.values()
}
SCAN_PARTS = list(range(CONFIG["scan_jobs"]))
# Names checked against the registries (variables, cuts, processes, data files) before any job;
# jobs (cluster jobs parse the Snakefile too) skip it.
if workflow.is_main_process:
    preflight.check_channels_cached(
        CHANNEL_CONFIGS,
        where={name: CONFIG["channels"][name]["config"] for name in CHANNELS},
        cache_dir=Path(".snakemake") / "darkscan",
        sqrt_s={
            name: dsconfig.Beams(**EXPERIMENT_CONFIGS[c["experiment"]]["beams"]).sqrt_s
            for name, c in CHANNEL_CONFIGS.items()
        },
    )


wildcard_constraints:
    channel="|".join(CHANNELS) or "NO_CHANNEL",
    sample="[a-z][a-z0-9_]*",
    part=r"\d+",


def channel_cfg(channel):
    return CHANNEL_CONFIGS[channel]


def report_facts(wildcards):
    """What the report captions state of a channel (darkscan.report; read at report time, never a
    rerun trigger)."""
    return dsreport.report_facts(channel_cfg(wildcards.channel), results_dir=f"results/{wildcards.channel}")


def experiment_cfg(channel):
    return EXPERIMENT_CONFIGS[channel_cfg(channel)["experiment"]]


def mc_samples(channel):
    return dsconfig.sample_names(channel_cfg(channel))


def signal_samples(channel):
    return [dsconfig.signal_sample_name(m) for m in channel_cfg(channel)["signal"]["masses"]]


def background_samples(channel):
    return list(channel_cfg(channel)["backgrounds"])


# Parts of the data: `chunk{index}` (pseudo-data: a slice of the luminosity with every
# component) or `file{index}` (the channel's own ROOT files).
DATA_PART_PATTERN = r"chunk\d+|file\d+"


def data_part_names(channel):
    """The data's parts: one per pseudo-data chunk, or one per real-data file."""
    cfg = channel_cfg(channel)
    if cfg["data"]["source"] == "files":
        return [f"file{index}" for index in range(len(cfg["data"]["files"]))]
    return [f"chunk{index}" for index in range(dsconfig.data_chunks(CONFIG, cfg))]


def data_parts(channel, pattern):
    return [pattern.format(channel=channel, part=part) for part in data_part_names(channel)]


def data_file(wildcards):
    """The real-data file imported as part `file{index}` (data.source: files)."""
    return channel_cfg(wildcards.channel)["data"]["files"][int(wildcards.index)]


def all_samples(channel):
    return mc_samples(channel) + ["data"]


def uses_mva(channel):
    """The channel ends its selection with the MVA (channel key `mva`, workflow/rules/mva.smk)."""
    return bool(channel_cfg(channel).get("mva"))


def control_sample_files(wildcards):
    """The channel's control-sample measurement (workflow/rules/mva.smk), if it has control samples."""
    if channel_cfg(wildcards.channel).get("control_samples"):
        return [f"results/{wildcards.channel}/mva/control_samples.json"]
    return []


def selected_files(channel, samples):
    """The fully selected events of each sample: after the MVA where the channel has one."""
    folder = "mva/selected" if uses_mva(channel) else "selected"
    return [f"results/{channel}/{folder}/{sample}.root" for sample in samples]


def cutflow_files(channel):
    """The per-sample cut flows that make cutflow.csv (with the MVA row where the channel has one)."""
    folder = "mva/cutflow" if uses_mva(channel) else "cutflow"
    return [f"results/{channel}/{folder}/{sample}.csv" for sample in all_samples(channel)]


@functools.lru_cache(maxsize=None)
def _stage_params(stage, channel, sample):
    # the configs are fixed for a run: every chunk or part of a channel shares one slice
    return stage_params(stage, channel_cfg(channel), experiment_cfg(channel), sample=sample)


def stage_config(stage):
    """``params`` of a rule: the slice of its channel's config that ``stage`` reads
    (darkscan.stage_inputs); its script reads no other config."""
    stage_inputs(stage)  # an unknown stage fails when the Snakefile is parsed

    def params(wildcards):
        return _stage_params(stage, wildcards.channel, wildcards.get("sample"))

    return params


def generation_globals(wildcards):
    """The global config a generation job reads (its seeds derive from `seed`)."""
    return {"seed": CONFIG["seed"], "chunk_events": CONFIG["chunk_events"], "compression": CONFIG["compression"]}


def n_data_chunks(wildcards):
    return dsconfig.data_chunks(CONFIG, channel_cfg(wildcards.channel))


def reference_curve_files(wildcards):
    """The published-limit files the channel's limit plots draw (plots.reference_curves)."""
    return [curve["file"] for curve in channel_cfg(wildcards.channel)["plots"]["reference_curves"]]


def channel_outputs(channel):
    return [
        f"results/{channel}/limits.csv",
        f"results/{channel}/significance.json",
        f"results/{channel}/calibration.json",
        f"results/{channel}/plots/calibration.png",
        f"results/{channel}/cutflow.csv",
        f"results/{channel}/systematics.csv",
        f"results/{channel}/systematics.tex",
        f"results/{channel}/validation.html",
        f"results/{channel}/plots/limits_xsec.png",
    ]


def get_final_output():
    return [path for channel in CHANNELS for path in channel_outputs(channel)]


# Archive (workflow/rules/archive.smk): the archive name carries the enabled channels and the commit.
ARCHIVE_DIR = "results/archive"
ARCHIVE_SOURCE = provenance.source_state(workflow.basedir)
ARCHIVE_NAME = provenance.archive_name(CHANNELS, ARCHIVE_SOURCE.short) if CHANNELS else "darkscan-none.tar.gz"


def archive_inputs(wildcards=None):
    """Every channel result the archive holds (workspaces are directories, one per scan job)."""
    files = []
    for channel in CHANNELS:
        files += channel_outputs(channel)
        files += [
            f"results/{channel}/plots/{stem}.{ext}"
            for stem in ("limits_xsec", "limits_coupling", "local_significance")
            for ext in ("png", "pdf")
        ]
        files += [f"results/{channel}/workspaces/part{part}" for part in SCAN_PARTS]
        if uses_mva(channel):  # the trained classifiers (LightGBM text or network JSON) and working points
            files += [f"results/{channel}/mva/models", f"results/{channel}/mva/working_points.json"]
    return sorted(set(files))
